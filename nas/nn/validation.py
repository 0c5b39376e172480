"""Checks on user input that fail early with a message naming the problem."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def check_X(X: Any, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """A finite, non-empty 2-D float64 array (a 1-D input is refused, as in scikit-learn)."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}; need at least one row and feature")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]})")
    check_n_features(arr, name, n_features)
    return arr


def check_n_features(X: np.ndarray, name: str, n_features: int | None) -> None:
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model was fitted with {n_features}"
        )


def check_y(y: Any, n_rows: int, numeric: bool) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1 and not numeric:
        arr = arr.ravel()
    if arr.shape[0] != n_rows:
        raise ValueError(f"y has {arr.shape[0]} rows but X has {n_rows}")
    if numeric:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"y must be numeric for regression: {exc}") from None
        if not np.isfinite(arr).all():
            raise ValueError("y contains NaN or inf")
    elif arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError("y contains NaN or inf")
    return arr


def check_hidden_layer_sizes(sizes: Any) -> tuple[int, ...]:
    if isinstance(sizes, int | np.integer):
        sizes = (sizes,)
    try:
        out = tuple(int(s) for s in sizes)
    except TypeError:
        raise ValueError(f"hidden_layer_sizes must be a tuple of ints; got {sizes!r}") from None
    if any(s <= 0 for s in out):
        raise ValueError(f"hidden_layer_sizes must be positive integers; got {out}")
    return out


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}; got {value!r}")


def check_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high
        )
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}; got {value!r}")
