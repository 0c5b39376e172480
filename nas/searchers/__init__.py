"""Searchers: what to train next. One protocol (base.Searcher), several strategies.

make_searcher is the one way the driver builds a searcher, from a name in SEARCHERS, the
space, the job's seed and the options of that strategy. What the driver can rely on:

- ask() never repeats a candidate (resumes included) and raises SpaceExhaustedError when
  MAX_DRAWS draws in a row found only old ones: the search is over.
- tell() takes only a pending candidate (asked, not yet told); anything else is a bug and
  raises ValueError.
- state() is plain JSON (no NaN). Every searcher's state has "keys" (all proposed) and
  "pending" (candidate dicts asked but not told). After load_state those are still
  pending: re-run each and tell it (or tell it failed).
- A searcher that needs the job's data (darts) has prepare(data, classification); the
  driver calls it before the first ask.
"""

from __future__ import annotations

from typing import Any

from nas.searchers.base import MAX_DRAWS, Observation, Searcher, SpaceExhaustedError
from nas.searchers.darts import DartsSearcher
from nas.searchers.evolution import EvolutionSearcher
from nas.searchers.optuna import OptunaSearcher
from nas.searchers.predictor_screening import PredictorScreeningSearcher
from nas.searchers.random import RandomSearcher
from nas.searchers.rl import ReinforceSearcher
from nas.space import SearchSpace

# name -> the options it accepts
SEARCHERS: dict[str, tuple[str, ...]] = {
    "tpe": ("n_startup_trials", "start_at_centre"),
    "random": (),
    "optuna-random": (),
    "cmaes": ("n_startup_trials",),
    "gp": ("n_startup_trials",),
    "nsga2": ("population_size", "crossover_prob"),
    "evolution": ("population", "sample_size", "crossover_prob", "start_at_centre"),
    "rl": ("policy_lr", "baseline_decay", "entropy", "bins"),
    "darts": ("epochs", "top_k", "weight_lr", "arch_lr"),
}
SCREENING = ("pool", "min_trials", "model")  # options of the predictor that screens
for _base in ("tpe", "evolution"):
    SEARCHERS[f"{_base}+predictor"] = SEARCHERS[_base] + SCREENING
DEFAULT_SEARCHER = "tpe"

__all__ = [
    "DEFAULT_SEARCHER",
    "DartsSearcher",
    "MAX_DRAWS",
    "SEARCHERS",
    "EvolutionSearcher",
    "Observation",
    "OptunaSearcher",
    "RandomSearcher",
    "ReinforceSearcher",
    "PredictorScreeningSearcher",
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
    if name.endswith("+predictor"):
        screening = {k: options.pop(k) for k in SCREENING if k in options}
        base = make_searcher(
            name.removesuffix("+predictor"), space, seed, two_objectives=two_objectives, **options
        )
        return PredictorScreeningSearcher(base, space, seed, **screening)
    if name == "random":
        return RandomSearcher(space, seed, two_objectives=two_objectives)
    if name == "evolution":
        return EvolutionSearcher(space, seed, two_objectives=two_objectives, **options)
    if name == "rl":
        return ReinforceSearcher(space, seed, two_objectives=two_objectives, **options)
    if name == "darts":
        return DartsSearcher(space, seed, two_objectives=two_objectives, **options)
    return OptunaSearcher(space, seed, sampler=name, two_objectives=two_objectives, **options)
