"""Screening proposals with the learned predictor: draw a pool, train only the predicted best.

Wraps any searcher (TPE, evolution). Until min_trials trials with a curve have been told,
asks pass straight through. From then on each ask draws `pool` proposals from the wrapped
searcher, ranks them by predicted final metric, and returns the best; the others are told
back as failed, so the wrapped searcher never learns from them (TPE treats a failed trial as
no evidence, evolution never breeds from one) and never proposes them again. Each screened
out proposal is a network not trained: the epochs saved.

The predictor is refitted once the told curves have grown by a tenth since the last fit
(at least one), so a long search does not pay a fit per trial. The model is not part of
the state: the told curves are, with how many of them the last fit used, and a resumed
search refits on exactly those, so it goes on as if never stopped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nas.searchers.base import Observation, Searcher, SpaceExhaustedError
from nas.searchers.options import check_number
from nas.searchers.predictor import PerformancePredictor
from nas.space import Candidate, SearchSpace


class PredictorScreeningSearcher:
    """Another searcher's proposals, screened by a PerformancePredictor fitted on told trials."""

    def __init__(
        self,
        base: Searcher,
        space: SearchSpace,
        seed: int,
        *,
        pool: int = 8,
        min_trials: int = 10,
        model: str = "forest",
    ) -> None:
        check_number("pool", pool, 1, 100, integer=True)
        check_number("min_trials", min_trials, 2, 100_000, integer=True)
        if len(base.objectives) > 1:
            raise ValueError("the predictor screens by one objective; use tpe, evolution or nsga2")
        self.base = base
        self.objectives = base.objectives
        self.pool = pool
        self.min_trials = min_trials
        self.predictor = PerformancePredictor(space, seed, model)
        self.history: list[tuple[Candidate, tuple[float, ...]]] = []  # told curves
        self.screened_out = 0
        self._fitted_on = 0

    def ask(self) -> Candidate:
        if len(self.history) < self.min_trials or self.pool == 1:
            return self.base.ask()
        proposals: list[Candidate] = []
        try:
            for _ in range(self.pool):
                proposals.append(self.base.ask())
        except SpaceExhaustedError:
            if not proposals:
                raise
        best = int(np.argmax(self._predict(proposals)))
        for i, rejected in enumerate(proposals):
            if i != best:
                self.base.tell(rejected, Observation(rejected, "failed", None, 0, 0))
                self.screened_out += 1
        return proposals[best]

    def _predict(self, proposals: list[Candidate]) -> np.ndarray:
        if self._fitted_on and not self.predictor.fitted:  # resumed: the fit it had
            self.predictor.fit(self.history[: self._fitted_on])
        grown = len(self.history) - self._fitted_on >= max(1, self._fitted_on // 10)
        if grown or not self.predictor.fitted:
            self.predictor.fit(self.history)
            self._fitted_on = len(self.history)
        return self.predictor.predict(proposals)

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        self.base.tell(candidate, observation)
        curve = tuple(float(v) for v in observation.curve)
        if observation.status in ("finished", "pruned") and any(math.isfinite(v) for v in curve):
            self.history.append((candidate, curve))

    def state(self) -> dict[str, Any]:
        base = self.base.state()
        history = [
            {
                "candidate": c.model_dump(mode="json"),
                "curve": [v if math.isfinite(v) else None for v in curve],
            }
            for c, curve in self.history
        ]
        return {
            "keys": base["keys"],
            "pending": base["pending"],
            "base": base,
            "history": history,
            "screened_out": self.screened_out,
            "fitted_on": self._fitted_on,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.base.load_state(state["base"])
        self.history = [
            (
                Candidate.model_validate(h["candidate"]),
                tuple(math.nan if v is None else float(v) for v in h["curve"]),
            )
            for h in state["history"]
        ]
        self.screened_out = int(state["screened_out"])
        self._fitted_on = int(state["fitted_on"])
        self.predictor = PerformancePredictor(
            self.predictor.space, self.predictor.seed, self.predictor.model
        )
