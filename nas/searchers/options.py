"""Checking a searcher's options: a bad one is refused with its name and allowed range.

Options arrive from YAML, JSON or a REST body as any JSON value, so a string or a bool
where a number belongs must be a ValueError (a 422 over HTTP), never a TypeError.
"""

from __future__ import annotations

from typing import Any


def check_number(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    open_low: bool = False,
    integer: bool = False,
) -> None:
    """ValueError unless value is a number (an integer if asked) within the range."""
    kinds = (int,) if integer else (int, float)
    interval = f"{'(' if open_low else '['}{low:g}, {high:g}]"
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} within {interval}; got {value!r}")
    if not ((low < value if open_low else low <= value) and value <= high):
        raise ValueError(f"{name} must lie within {interval}; got {value!r}")
