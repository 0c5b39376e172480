"""Spread calibration: fitted intervals cover what they claim on draws they never saw."""

from __future__ import annotations

import numpy as np
import pytest

from nas.stopping.calibration import (
    DEFAULT,
    KNOTS,
    RAW,
    Z90,
    Calibration,
    Residual,
    fit_calibration,
    interval_score,
)


def _residuals(
    rng: np.random.Generator, n: int, fraction: float, true_std: float
) -> list[Residual]:
    """Forecasts whose raw spread is ten times too narrow, on curves of varied headroom
    (the true error grows with headroom, as real ones do)."""
    room = rng.uniform(0.05, 0.8, n)
    raw = 0.1 * true_std * room
    errors = rng.normal(0.0, true_std * room)
    return [
        Residual(fraction, r, h, mean=0.5, last=0.5, final=0.5 + e)
        for r, h, e in zip(raw, room, errors, strict=True)
    ]


def _coverage(cal: Calibration, rows: list[Residual]) -> float:
    inside = [
        abs(r.final - cal.mean(r.fraction, r.mean, r.last))
        <= Z90 * cal.std(r.fraction, r.raw_std, r.headroom)
        for r in rows
    ]
    return float(np.mean(inside))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fitted_interval_covers_about_90_percent_of_held_out_finals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    train = [r for f in KNOTS for r in _residuals(rng, 400, f, 0.3 * (1 - f))]
    test = [r for f in KNOTS for r in _residuals(rng, 400, f, 0.3 * (1 - f))]
    cal = fit_calibration(train)
    assert _coverage(RAW, test) < 0.3  # the raw spread is far too narrow
    assert 0.85 <= _coverage(cal, test) <= 0.95


def test_a_zero_raw_spread_gets_a_floor_from_the_headroom() -> None:
    rng = np.random.default_rng(0)
    rows = [Residual(0.1, 0.0, 0.5, 0.4, 0.4, 0.4 + e) for e in rng.normal(0.0, 0.1, 500)]
    cal = fit_calibration(rows)
    assert cal.std(0.1, raw_std=0.0, headroom=0.5) == pytest.approx(0.1, rel=0.25)
    assert cal.std(0.1, raw_std=0.0, headroom=0.0) == 0.0  # a curve at its bound stays


def test_between_knots_is_linear_and_outside_constant() -> None:
    cal = Calibration(knots=(0.2, 0.4), scales=(1.0, 3.0), floors=(0.1, 0.3))
    assert cal.at(0.3) == pytest.approx((2.0, 0.2))
    assert cal.at(0.0) == (1.0, 0.1) and cal.at(1.0) == (3.0, 0.3)


def test_knots_without_residuals_take_their_neighbours_fit() -> None:
    rows = [Residual(0.1, 0.01, 0.5, 0.5, 0.5, 0.5 + e) for e in np.linspace(-0.2, 0.2, 50)]
    cal = fit_calibration(rows)
    assert len(set(cal.scales)) == 1 and len(set(cal.floors)) == 1 and len(set(cal.shrinks)) == 1


@pytest.mark.parametrize("true_shrink", [0.0, 0.5, 1.0])
def test_shrink_learns_how_much_of_the_forecast_change_comes_true(true_shrink: float) -> None:
    rng = np.random.default_rng(0)
    change = rng.uniform(-0.2, 0.2, 300)
    rows = [
        Residual(0.3, 0.01, 0.5, mean=0.5 + c, last=0.5, final=0.5 + true_shrink * c + e)
        for c, e in zip(change, rng.normal(0, 0.01, 300), strict=True)
    ]
    cal = fit_calibration(rows)
    assert cal.shrinks[0] == pytest.approx(true_shrink, abs=0.1)
    assert cal.mean(0.3, mean=0.7, last=0.5) == pytest.approx(0.5 + 0.2 * cal.shrinks[0])


def test_interval_score_penalises_misses_and_width() -> None:
    inside = interval_score(np.array([0.0]), np.array([1.0]))
    wider = interval_score(np.array([0.0]), np.array([2.0]))
    missed = interval_score(np.array([5.0]), np.array([1.0]))
    assert inside < wider and inside < missed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"knots": (), "scales": (), "floors": ()}, "knots, scales, floors and shrinks"),
        ({"knots": (0.5, 0.1), "scales": (1, 1), "floors": (0, 0)}, "knots must increase"),
        ({"knots": (0.5,), "scales": (-1.0,), "floors": (0.0,)}, "scales, floors and shrinks"),
        ({"knots": (0.5,), "scales": (1.0, 2.0), "floors": (0.0,)}, "equally long"),
    ],
)
def test_invalid_calibration_is_refused(kwargs: dict[str, tuple[float, ...]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Calibration(**kwargs)


def test_no_finite_residual_is_refused() -> None:
    with pytest.raises(ValueError, match="residuals must hold"):
        fit_calibration([Residual(0.1, float("nan"), 0.5, 0.5, 0.5, 0.6)])


def test_default_calibration_gives_a_flat_prefix_a_spread() -> None:
    assert DEFAULT.std(0.1, raw_std=1e-6, headroom=0.72) > 0.05
    assert DEFAULT.std(0.1, 0.0, 0.5) > DEFAULT.std(0.9, 0.0, 0.5)  # less room late
