"""Searchers: what to train next. One protocol (base.Searcher), several strategies.

make_searcher is the one way the driver builds a searcher, from a name in SEARCHERS, the
space, the job's seed and the options of that strategy.
"""

from __future__ import annotations

from typing import Any

from nas.searchers.base import MAX_DRAWS, Observation, Searcher, SpaceExhaustedError
from nas.searchers.evolution import EvolutionSearcher
from nas.searchers.optuna import OptunaSearcher
from nas.searchers.random import RandomSearcher
from nas.space import SearchSpace

# name -> the options it accepts
SEARCHERS: dict[str, tuple[str, ...]] = {
    "tpe": ("n_startup_trials",),
    "random": (),
    "optuna-random": (),
    "cmaes": ("n_startup_trials",),
    "gp": ("n_startup_trials",),
    "nsga2": ("population_size", "crossover_prob"),
    "evolution": ("population", "sample_size", "crossover_prob"),
}
DEFAULT_SEARCHER = "tpe"

__all__ = [
    "DEFAULT_SEARCHER",
    "MAX_DRAWS",
    "SEARCHERS",
    "EvolutionSearcher",
    "Observation",
    "OptunaSearcher",
    "RandomSearcher",
    "Searcher",
    "SpaceExhaustedError",
    "make_searcher",
]


def make_searcher(
    name: str, space: SearchSpace, seed: int, *, two_objectives: bool = False, **options: Any
) -> Searcher:
    """The searcher called name, seeded; ValueError names a bad name or option."""
    if name not in SEARCHERS:
        raise ValueError(f"unknown searcher {name!r}; allowed: {', '.join(SEARCHERS)}")
    unknown = sorted(set(options) - set(SEARCHERS[name]))
    if unknown:
        allowed = ", ".join(SEARCHERS[name]) or "none"
        raise ValueError(f"searcher {name!r} has no option {unknown[0]!r}; allowed: {allowed}")
    if name == "random":
        return RandomSearcher(space, seed, two_objectives=two_objectives)
    if name == "evolution":
        return EvolutionSearcher(space, seed, two_objectives=two_objectives, **options)
    return OptunaSearcher(space, seed, sampler=name, two_objectives=two_objectives, **options)
