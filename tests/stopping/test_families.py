"""Each parametric family recovers its own parameters from a noisy synthetic curve."""

from __future__ import annotations

import numpy as np
import pytest

from nas.stopping.families import FAMILIES, fit_family

# True parameters (in each family's param_names order), chosen so the curve bends inside
# 50 epochs; otherwise a saturation parameter is not identifiable from the data at all.
TRUE_PARAMS = {
    "pow3": [0.9, 0.6, 0.7],
    "log_power": [0.9, 1.5, -1.2],
    "vapor_pressure": [-0.1, -2.0, 0.02],
    "janoschek": [0.9, 0.2, 0.05, 1.2],
    "weibull": [0.9, 0.2, 0.08, 1.1],
    "mmf": [0.9, 0.1, 0.15, 1.5],
    "ilog2": [0.95, 0.4],
    "exp4": [0.9, 0.1, 0.9, -0.5],
}


def test_every_family_has_true_parameters() -> None:
    assert set(TRUE_PARAMS) == set(FAMILIES)
    assert len(FAMILIES) >= 5


@pytest.mark.parametrize("name", sorted(TRUE_PARAMS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_family_recovers_its_parameters(name: str, seed: int) -> None:
    family = FAMILIES[name]
    true = np.array(TRUE_PARAMS[name])
    x = np.arange(1, 51, dtype=float)
    y = family(x, true) + np.random.default_rng(seed).normal(0.0, 0.003, x.size)
    fitted = fit_family(family, x, y, np.ones_like(x)).params
    assert fitted is not None
    np.testing.assert_allclose(fitted, true, rtol=0.15, atol=0.03)


@pytest.mark.parametrize("name", sorted(TRUE_PARAMS))
def test_fit_reproduces_the_curve_it_was_fitted_to(name: str) -> None:
    family = FAMILIES[name]
    x = np.arange(1, 31, dtype=float)
    y = family(x, np.array(TRUE_PARAMS[name]))
    fit = fit_family(family, x, y, np.ones_like(x))
    np.testing.assert_allclose(fit(x), y, atol=5e-3)


@pytest.mark.parametrize("name", sorted(TRUE_PARAMS))
@pytest.mark.parametrize("curve", [np.full(10, 0.5), np.linspace(0.9, 0.1, 10), np.zeros(4)])
def test_fit_is_finite_on_curves_outside_the_family(name: str, curve: np.ndarray) -> None:
    x = np.arange(1, curve.size + 1, dtype=float)
    fit = fit_family(FAMILIES[name], x, curve, np.ones_like(x))
    assert np.isfinite(fit.wsse)
    assert np.all(np.isfinite(fit(np.array([100.0]))))
