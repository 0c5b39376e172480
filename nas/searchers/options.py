"""Checking a searcher's options: a bad one is refused with its name and allowed range.

Options arrive from YAML, JSON or a REST body as any JSON value, so a string or a bool
where a number belongs must be a ValueError (a 422 over HTTP), never a TypeError.
"""

from __future__ import annotations

from typing import Any

from nas.nn.validation import check_range


def check_number(
    name: str, value: Any, low: float, high: float, *, open_low: bool = False, integer: bool = False
) -> None:
    """The trainer's check_range, and for a count, that it is a whole number."""
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{name} must be an integer in [{low}, {high}]; got {value!r}")
    check_range(name, value, low, high, low_open=open_low)
