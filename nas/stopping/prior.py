"""A prior learned from stored curves: what curves that began like this one went on to do.

Every job the service runs stores its learning curves. CurvePrior.build takes the finished
ones and learns, with no download and nothing heavier than NumPy:

- a kernel forecast: the curves whose prefixes (at 1/3, 2/3 and all of the same share of
  their budget) lie nearest the new prefix, and the gains they made from there to their
  final epoch, weighted by nearness (Nadaraya-Watson over the K nearest); this is what a
  flat prefix needs, since the parametric families cannot know that stuck networks often
  start learning later;
- per prefix fraction, how much of the kernel forecast to blend into the parametric one
  (the share that minimised the absolute error on the stored curves, each forecast
  without its own curve among the neighbours);
- a Calibration of the blended spread fitted on those same held-out forecasts.

Pure once built: predict() does no I/O, so a policy holding a prior stays a function of
the curves it is shown. The store read (nas.store.queries.finished_curves) and the build
happen outside the policy, in the driver.

Usage:
    >>> import numpy as np
    >>> x = np.arange(1, 31)
    >>> stored = [0.9 - 0.5 * x ** -r for r in np.linspace(0.3, 1.5, 40)]
    >>> prior = CurvePrior.build(stored, (0.0, 1.0))
    >>> p = prior.predict(stored[5][:8], 30)
    >>> bool(abs(p.mean - stored[5][-1]) < 0.05)
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nas.stopping.calibration import KNOTS, RAW, Calibration, Residual, fit_calibration
from nas.stopping.curves import MIN_POINTS, Prediction, RawForecast, fit

GRID = 201  # stored curves are resampled at this many fractions of their budget, 0..1
NEIGHBOURS = 20  # K of the kernel forecast
LEARN_CURVES = 150  # stored curves the blend and calibration are learned on (the newest)
MIN_CURVES = 10  # below this a store has too little history to learn from
_SHARES = np.linspace(0.0, 1.0, 11)  # candidate blend shares of the kernel forecast
_ANCHORS = (1.0 / 3.0, 2.0 / 3.0, 1.0)  # where, within a prefix, prefixes are compared


class CurvePrior:
    """Stored curves resampled by budget fraction, with the blend and calibration learned
    from them. Build it with CurvePrior.build; compare by identity."""

    def __init__(
        self,
        grid: np.ndarray,
        bounds: tuple[float, float],
        shares: tuple[float, ...],
        calibration: Calibration,
    ) -> None:
        self.grid = grid  # (n_curves, GRID): value at fraction i / (GRID - 1) of the budget
        self.bounds = bounds
        self.shares = shares  # per KNOTS, the kernel forecast's share in the blend
        self.calibration = calibration

    @property
    def n_curves(self) -> int:
        return int(self.grid.shape[0])

    @classmethod
    def build(
        cls, curves: Sequence[Sequence[float] | np.ndarray], bounds: tuple[float, float]
    ) -> CurvePrior:
        """Learn from finished curves (each its full budget, all values finite; others are
        skipped). ValueError when fewer than MIN_CURVES are usable."""
        usable = [np.asarray(c, dtype=float) for c in curves]
        usable = [c for c in usable if c.size >= MIN_POINTS and np.all(np.isfinite(c))]
        if len(usable) < MIN_CURVES:
            raise ValueError(
                f"curves must hold at least {MIN_CURVES} finished curves, got {len(usable)}"
            )
        grid = np.stack([_resample(c) for c in usable])
        prior = cls(grid, bounds, tuple(0.0 for _ in KNOTS), RAW)
        shares, residuals = prior._learn(usable[-LEARN_CURVES:], len(usable) - LEARN_CURVES)
        calibration = fit_calibration(residuals) if residuals else RAW
        return cls(grid, bounds, shares, calibration)

    def kernel(
        self, prefix: np.ndarray, horizon: float, exclude: int | None = None
    ) -> tuple[float, float] | None:
        """The kernel forecast (mean, std) of the final value, or None without neighbours."""
        n = prefix.size
        fraction = min(n / horizon, 1.0)
        epochs = np.arange(1, n + 1, dtype=float)
        query = np.array([np.interp(a * n, epochs, prefix) for a in _ANCHORS])
        columns = [fraction * a * (GRID - 1) for a in _ANCHORS]
        stored = np.stack([_column(self.grid, c) for c in columns], axis=1)
        distance = np.sqrt(np.mean((stored - query) ** 2, axis=1))
        if exclude is not None:
            distance[exclude] = np.inf
        order = np.argsort(distance)[:NEIGHBOURS]
        order = order[np.isfinite(distance[order])]
        if order.size == 0:
            return None
        width = max(float(np.median(distance[order])), 1e-3)
        weight = np.exp(-0.5 * (distance[order] / width) ** 2)
        weight = weight / weight.sum()
        gains = self.grid[order, -1] - stored[order, -1]
        level = float(np.mean(prefix[-min(3, n) :]))  # the last points, less their noise
        mean = level + float(weight @ gains)
        std = math.sqrt(float(weight @ (gains - weight @ gains) ** 2))
        return mean, std

    def predict(self, curve: Sequence[float] | np.ndarray, horizon: float) -> Prediction:
        """The blended, calibrated forecast of the metric at `horizon`."""
        values = np.asarray(curve, dtype=float)
        raw = fit(values, self.bounds, calibration=RAW).raw(horizon)
        finite = values[np.isfinite(values)]
        if finite.size < MIN_POINTS or finite.size != values.size:
            return fit(values, self.bounds).predict(horizon)
        mean, raw_std = self._blend(raw, self.kernel(values, horizon))
        mean = self.calibration.mean(raw.fraction, mean, float(values[-1]))
        std = self.calibration.std(raw.fraction, raw_std, raw.headroom)
        return Prediction(float(np.clip(mean, *self.bounds)), std)

    def _blend(
        self, raw: RawForecast, kernel: tuple[float, float] | None, share: float | None = None
    ) -> tuple[float, float]:
        """Mixture of the parametric and kernel forecasts: its mean and standard deviation."""
        if kernel is None:
            return raw.mean, raw.raw_std
        if share is None:
            share = float(np.interp(raw.fraction, KNOTS, self.shares))
        k_mean, k_std = kernel
        mean = (1 - share) * raw.mean + share * k_mean
        var = (1 - share) * raw.raw_std**2 + share * k_std**2
        var += share * (1 - share) * (raw.mean - k_mean) ** 2
        return mean, math.sqrt(var)

    def _learn(
        self, curves: list[np.ndarray], offset: int
    ) -> tuple[tuple[float, ...], list[Residual]]:
        """Per knot, the kernel share with the least absolute error over the stored curves
        (each forecast from its own prefix, itself left out of the neighbours), and the
        residuals of the blended forecasts at that share."""
        shares, residuals = [], []
        for knot in KNOTS:
            forecasts = []
            for i, curve in enumerate(curves):
                n = max(MIN_POINTS, round(knot * curve.size))
                if n >= curve.size:
                    continue
                prefix = curve[:n]
                raw = fit(prefix, self.bounds, calibration=RAW).raw(curve.size)
                kernel = self.kernel(prefix, curve.size, exclude=max(offset, 0) + i)
                forecasts.append((raw, kernel, float(curve[-1]), float(prefix[-1])))
            if not forecasts:
                shares.append(0.0)
                continue
            errors = [
                np.mean([abs(self._blend(r, k, s)[0] - y) for r, k, y, _ in forecasts])
                for s in _SHARES
            ]
            share = float(_SHARES[int(np.argmin(errors))])
            shares.append(share)
            for raw, kernel, final, last in forecasts:
                mean, std = self._blend(raw, kernel, share)
                residuals.append(Residual(raw.fraction, std, raw.headroom, mean, last, final))
        return tuple(shares), residuals


def _resample(curve: np.ndarray) -> np.ndarray:
    """A curve's values at GRID evenly spaced fractions of its budget (epoch f * length)."""
    epochs = np.arange(1, curve.size + 1, dtype=float)
    return np.interp(np.linspace(0.0, 1.0, GRID) * curve.size, epochs, curve)


def _column(grid: np.ndarray, position: float) -> np.ndarray:
    """Every stored curve's value at a fractional column of the grid (linear in between)."""
    lo = int(math.floor(position))
    hi = min(lo + 1, grid.shape[1] - 1)
    t = position - lo
    return (1 - t) * grid[:, lo] + t * grid[:, hi]
