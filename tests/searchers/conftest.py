"""Shared pieces of the searcher tests: spaces, a synthetic objective, ask-tell loops."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from nas.data import Split, load_builtin, split
from nas.searchers import SEARCHERS, Observation, Searcher, make_searcher
from nas.space import Candidate, SearchSpace

HAVE_TORCH = importlib.util.find_spec("torch") is not None
ONE_OBJECTIVE_ONLY = {"cmaes", "rl", "darts", "tpe+predictor", "evolution+predictor"}

# (searcher name, two objectives): every searcher, and each again with two objectives
CASES = [
    pytest.param(
        name,
        two,
        id=f"{name}-2obj" if two else name,
        marks=pytest.mark.skipif(name == "gp" and not HAVE_TORCH, reason="gp needs PyTorch"),
    )
    for name in SEARCHERS
    for two in (False, True)
    if not (two and name in ONE_OBJECTIVE_ONLY)
]

RICH = SearchSpace(
    n_layers=(1, 4),
    width=(4, 128),
    shape=["free", "funnel", "constant"],
    activation=["relu", "tanh", "logistic"],
    optimizer=["adam", "sgd"],
    batch_size=[32, 64, 128],
)


def objective(candidate: Candidate) -> float:
    """Synthetic validation metric: best near lr 3e-3 and 200 units in all."""
    lr_miss = abs(math.log(candidate.learning_rate / 3e-3))
    return -lr_miss - 0.005 * abs(sum(candidate.widths) - 200) - candidate.dropout


def observe(candidate: Candidate, status: str = "finished") -> Observation:
    """The driver may hand over NumPy scalars; state() must still be plain JSON."""
    value = np.float64(objective(candidate))
    curve = tuple(np.float32(v) for v in (value - 0.2, value - 0.1, value))
    n_params = np.int64(candidate.n_params(8, 2))
    if status in ("failed", "diverged"):
        return Observation(candidate, status, None, n_params, 1, (math.nan,))
    epochs = len(curve) if status == "finished" else 2
    return Observation(candidate, status, value, n_params, epochs, curve[:epochs])


def status_of(step: int) -> str:
    """A mix of outcomes, as a real search sees them."""
    return {3: "pruned", 5: "failed", 7: "diverged"}.get(step % 9, "finished")


OPTIONS: dict[str, dict[str, object]] = {
    "evolution": {"population": 6, "sample_size": 3},
    "evolution+predictor": {"population": 6, "sample_size": 3, "pool": 4, "min_trials": 5},
    "tpe+predictor": {"pool": 4, "min_trials": 5},
    "nsga2": {"population_size": 6},
    "darts": {"epochs": 2},
}


def tiny_split() -> Split:
    """A small two-class problem for searchers that learn from data (darts)."""
    return split(load_builtin("moons", seed=0), seed=0)


def build(name: str, two: bool, space: SearchSpace = RICH, seed: int = 0) -> Searcher:
    searcher = make_searcher(name, space, seed, two_objectives=two, **OPTIONS.get(name, {}))
    prepare = getattr(searcher, "prepare", None)
    if prepare is not None:
        prepare(tiny_split(), True)
    return searcher


def run(searcher: Searcher, n: int, start: int = 0) -> list[Candidate]:
    """n sequential ask-tell rounds with mixed outcomes; the candidates in ask order."""
    asked = []
    for step in range(start, start + n):
        candidate = searcher.ask()
        searcher.tell(candidate, observe(candidate, status_of(step)))
        asked.append(candidate)
    return asked
