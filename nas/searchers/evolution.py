"""Regularized (aging) evolution, the genetic algorithm of Real et al. (2019).

A population of P trained candidates; a parent is the best of S members sampled at
random (tournament), its child a one-gene mutation. When a child is told it joins and
the OLDEST member leaves, not the worst: a network that scored well by luck of its
training run does not stay a parent forever, which the authors found makes the search
more robust to noisy evaluations. The first proposal is the space's centre (a sensible
default, start_at_centre); until P members exist, ask() returns random candidates.

With two objectives the tournament ranks members NSGA-II style (Pareto front first, then
crowding distance, see pareto.py); aging is unchanged. Failed and diverged children are
told but never join, so they are never parents.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.searchers.base import Observation, Proposals
from nas.searchers.mutation import crossover, mutate
from nas.searchers.pareto import crowding_distance, non_dominated_sort
from nas.space import Candidate, SearchSpace


@dataclass(frozen=True)
class Member:
    """One trained candidate in the population, with its objectives."""

    candidate: Candidate
    value: float
    n_params: int


class EvolutionSearcher:
    """Aging evolution over a SearchSpace; all randomness from one seeded Generator."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        *,
        two_objectives: bool = False,
        population: int = 20,
        sample_size: int = 5,
        crossover_prob: float = 0.0,
        start_at_centre: bool = True,
    ) -> None:
        if not (isinstance(population, int) and population >= 2):
            raise ValueError(f"population must be an integer >= 2; got {population!r}")
        if not (isinstance(sample_size, int) and 1 <= sample_size <= population):
            raise ValueError(f"sample_size must be an integer within [1, population={population}]")
        if not 0.0 <= crossover_prob <= 1.0:
            raise ValueError(f"crossover_prob must lie within [0, 1]; got {crossover_prob}")
        if not isinstance(start_at_centre, bool):
            raise ValueError(f"start_at_centre must be true or false; got {start_at_centre!r}")
        self.space = space
        self.objectives: tuple[str, ...] = ("value", "n_params") if two_objectives else ("value",)
        self.population = population
        self.sample_size = sample_size
        self.crossover_prob = crossover_prob
        self.start_at_centre = start_at_centre
        self.members: deque[Member] = deque()  # oldest first
        self._rng = np.random.default_rng(seed)
        self._proposals = Proposals()

    def ask(self) -> Candidate:
        return self._proposals.draw_new(self._breed)

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        self._proposals.settle(candidate)
        score = observation.score
        if score is None:
            return
        self.members.append(Member(candidate, float(score), int(observation.n_params)))
        if len(self.members) > self.population:
            self.members.popleft()

    def _breed(self) -> Candidate:
        if self.start_at_centre and not self._proposals.keys:
            return self.space.centre()  # the first proposal: a sensible default
        if len(self.members) < self.population:
            return self.space.sample(self._rng)
        parent = self.tournament()
        if self._rng.random() < self.crossover_prob:
            parent = crossover(parent, self.tournament(), self._rng)
        return mutate(parent, self.space, self._rng)

    def tournament(self) -> Candidate:
        """The fittest of sample_size members drawn without replacement."""
        fitness = self._fitness()
        sample = self._rng.choice(len(self.members), size=self.sample_size, replace=False)
        best = max((int(i) for i in sample), key=lambda i: fitness[i])
        return self.members[best].candidate

    def _fitness(self) -> list[tuple[float, ...]]:
        """Per member a key to maximize: the value, or (-Pareto rank, crowding distance)."""
        if len(self.objectives) == 1:
            return [(m.value,) for m in self.members]
        points = [(m.value, float(m.n_params)) for m in self.members]
        fitness: list[tuple[float, ...]] = [()] * len(points)
        for rank, front in enumerate(non_dominated_sort(points)):
            crowding = crowding_distance([points[i] for i in front])
            for i, distance in zip(front, crowding):
                fitness[i] = (-rank, distance)
        return fitness

    def state(self) -> dict[str, Any]:
        members = [
            {
                "candidate": m.candidate.model_dump(mode="json"),
                "value": m.value,
                "n_params": m.n_params,
            }
            for m in self.members
        ]
        return {**self._proposals.state(), "members": members, "rng": self._rng.bit_generator.state}

    def load_state(self, state: dict[str, Any]) -> None:
        self.members = deque(
            Member(Candidate.model_validate(m["candidate"]), m["value"], m["n_params"])
            for m in state["members"]
        )
        self._rng.bit_generator.state = state["rng"]
        self._proposals.load_state(state)
