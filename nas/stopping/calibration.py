"""Calibration of a forecast's spread: per prefix fraction, a scale and a floor.

The ensemble in nas.stopping.curves knows three sources of spread (the families'
disagreement, the noise between epochs, the change still to come), and all three vanish
on a flat prefix: four epochs at 0.2778 gave a std of 1e-6 for a curve that ended at 0.93.
A calibration turns that raw spread into an honest one,

    std = sqrt((scale(f) * raw_std) ** 2 + (floor(f) * headroom) ** 2),
    mean = last + shrink(f) * (mean - last),

where f = n / horizon is the share of the curve seen and headroom is how far the curve's
level is from the metric's upper bound (1 for accuracy and R^2): a curve can still move
about as far as it has room to, and less so the later it is; and where extrapolation is
noisier than the last value (small validation sets), part of the forecast change is
shrunk away. shrink is fitted per fraction knot (linear in between, constant outside) by
the least absolute error, then scale and floor by minimising the interval score
of the central 90 % interval (Gneiting & Raftery 2007), a proper score whose minimum lies
at the true 5 % and 95 % quantiles: the fitted interval covers about 90 % of finals and is
no wider than that needs. A grid search, not an optimiser: two parameters, no local minima.

Usage:
    >>> cal = fit_calibration([Residual(0.1, 0.01, headroom=0.5, mean=0.5, last=0.5, final=0.7)])
    >>> cal.std(0.1, raw_std=0.01, headroom=0.5) > 0.1
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

KNOTS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)  # prefix fractions a calibration is fitted at
COVERAGE = 0.90  # the central interval whose score is minimised
Z90 = 1.6448536269514722  # its half width in standard deviations of a Normal
_SCALES = np.concatenate([[0.0], np.geomspace(0.25, 16.0, 25)])
_FLOORS = np.concatenate([[0.0], np.geomspace(1e-3, 2.0, 34)])
_SHRINKS = np.linspace(0.0, 1.5, 16)
MIN_HEADROOM = 0.02  # below this, a curve's errors count as if it had this much room


@dataclass(frozen=True)
class Residual:
    """One forecast checked against its curve's final value: where it was made (fraction
    of the curve seen), its raw spread, the curve's headroom, its mean, the last value
    seen, and the final value."""

    fraction: float
    raw_std: float
    headroom: float
    mean: float
    last: float
    final: float


@dataclass(frozen=True)
class Calibration:
    """Per prefix fraction (at `knots`), a scale of the raw spread, a floor per unit of
    headroom, and a shrink of the forecast change: mean = last + shrink * (mean - last),
    where a curve's extrapolation is noisier than its last value."""

    knots: tuple[float, ...]
    scales: tuple[float, ...]
    floors: tuple[float, ...]
    shrinks: tuple[float, ...] = ()  # empty: 1 at every knot (the forecast as it is)

    def __post_init__(self) -> None:
        n = len(self.knots)
        if not self.shrinks:
            object.__setattr__(self, "shrinks", (1.0,) * n)
        if n == 0 or len(self.scales) != n or len(self.floors) != n or len(self.shrinks) != n:
            raise ValueError("knots, scales, floors and shrinks must be non-empty and equally long")
        if list(self.knots) != sorted(set(self.knots)):
            raise ValueError(f"knots must increase, got {self.knots}")
        if min(self.scales) < 0 or min(self.floors) < 0 or min(self.shrinks) < 0:
            raise ValueError("scales, floors and shrinks must be >= 0")

    def mean(self, fraction: float, mean: float, last: float) -> float:
        """The forecast mean, its change from the last value shrunk as fitted."""
        if not math.isfinite(last):
            return mean
        return last + float(np.interp(fraction, self.knots, self.shrinks)) * (mean - last)

    def at(self, fraction: float) -> tuple[float, float]:
        """(scale, floor) at this fraction of the curve seen."""
        scale = float(np.interp(fraction, self.knots, self.scales))
        floor = float(np.interp(fraction, self.knots, self.floors))
        return scale, floor

    def std(self, fraction: float, raw_std: float, headroom: float) -> float:
        """The calibrated spread of a forecast made from `fraction` of its curve."""
        scale, floor = self.at(fraction)
        return math.hypot(scale * raw_std, floor * max(headroom, 0.0))


# Fitted by `python benchmarks/curves.py calibrate --seeds 0` on 2,340 forecasts from the
# benchmark's curves of both trainers (nas.nn on digits, breast_cancer, diabetes: 60 each;
# scikit-learn's MLP on seven other data sets: 30 each). Held-out coverage (each data set
# scored by a calibration fitted on the others) is in docs/stopping.md.
DEFAULT = Calibration(
    knots=KNOTS,
    scales=(0.354, 0.25, 0.354, 0.841, 0.595, 0.841),
    floors=(0.502, 0.399, 0.317, 0.126, 0.126, 0.0317),
    shrinks=(0.6, 0.6, 0.6, 0.6, 0.4, 0.5),
)
# The spread as it was before calibration (the raw ensemble spread): for comparisons.
RAW = Calibration(knots=(0.5,), scales=(1.0,), floors=(0.0,))


def interval_score(
    errors: np.ndarray, stds: np.ndarray, alpha: float = 1.0 - COVERAGE
) -> np.ndarray:
    """Interval score of the central (1 - alpha) Normal interval, per forecast (lower is
    better): its width plus 2 / alpha times how far the final falls outside it."""
    half = Z90 * stds
    outside = np.maximum(np.abs(errors) - half, 0.0)
    return 2.0 * half + (2.0 / alpha) * outside


def fit_calibration(residuals: Iterable[Residual], knots: tuple[float, ...] = KNOTS) -> Calibration:
    """The (scale, floor) per knot that minimise the mean 90 % interval score of the
    residuals nearest that knot (each residual counts at the knot nearest its fraction;
    a knot without residuals takes its neighbour's)."""
    rows = [r for r in residuals if _finite(r)]
    if not rows:
        raise ValueError("residuals must hold at least one finite forecast")
    fraction = np.array([r.fraction for r in rows])
    nearest = np.argmin(np.abs(fraction[:, None] - np.array(knots)[None, :]), axis=1)
    fitted: list[tuple[float, float, float] | None] = []
    for k in range(len(knots)):
        at = [r for r, i in zip(rows, nearest, strict=True) if i == k]
        fitted.append(_best(at) if at else None)
    filled = _fill(fitted)
    return Calibration(
        knots,
        scales=tuple(s for s, _, _ in filled),
        floors=tuple(f for _, f, _ in filled),
        shrinks=tuple(k for _, _, k in filled),
    )


def _best(rows: list[Residual]) -> tuple[float, float, float]:
    """Errors count relative to the curve's headroom: a scale-free fit, in which an R^2
    curve climbing from -5 does not outweigh a hundred accuracy curves near 0.95."""
    raw = np.array([r.raw_std for r in rows])
    room = np.array([max(r.headroom, 0.0) for r in rows])
    weight = 1.0 / np.maximum(room, MIN_HEADROOM)
    mean, last, final = (np.array([getattr(r, a) for r in rows]) for a in ("mean", "last", "final"))
    shrunk = last[None, :] + _SHRINKS[:, None] * (mean - last)[None, :]
    shrink = float(_SHRINKS[int(np.argmin((np.abs(shrunk - final) * weight).mean(axis=1)))])
    err = (final - (last + shrink * (mean - last))) * weight
    scale, floor = _SCALES[:, None, None], _FLOORS[None, :, None]
    stds = np.sqrt((scale * raw) ** 2 + (floor * room) ** 2) * weight
    score = interval_score(err[None, None, :], stds).mean(axis=2)
    i, j = np.unravel_index(int(np.argmin(score)), score.shape)
    return float(_SCALES[i]), float(_FLOORS[j]), shrink


def _fill(
    fitted: list[tuple[float, float, float] | None],
) -> list[tuple[float, float, float]]:
    known = [i for i, f in enumerate(fitted) if f is not None]
    out = []
    for i, f in enumerate(fitted):
        if f is None:
            f = fitted[min(known, key=lambda k: (abs(k - i), k))]
        assert f is not None
        out.append(f)
    return out


def _finite(r: Residual) -> bool:
    values = (r.fraction, r.raw_std, r.headroom, r.mean, r.last, r.final)
    return all(math.isfinite(v) for v in values)
