"""Learning-curve extrapolation: the predictive mean and spread of a metric at a later epoch.

A partial curve (a higher-is-better metric at epochs 1..n) is fitted by every parametric
family in nas.stopping.families; the families' predictions are pooled into a weighted ensemble
(Domhan, Springenberg & Hutter 2015, without their MCMC: point fits, weighted by how well
each family explains the recent epochs). The spread adds the families' disagreement, the
curve's own epoch-to-epoch noise and a share of the predicted change still to come, because
a stopping rule acts on its tail. It is still too narrow early in a curve (benchmarks/
stopping.py measures how many finals fall within 2 std: about two thirds from 10 % of the
budget), so a policy should not trust it before a few epochs.

Usage:
    >>> from nas.stopping.curves import predict, prob_exceeds
    >>> curve = [0.52, 0.66, 0.73, 0.77, 0.80, 0.81, 0.83, 0.84]
    >>> p = predict(curve, at_epoch=50)
    >>> 0.8 < p.mean <= 1.0 and p.std > 0
    True
    >>> prob_exceeds(curve, 50, threshold=0.99) < 0.05
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nas.stopping.calibration import DEFAULT, Calibration
from nas.stopping.families import FAMILIES, FamilyFit, fit_families

# Bounds of the common metrics (higher is better): used to keep extrapolations sane.
ACCURACY_BOUNDS = (0.0, 1.0)
R2_BOUNDS = (-math.inf, 1.0)
NEGATED_LOSS_BOUNDS = (-math.inf, 0.0)

MIN_POINTS = 3  # below this there is no trend to fit; predict "last value, wide spread"
RECENCY = 2.0  # point weight grows as (epoch / n) ** RECENCY: the tail shows where it is going
CHANGE_STD = 0.5  # share of the predicted change (last fitted -> target) added to the spread
WILD_SPAN = 3.0  # a family predicting a change beyond this many observed spans is discarded


@dataclass(frozen=True)
class Prediction:
    """The predictive distribution of the metric at one epoch, summarised as Normal."""

    mean: float
    std: float

    def prob_exceeds(self, threshold: float) -> float:
        """P(metric >= threshold) under this prediction."""
        if self.std <= 0.0:
            return float(self.mean >= threshold)
        z = (threshold - self.mean) / self.std
        return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class RawForecast:
    """The ensemble's forecast before calibration: mean, raw spread, and the headroom
    (distance from the curve's fitted level to the metric's upper bound)."""

    mean: float
    raw_std: float
    headroom: float
    fraction: float
    level: float  # the fitted value at the last epoch seen: where the change starts


@dataclass(frozen=True)
class CurveFit:
    """The family fits for one curve; predicts at any epoch without fitting again."""

    fits: tuple[FamilyFit, ...]
    weights: np.ndarray
    noise_std: float
    last_value: float
    span: float
    n_points: int
    bounds: tuple[float, float]
    calibration: Calibration = DEFAULT

    def predict(self, at_epoch: float) -> Prediction:
        """Ensemble mean and calibrated spread at `at_epoch` (epochs count from 1)."""
        if not self.fits:
            return _prior(self.last_value, self.bounds)
        raw = self.raw(at_epoch)
        mean = self.calibration.mean(raw.fraction, raw.mean, self.last_value)
        std = self.calibration.std(raw.fraction, raw.raw_std, raw.headroom)
        return Prediction(float(np.clip(mean, *self.bounds)), std)

    def raw(self, at_epoch: float) -> RawForecast:
        """The uncalibrated forecast at `at_epoch`: what a calibration is fitted to."""
        lower, upper = self.bounds
        fraction = self.n_points / max(float(at_epoch), 1.0)
        if not self.fits:
            p = _prior(self.last_value, self.bounds)
            room = _headroom(p.mean, self.bounds, p.std)
            return RawForecast(p.mean, p.std, room, fraction, p.mean)
        x = np.array([float(self.n_points), float(at_epoch)])
        at_n, at_t = np.array([f(x) for f in self.fits]).T
        change = at_t - at_n
        sane = (
            np.isfinite(at_t)
            & (at_t >= lower - self.noise_std)
            & (at_t <= upper + self.noise_std)
            & (np.abs(change) <= WILD_SPAN * self.span + self.noise_std)
        )
        if not sane.any():
            level = float(np.clip(self.last_value, lower, upper))
            wide = self._wide_std()
            return RawForecast(level, wide, _headroom(level, self.bounds, wide), fraction, level)
        w = self.weights * sane
        w = w / w.sum()
        at_t = np.where(sane, at_t, 0.0)
        mean = float(w @ at_t)
        spread = float(w @ (at_t - mean) ** 2)
        expected_change = float(w @ np.where(sane, change, 0.0))
        var = spread + self.noise_std**2 + (CHANGE_STD * expected_change) ** 2
        level = float(w @ np.where(sane, at_n, 0.0))
        room = _headroom(level, self.bounds, self.span + self.noise_std)
        mean = float(np.clip(mean, lower, upper))
        return RawForecast(mean, math.sqrt(var), room, fraction, level)

    def _wide_std(self) -> float:
        return max(self.span, self.noise_std, 1e-3)


def _headroom(level: float, bounds: tuple[float, float], scale: float) -> float:
    """How far a curve at `level` can still rise: to the upper bound where there is one,
    else by `scale` (the curve's own span)."""
    upper = bounds[1]
    if math.isfinite(upper) and math.isfinite(level):
        return max(upper - level, 0.0)
    return max(scale, 0.0)


def _prior(last_value: float, bounds: tuple[float, float]) -> Prediction:
    """Too little curve to fit: the last value, with a spread as wide as the metric's range."""
    lower, upper = bounds
    width = upper - lower if math.isfinite(upper - lower) else max(1.0, abs(last_value))
    mean = last_value if math.isfinite(last_value) else (lower + upper) / 2
    if not math.isfinite(mean):
        mean = 0.0
    return Prediction(float(np.clip(mean, lower, upper)), float(width))


def fit(
    curve: Sequence[float] | np.ndarray,
    bounds: tuple[float, float] = ACCURACY_BOUNDS,
    families: Sequence[str] = tuple(FAMILIES),
    calibration: Calibration = DEFAULT,
) -> CurveFit:
    """Fit every family to the finite points of `curve` (value at epoch i is curve[i - 1]);
    its predictions' spread is calibrated by `calibration` (RAW: the ensemble's own)."""
    y_all = np.asarray(curve, dtype=float).ravel()
    x_all = np.arange(1, y_all.size + 1, dtype=float)
    finite = np.isfinite(y_all)
    x, y = x_all[finite], y_all[finite]
    last = float(y[-1]) if y.size else math.nan
    n = int(x_all.size)
    if y.size < MIN_POINTS:
        return CurveFit((), np.zeros(0), 0.0, last, 0.0, n, bounds, calibration)
    w = (x / x[-1]) ** RECENCY
    fits = tuple(fit_families([FAMILIES[name] for name in families], x, y, w))
    dof = max(1.0, y.size - 3.0)
    mse = np.array([f.wsse for f in fits]) / w.sum() * y.size / dof
    mse = np.where(np.isfinite(mse), mse, np.inf)
    floor = max(float(np.min(mse)), 1e-12)
    weights = floor / np.maximum(mse, floor)  # inverse mean squared error, best family = 1
    noise = math.sqrt(floor)
    span = float(np.ptp(y))
    return CurveFit(fits, weights, noise, last, span, n, bounds, calibration)


def predict(
    curve: Sequence[float] | np.ndarray,
    at_epoch: float,
    bounds: tuple[float, float] = ACCURACY_BOUNDS,
) -> Prediction:
    """The ensemble's predictive mean and spread of the metric at `at_epoch`."""
    return fit(curve, bounds).predict(at_epoch)


def prob_exceeds(
    curve: Sequence[float] | np.ndarray,
    at_epoch: float,
    threshold: float,
    bounds: tuple[float, float] = ACCURACY_BOUNDS,
) -> float:
    """P(metric at `at_epoch` >= threshold), from the ensemble's prediction."""
    return predict(curve, at_epoch, bounds).prob_exceeds(threshold)
