"""The learned curve prior: it learns what stored curves did, and stays a pure function."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas.stopping.calibration import Z90
from nas.stopping.curves import ACCURACY_BOUNDS, fit
from nas.stopping.prior import MIN_CURVES, CurvePrior

EPOCHS = np.arange(1, 41, dtype=float)


def _late_learners(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Networks stuck at chance for a while that then learn: what parametric families,
    fitted to the flat part, cannot foresee."""
    out = []
    for _ in range(n):
        start = rng.integers(6, 14)
        rise = 0.85 * (1 - np.exp(-np.maximum(EPOCHS - start, 0) / rng.uniform(2, 5)))
        out.append(np.clip(0.1 + rise + rng.normal(0, 0.005, EPOCHS.size), 0, 1))
    return out


@pytest.fixture(scope="module")
def prior() -> CurvePrior:
    return CurvePrior.build(_late_learners(np.random.default_rng(0), 60), ACCURACY_BOUNDS)


def test_a_flat_prefix_is_forecast_from_what_stored_flat_prefixes_did(prior: CurvePrior) -> None:
    rng = np.random.default_rng(10)
    errors_prior, errors_fit, covered = [], [], []
    for curve in _late_learners(rng, 20):
        p = prior.predict(curve[:5], EPOCHS.size)
        errors_prior.append(abs(p.mean - curve[-1]))
        errors_fit.append(abs(fit(curve[:5]).predict(EPOCHS.size).mean - curve[-1]))
        covered.append(abs(p.mean - curve[-1]) <= Z90 * p.std)
    assert np.mean(errors_prior) < 0.3 * np.mean(errors_fit)
    assert np.mean(covered) >= 0.8


def test_prior_is_pure(prior: CurvePrior) -> None:
    curve = _late_learners(np.random.default_rng(1), 1)[0][:12]
    assert prior.predict(curve, 40) == prior.predict(curve.copy(), 40)


def test_curves_of_other_lengths_are_compared_by_budget_fraction() -> None:
    x = np.arange(1, 101, dtype=float)
    stored = [0.9 - 0.5 * x**-r for r in np.linspace(0.3, 1.5, 15)]
    prior = CurvePrior.build(stored, ACCURACY_BOUNDS)
    short = 0.9 - 0.5 * EPOCHS**-0.8  # 40 epochs against stored 100-epoch curves
    assert prior.kernel(short[:10], 40) is not None
    assert abs(prior.predict(short[:10], 40).mean - short[-1]) < 0.05


@pytest.mark.parametrize(
    "curve", [[], [0.3], [0.1, 0.2], [0.2, math.nan, 0.4, 0.5], [0.5, math.inf, 0.6, 0.6]]
)
def test_short_or_broken_prefixes_fall_back_to_the_parametric_fit(
    prior: CurvePrior, curve: list[float]
) -> None:
    p = prior.predict(curve, 40)
    assert p == fit(curve).predict(40)


def test_too_little_history_is_refused_naming_the_field() -> None:
    rng = np.random.default_rng(3)
    few = _late_learners(rng, MIN_CURVES - 1) + [np.full(40, np.nan)]
    with pytest.raises(ValueError, match=f"^curves must hold at least {MIN_CURVES}"):
        CurvePrior.build(few, ACCURACY_BOUNDS)
