"""The stopping benchmark's replay: what a policy pays and finds over known curves."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from nas.stopping import AshaPolicy, LearningCurvePolicy, NoStopping


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "stopping.py"
    spec = importlib.util.spec_from_file_location("benchmarks_stopping", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _curves() -> np.ndarray:
    """Twenty rising curves of 20 epochs, finals 0.50..0.95; trial 3 diverges at epoch 6."""
    x = np.arange(1, 21, dtype=float)
    tops = np.linspace(0.5, 0.95, 20)
    curves = tops[:, None] - 0.4 * x[None, :] ** -0.8
    curves[3, 5:] = np.nan
    return curves


def test_no_stopping_pays_every_trained_epoch(bench: ModuleType) -> None:
    curves = _curves()
    outcome = bench.replay(NoStopping(), curves, np.arange(20))
    assert outcome.epochs == 19 * 20 + 6  # the diverged trial ends at its NaN epoch
    assert outcome.best_final == pytest.approx(np.nanmax(curves[:, -1]))


def test_replay_is_deterministic_and_order_matters(bench: ModuleType) -> None:
    curves, policy = _curves(), AshaPolicy(eta=3)
    order = np.random.default_rng(0).permutation(20)
    assert bench.replay(policy, curves, order) == bench.replay(policy, curves, order)
    best_first = bench.replay(policy, curves, np.arange(20)[::-1])
    assert best_first.best_final == pytest.approx(curves[19, -1])


def test_lce_saves_epochs_and_keeps_the_best_when_it_comes_late(bench: ModuleType) -> None:
    curves = _curves()
    order = np.r_[np.arange(10, 19), np.arange(10), 19]  # good ones first, the best last
    outcome = bench.replay(LearningCurvePolicy(min_epochs=4), curves, order)
    # Each of 10..18 beats the ones before it, so runs in full; 0..9 (the diverged 3 too)
    # cannot reach 18's final and stop at min_epochs; 19 is the best and runs in full.
    assert outcome.epochs == 9 * 20 + 10 * 4 + 20
    assert outcome.best_final == pytest.approx(curves[19, -1])


def test_sampled_candidates_are_json_ready_and_in_range(bench: ModuleType) -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        c = bench.sample_candidate(rng)
        assert 1 <= len(c["hidden_layer_sizes"]) <= 3
        assert all(8 <= w <= 256 for w in c["hidden_layer_sizes"])
        assert 1e-4 <= c["learning_rate_init"] <= 1e-1
