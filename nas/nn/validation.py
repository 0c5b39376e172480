"""Checks on estimator parameters that fail early with a message naming the parameter
and its allowed values or range.

Data (X and y) is checked by scikit-learn itself (sklearn.utils.validation.validate_data),
as its estimator contract expects; scikit-learn's own parameter checks are private API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


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
