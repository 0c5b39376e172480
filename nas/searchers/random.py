"""Random search: every candidate drawn independently from the space.

The baseline every other searcher must beat (Bergstra and Bengio 2012 found it hard to
beat in many hyperparameter problems), and the fallback when nothing is known yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nas.searchers.base import Observation, Proposals
from nas.space import Candidate, SearchSpace


class RandomSearcher:
    """Draws candidates with space.sample from a Generator seeded by seed; learns nothing."""

    def __init__(self, space: SearchSpace, seed: int, *, two_objectives: bool = False) -> None:
        self.space = space
        self.objectives: tuple[str, ...] = ("value", "n_params") if two_objectives else ("value",)
        self._rng = np.random.default_rng(seed)
        self._proposals = Proposals()

    def ask(self) -> Candidate:
        return self._proposals.draw_new(lambda: self.space.sample(self._rng))

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        self._proposals.settle(candidate)

    def state(self) -> dict[str, Any]:
        return {**self._proposals.state(), "rng": self._rng.bit_generator.state}

    def load_state(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state["rng"]
        self._proposals.load_state(state)
