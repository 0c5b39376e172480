"""Optuna's samplers as searchers: ask-and-tell over an in-memory study.

Optuna brings the model-based searchers (TPE, CMA-ES, Gaussian process, NSGA-II); this
module only translates. The study lives in memory and is NOT the record of the search:
state() keeps the told trials (parameters, outcome, curve) and the pending asks, and
load_state rebuilds a study from them with add_trial. The rebuilt sampler is reseeded
from (seed, number of trials so far), so a resumed search goes on deterministically
without replaying the random stream it used before; any candidate proposed before the
resume is skipped all the same (see Proposals).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler
from optuna.study import StudyDirection
from optuna.trial import Trial, TrialState, create_trial

from nas.searchers.base import Observation, Proposals
from nas.searchers.optuna_space import centre_params, distributions, params_of, suggest
from nas.space import Candidate, SearchSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)

SAMPLERS = ("tpe", "optuna-random", "cmaes", "gp", "nsga2")
_OUTCOMES = {"finished": TrialState.COMPLETE, "pruned": TrialState.PRUNED}
RANDOM_AFTER_DUPLICATES = 10  # proposals in a row the search already had, then one random


class OptunaSearcher:
    """One Optuna sampler behind the Searcher protocol.

    Value is maximized; with two objectives n_params is minimized as well.
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        *,
        sampler: str = "tpe",
        two_objectives: bool = False,
        **options: Any,
    ) -> None:
        self.space = space
        self.objectives: tuple[str, ...] = ("value", "n_params") if two_objectives else ("value",)
        self.sampler_name = sampler
        self.seed = seed
        self.options = options
        self.study = self._new_study(n_trials=0)
        if sampler == "tpe" and options.get("start_at_centre", True):
            self.study.enqueue_trial(centre_params(space))  # the first proposal
        self._asked: dict[str, Trial] = {}  # pending candidate key -> its running trial
        self._told: list[dict[str, Any]] = []
        self._proposals = Proposals()
        self._duplicates = 0  # proposals in a row the search already had

    def ask(self) -> Candidate:
        return self._proposals.draw_new(self._draw)

    def _draw(self) -> Candidate:
        if self._duplicates >= RANDOM_AFTER_DUPLICATES:
            # a model-based sampler (GP's acquisition above all) can keep proposing a point
            # it already has, since a duplicate is told as failed and teaches it nothing:
            # one uniform draw from the space, from the job's seed, moves it on
            rng = np.random.default_rng([self.seed, len(self._proposals.keys), self._duplicates])
            self.study.enqueue_trial(params_of(self.space.sample(rng), self.space))
        with _quiet():
            trial = self.study.ask()
            candidate = suggest(trial, self.space)
        if candidate.key() in self._proposals.keys:
            self.study.tell(trial, state=TrialState.FAIL)  # a duplicate: never trained
            self._duplicates += 1
        else:
            self._asked[candidate.key()] = trial
            self._duplicates = 0
        return candidate

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        self._proposals.settle(candidate)
        trial = self._asked.pop(candidate.key())
        record = {
            "params": trial.params,
            "status": observation.status,
            "value": observation.score,
            "n_params": int(observation.n_params),
            "curve": [float(v) for v in observation.curve if math.isfinite(v)],
        }
        state, values, curve = self._outcome(record)
        for step, value in curve.items():
            trial.report(value, step)
        self.study.tell(trial, values, state=state)
        self._told.append(record)

    def _outcome(
        self, record: dict[str, Any]
    ) -> tuple[TrialState, list[float] | None, dict[int, float]]:
        """Optuna's state, values and intermediate values for one told record.

        Pruned trials report their curve so TPE can compare them at equal epochs; a
        multi-objective study keeps no intermediate values, so there they only count as
        pruned.
        """
        state = _OUTCOMES.get(record["status"], TrialState.FAIL)
        if record["value"] is None:
            return TrialState.FAIL, None, {}
        if state == TrialState.PRUNED:
            if len(self.objectives) > 1:
                return state, None, {}
            curve = record["curve"] or [record["value"]]
            return state, None, dict(enumerate(curve))
        if len(self.objectives) > 1:
            return state, [record["value"], record["n_params"]], {}
        return state, [record["value"]], {}

    def state(self) -> dict[str, Any]:
        pending_params = [trial.params for trial in self._asked.values()]
        return {**self._proposals.state(), "told": self._told, "pending_params": pending_params}

    def load_state(self, state: dict[str, Any]) -> None:
        told, pending_params = state["told"], state["pending_params"]
        self.study = self._new_study(n_trials=len(told) + len(pending_params))
        self._told, self._asked = [], {}
        self._proposals.load_state(state)
        for record in told:
            trial_state, values, curve = self._outcome(record)
            if trial_state == TrialState.PRUNED and curve:
                values = [list(curve.values())[-1]]  # what tell(PRUNED) records live
            frozen = create_trial(
                state=trial_state,
                values=values,
                params=record["params"],
                distributions=distributions(self.space, record["params"]),
                intermediate_values=curve,
            )
            self.study.add_trial(frozen)
            self._told.append(record)
        for params in pending_params:
            self._reopen(params)

    def _reopen(self, params: dict[str, Any]) -> None:
        """Ask again for a trial pending at save time, its parameters fixed by enqueueing."""
        self.study.enqueue_trial(params)
        with _quiet():
            trial = self.study.ask()
            candidate = suggest(trial, self.space)
        self._asked[candidate.key()] = trial

    def _new_study(self, n_trials: int) -> optuna.Study:
        seed = int(np.random.SeedSequence([self.seed, n_trials]).generate_state(1)[0])
        with _quiet():
            sampler = make_sampler(self.sampler_name, seed, len(self.objectives), self.options)
        directions = [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE][: len(self.objectives)]
        return optuna.create_study(directions=directions, sampler=sampler)


def make_sampler(name: str, seed: int, n_objectives: int, options: dict[str, Any]) -> BaseSampler:
    """The seeded sampler for a searcher name, its options checked."""
    if not isinstance(options.get("start_at_centre", True), bool):
        raise ValueError(
            f"start_at_centre must be true or false; got {options['start_at_centre']!r}"
        )
    n_startup = options.get("n_startup_trials", 10)
    if not (isinstance(n_startup, int) and n_startup >= 0):
        raise ValueError(f"n_startup_trials must be an integer >= 0; got {n_startup!r}")
    if name == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=n_startup,
            multivariate=True,
            group=True,  # the widths are conditional on depth
            constant_liar=True,  # pending trials count as bad, so parallel asks differ
        )
    if name == "optuna-random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        if n_objectives > 1:
            raise ValueError("cmaes optimizes one objective; use nsga2, tpe or evolution")
        return optuna.samplers.CmaEsSampler(
            seed=seed,
            n_startup_trials=n_startup,
            independent_sampler=optuna.samplers.TPESampler(seed=seed),  # categoricals
            warn_independent_sampling=False,
        )
    if name == "gp":
        return _gp_sampler(seed, n_startup)
    if name == "nsga2":
        population_size = options.get("population_size", 20)
        crossover_prob = options.get("crossover_prob", 0.9)
        if not (isinstance(population_size, int) and population_size >= 2):
            raise ValueError(f"population_size must be an integer >= 2; got {population_size!r}")
        if not 0.0 <= crossover_prob <= 1.0:
            raise ValueError(f"crossover_prob must lie within [0, 1]; got {crossover_prob}")
        return optuna.samplers.NSGAIISampler(
            seed=seed, population_size=population_size, crossover_prob=crossover_prob
        )
    raise ValueError(f"unknown Optuna sampler {name!r}; allowed: {', '.join(SAMPLERS)}")


def _gp_sampler(seed: int, n_startup: int) -> BaseSampler:
    try:
        import torch  # noqa: F401  GPSampler needs it, and says so only when first asked
    except ImportError as error:
        raise ImportError("the gp searcher needs PyTorch: pip install 'nas-service[gp]'") from error
    return optuna.samplers.GPSampler(
        seed=seed,
        n_startup_trials=n_startup,
        independent_sampler=optuna.samplers.TPESampler(seed=seed),
        warn_independent_sampling=False,
    )


@contextmanager
def _quiet() -> Iterator[None]:
    """Optuna marks constant_liar, group and others experimental; we chose them knowingly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield
