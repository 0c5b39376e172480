"""A data set (raw feature columns, targets, the task) and its one split into train,
validation and test rows, fixed by the job's seed so every candidate of a search sees the
same rows. What becomes of the raw columns (roles, encoding, imputation) is fitted on the
training rows only (nas.data.preprocess); input scaling is the estimator's job.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd


class DataError(ValueError):
    """A data set that cannot be read or used as the spec asks: a one-line refusal."""


@dataclass(frozen=True)
class Dataset:
    """Raw feature columns as read: float64 (NaN where missing) or text (None where
    missing), in the file's order; the target column's values in y."""

    name: str
    features: pd.DataFrame
    y: np.ndarray
    task: str  # "classification" or "regression"
    target: str = "target"
    task_note: str | None = field(default=None, compare=False)  # why, when it was inferred

    @classmethod
    def from_arrays(
        cls, name: str, X: np.ndarray, y: np.ndarray, task: str, feature_names: tuple[str, ...]
    ) -> Dataset:
        frame = pd.DataFrame(np.asarray(X, np.float64), columns=list(feature_names))
        return cls(name, frame, np.asarray(y), task)

    @cached_property
    def X(self) -> np.ndarray:
        """The features as a float matrix; only for data sets of numbers without gaps."""
        text = [c for c in self.features.columns if not _is_number(self.features[c])]
        if text:
            raise DataError(f"column {text[0]!r} holds text; preprocess the data set first")
        X = self.features.to_numpy(np.float64)
        if np.isnan(X).any():
            row, col = np.argwhere(np.isnan(X))[0]
            raise DataError(f"missing value in column {self.features.columns[col]!r}, row {row}")
        return X

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.features.columns)

    @property
    def n_rows(self) -> int:
        return len(self.features)

    @property
    def n_features(self) -> int:
        return self.features.shape[1]


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray  # no rows when the user keeps their own hold-out (test_fraction 0)
    y_test: np.ndarray


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def to_npz(data: Dataset) -> bytes:
    """The data set as npz bytes, no pickle: each raw column as an array (text columns
    with a mask of their missing cells), y, and JSON metadata (format 2)."""
    arrays: dict[str, np.ndarray] = {}
    kinds = []
    for j, name in enumerate(data.features.columns):
        column = data.features[name]
        if _is_number(column):
            kinds.append("number")
            arrays[f"column_{j}"] = column.to_numpy(np.float64)
        else:
            kinds.append("text")
            missing = column.isna().to_numpy(bool)
            arrays[f"column_{j}"] = np.array(["" if m else str(v) for v, m in zip(column, missing)])
            arrays[f"missing_{j}"] = missing
    arrays["y"] = data.y.astype(str) if data.y.dtype.kind in "OUS" else data.y
    meta = {
        "format": 2,
        "name": data.name,
        "task": data.task,
        "target": data.target,
        "columns": [str(c) for c in data.features.columns],
        "kinds": kinds,
    }
    arrays["meta"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def from_npz(payload: bytes) -> Dataset:
    """Rebuild a Dataset written by to_npz; a format-1 payload (encoded numbers X, as
    uploads were stored before raw columns were kept) reads as numeric columns."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
        meta = json.loads(str(arrays["meta"]))
        y = arrays["y"]
        if meta.get("format", 1) == 1:
            names = tuple(meta["feature_names"])
            return Dataset.from_arrays(meta["name"], arrays["X"], y, meta["task"], names)
        columns: dict[str, pd.Series] = {}
        for j, (name, kind) in enumerate(zip(meta["columns"], meta["kinds"])):
            values = arrays[f"column_{j}"]
            if kind == "number":
                columns[name] = pd.Series(values, dtype=np.float64)
            else:
                text = pd.Series(values, dtype=object)
                columns[name] = text.where(~arrays[f"missing_{j}"], None)
    frame = pd.DataFrame(columns)
    return Dataset(meta["name"], frame, y, meta["task"], meta["target"])


def split_rows(
    y: np.ndarray, task: str, seed: int, test_fraction: float = 0.2, val_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of train, validation and test, stratified for classification, fixed by
    seed. test_fraction 0: no test rows (the user keeps their own hold-out)."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    classification = task == "classification"
    rest, test = rows, rows[:0]
    if test_fraction > 0:
        strat = y if classification else None
        rest, test = train_test_split(
            rows, test_size=test_fraction, random_state=seed, stratify=strat
        )
    train, val = train_test_split(
        rest,
        test_size=val_fraction / (1 - test_fraction),
        random_state=seed,
        stratify=y[rest] if classification else None,
    )
    return train, val, test


def split(data: Dataset, seed: int, test_fraction: float = 0.2, val_fraction: float = 0.2) -> Split:
    """Train / validation / test rows of a data set of numbers (built-ins), fixed by seed."""
    train, val, test = split_rows(data.y, data.task, seed, test_fraction, val_fraction)
    X, y = data.X, data.y
    return Split(X[train], y[train], X[val], y[val], X[test], y[test])
