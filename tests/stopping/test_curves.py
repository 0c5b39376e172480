"""Ensemble predictions: accurate on curves the families can express, and never a crash."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas.stopping.curves import (
    ACCURACY_BOUNDS,
    MIN_POINTS,
    R2_BOUNDS,
    Prediction,
    fit,
    predict,
    prob_exceeds,
)

RNG = np.random.default_rng(0)
EPOCHS = np.arange(1, 51, dtype=float)
RISING = 0.95 - 0.6 * EPOCHS**-0.7

AWKWARD_CURVES = {
    "flat": np.full(20, 0.5),
    "rising": RISING[:20],
    "falling": np.linspace(0.9, 0.5, 20),
    "noisy": RNG.uniform(0.0, 1.0, 30),
    "one_point": np.array([0.3]),
    "empty": np.array([]),
    "two_points": np.array([0.1, 0.2]),
    "nan_inside": np.array([0.2, np.nan, 0.4, 0.5, np.inf, 0.6]),
    "all_nan": np.full(5, np.nan),
    "zeros": np.zeros(10),
    "ones": np.ones(10),
}


@pytest.mark.parametrize("name", sorted(AWKWARD_CURVES))
@pytest.mark.parametrize("at_epoch", [1, 20, 50, 1000])
def test_prediction_is_finite_and_within_bounds(name: str, at_epoch: int) -> None:
    p = predict(AWKWARD_CURVES[name], at_epoch)
    assert math.isfinite(p.mean) and math.isfinite(p.std)
    assert ACCURACY_BOUNDS[0] <= p.mean <= ACCURACY_BOUNDS[1]
    assert p.std >= 0.0
    assert 0.0 <= prob_exceeds(AWKWARD_CURVES[name], at_epoch, 0.7) <= 1.0


@pytest.mark.parametrize("curve", [[], [0.3], [0.1, 0.2]])
def test_too_few_points_give_the_last_value_with_a_wide_spread(curve: list[float]) -> None:
    assert len(curve) < MIN_POINTS
    p = predict(curve, 50)
    assert p.std >= 0.5 * (ACCURACY_BOUNDS[1] - ACCURACY_BOUNDS[0])
    if curve:
        assert p.mean == curve[-1]
    assert prob_exceeds(curve, 50, 0.95) > 0.1


def test_rising_curve_is_extrapolated_close_to_its_final_value() -> None:
    noisy = RISING + RNG.normal(0.0, 0.005, RISING.size)
    p = predict(noisy[:20], 50)
    assert abs(p.mean - RISING[-1]) < 0.02
    assert abs(p.mean - RISING[-1]) < 3 * p.std


def test_extrapolation_beats_the_last_value() -> None:
    p = predict(RISING[:12], 50)
    assert abs(p.mean - RISING[-1]) < 0.5 * abs(RISING[11] - RISING[-1])


def test_spread_shrinks_as_the_curve_grows() -> None:
    noisy = RISING + RNG.normal(0.0, 0.01, RISING.size)
    assert predict(noisy[:40], 50).std < predict(noisy[:8], 50).std


def test_prob_exceeds_is_monotone_in_the_threshold() -> None:
    probs = [prob_exceeds(RISING[:15], 50, t) for t in np.linspace(0.5, 1.0, 11)]
    assert probs == sorted(probs, reverse=True)
    assert probs[0] > 0.95 and probs[-1] < 0.05


def test_prediction_prob_exceeds_with_zero_spread() -> None:
    assert Prediction(0.8, 0.0).prob_exceeds(0.8) == 1.0
    assert Prediction(0.8, 0.0).prob_exceeds(0.81) == 0.0


def test_r2_bounds_allow_negative_values() -> None:
    curve = np.linspace(-0.5, -0.3, 10)
    assert predict(curve, 20, R2_BOUNDS).mean < 0.0
    assert predict(curve, 20).mean >= 0.0


def test_fit_once_predict_many_matches_predict() -> None:
    curve_fit = fit(RISING[:10])
    assert curve_fit.predict(50) == predict(RISING[:10], 50)
    assert curve_fit.predict(50).mean > curve_fit.predict(20).mean


def test_prediction_is_deterministic() -> None:
    curve = AWKWARD_CURVES["noisy"]
    assert predict(curve, 50) == predict(curve, 50)
