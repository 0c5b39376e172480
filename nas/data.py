"""Data sets: the built-in ones (shipped with scikit-learn, no download) and CSV files.

A Dataset is features X (float64), targets y and the task. Splits are made here, once, from
a seed, so every candidate of a search sees the same train, validation and test rows;
input scaling is the estimator's job and is fitted on the training rows only.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUILTINS = {
    "digits": "classification",
    "iris": "classification",
    "wine": "classification",
    "breast_cancer": "classification",
    "diabetes": "regression",
}
# Two-feature toy problems that need hidden layers; drawn from the job's seed.
SYNTHETIC = ("xor", "moons", "circles", "spirals")
SYNTHETIC_ROWS = 1000


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


def load_builtin(name: str, seed: int = 0) -> Dataset:
    """One of BUILTINS (scikit-learn's bundled copies) or SYNTHETIC (drawn from seed)."""
    if name in SYNTHETIC:
        return synthetic(name, seed)
    if name not in BUILTINS:
        allowed = sorted(BUILTINS) + list(SYNTHETIC)
        raise ValueError(f"dataset must be one of {allowed}; got {name!r}")
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    names = tuple(str(f) for f in getattr(bunch, "feature_names", range(bunch.data.shape[1])))
    return Dataset(
        name, np.asarray(bunch.data, np.float64), np.asarray(bunch.target), BUILTINS[name], names
    )


def synthetic(name: str, seed: int, n: int = SYNTHETIC_ROWS, noise: float = 0.1) -> Dataset:
    from sklearn.datasets import make_circles, make_moons

    rng = np.random.default_rng(seed)
    if name == "moons":
        X, y = make_moons(n, noise=noise * 2, random_state=seed)
    elif name == "circles":
        X, y = make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif name == "xor":
        X = rng.uniform(-1, 1, (n, 2))
        y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
        X += rng.normal(0, noise / 2, X.shape)
    elif name == "spirals":  # two interleaved arms, the classic hard case
        t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi
        y = rng.integers(0, 2, n)
        sign = np.where(y == 1, 1.0, -1.0)
        X = np.column_stack([sign * t * np.cos(t), sign * t * np.sin(t)]) / (3 * np.pi)
        X += rng.normal(0, noise / 4, X.shape)
    else:
        raise ValueError(f"synthetic dataset must be one of {list(SYNTHETIC)}; got {name!r}")
    return Dataset(name, np.asarray(X, np.float64), np.asarray(y), "classification", ("x0", "x1"))


class DataError(ValueError):
    """A data set that cannot be read or used as the spec asks: a one-line refusal."""


def load_csv(path: str | Path, target: str, task: str = "classification") -> Dataset:
    """A CSV file with a header row, numeric feature columns and the named target column."""
    try:
        return _load_csv(path, target, task)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DataError(str(exc)) from None


def _load_csv(path: str | Path, target: str, task: str) -> Dataset:
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}")
    with open(path, newline="") as handle:
        header = handle.readline().strip().split(",")
    if target not in header:
        raise ValueError(f"target column {target!r} is not in the CSV header {header}")
    raw = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=str, ndmin=2)
    if raw.size == 0:
        raise ValueError(f"{path} has no data rows")
    t = header.index(target)
    features = [i for i in range(len(header)) if i != t]
    cells = raw[:, features]
    missing = np.char.strip(cells) == ""
    if missing.any():
        row, col = np.argwhere(missing)[0]
        raise ValueError(f"missing value in column {header[features[col]]!r}, row {row + 2}")
    try:
        X = cells.astype(np.float64)
    except ValueError as exc:
        raise ValueError(f"feature columns must be numeric: {exc}") from None
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"non-finite value in column {header[features[col]]!r}, row {row + 2}")
    y = raw[:, t] if task == "classification" else raw[:, t].astype(np.float64)
    return Dataset(Path(path).stem, X, y, task, tuple(header[i] for i in features))


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
