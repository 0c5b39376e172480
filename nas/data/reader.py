"""A CSV file with a header row as a Dataset (the batch CLI's `dataset: {csv: ...}`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nas.data.dataset import DataError, Dataset


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
