"""A data set (features X, targets y, the task) and its one split into train, validation
and test rows, fixed by the job's seed so every candidate of a search sees the same rows.
Input scaling is the estimator's job, fitted on the training rows only.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    name: str
    X: np.ndarray
    y: np.ndarray
    task: str  # "classification" or "regression"
    feature_names: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


class DataError(ValueError):
    """A data set that cannot be read or used as the spec asks: a one-line refusal."""


def to_npz(data: Dataset) -> bytes:
    """The data set as npz bytes (X, y, and JSON metadata): the store's payload, no pickle."""
    y = data.y.astype(str) if data.y.dtype.kind in "OUS" else data.y
    meta = {"name": data.name, "task": data.task, "feature_names": list(data.feature_names)}
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, X=data.X, y=y, meta=np.array(json.dumps(meta)))
    return buf.getvalue()


def from_npz(payload: bytes) -> Dataset:
    """Rebuild a Dataset written by to_npz."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
        X, y, meta = arrays["X"], arrays["y"], json.loads(str(arrays["meta"]))
    return Dataset(meta["name"], X, y, meta["task"], tuple(meta["feature_names"]))


def split(data: Dataset, seed: int, test_fraction: float = 0.2, val_fraction: float = 0.2) -> Split:
    """Train / validation / test rows, stratified for classification, fixed by seed."""
    from sklearn.model_selection import train_test_split

    strat = data.y if data.task == "classification" else None
    X_rest, X_test, y_rest, y_test = train_test_split(
        data.X, data.y, test_size=test_fraction, random_state=seed, stratify=strat
    )
    strat = y_rest if data.task == "classification" else None
    X_tr, X_val, y_tr, y_val = train_test_split(
        X_rest,
        y_rest,
        test_size=val_fraction / (1 - test_fraction),
        random_state=seed,
        stratify=strat,
    )
    return Split(X_tr, y_tr, X_val, y_val, X_test, y_test)
