"""Discrete grids over a search space: the choices a policy or a supernet picks among.

The reinforcement-learning controller and the DARTS supernet both need each range cut into
a few values. Widths and rates are cut on a log scale (as the space samples them), the
dropout rate linearly; every grid keeps both ends of its range, so it stays inside the
space, and rounds as SearchSpace.sample does, so candidates keep stable keys.
"""

from __future__ import annotations

import math

import numpy as np

from nas.space import SearchSpace


def width_grid(space: SearchSpace) -> list[int]:
    """The powers of two inside the width range, and both ends of it."""
    low, high = space.width
    powers = [2**k for k in range(int(math.log2(high)) + 1) if low <= 2**k <= high]
    return sorted({low, *powers, high})


def log_grid(bounds: tuple[float, float], n: int) -> list[float]:
    """n log-spaced values from low to high (4 significant digits); [0.0] when off."""
    low, high = bounds
    if low == 0:
        return [0.0]
    values = np.geomspace(low, high, n) if high > low else [low]
    return sorted({float(f"{v:.4g}") for v in values})


def linear_grid(bounds: tuple[float, float], n: int) -> list[float]:
    """n evenly spaced values from low to high, rounded to 4 decimals."""
    low, high = bounds
    values = np.linspace(low, high, n) if high > low else [low]
    return sorted({min(high, max(low, round(float(v), 4))) for v in values})


def shaped(widths: list[int], space: SearchSpace) -> tuple[int, ...]:
    """Widths made to follow the space's shape rule: as drawn if free, else widest first.

    A constant-only space gets the first width everywhere; a funnel gets the widths sorted,
    which a constant network also is.
    """
    if "free" in space.shape:
        return tuple(widths)
    if set(space.shape) == {"constant"}:
        return tuple([widths[0]] * len(widths))
    return tuple(sorted(widths, reverse=True))
