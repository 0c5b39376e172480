"""Warm start around any searcher: the top candidates of a finished job are trained first,
then the inner searcher proposes as usual.

The seeds are trained again rather than told from the old job's stored results: the new
job may differ in data, split, seed or epochs, so the old values would not be comparable
with its own; and a searcher takes tells only for candidates it asked itself (Proposals),
so its own memory is left alone. Should the inner searcher propose a seed itself, it is
told the seed's result (or a failure, if still training) and asked again: no network is
trained twice.
"""

from __future__ import annotations

from typing import Any

from nas.searchers.base import MAX_DRAWS, Observation, Proposals, Searcher, SpaceExhaustedError
from nas.space import Candidate


class WarmStartSearcher:
    def __init__(self, inner: Searcher) -> None:
        self.inner = inner
        self.objectives = inner.objectives
        self.seeds: list[Candidate] = []  # not handed out yet
        self.seeded = False  # seeds were looked up (once, at the job's first start)
        self._proposals = Proposals()  # the seeds handed out
        self._results: dict[str, Observation] = {}

    def add_seeds(self, candidates: list[Candidate]) -> None:
        known = set(self._proposals.keys) | {c.key() for c in self.seeds}
        for c in candidates:
            if c.key() not in known:
                self.seeds.append(c)
                known.add(c.key())
        self.seeded = True

    def ask(self) -> Candidate:
        if self.seeds:
            seed = self.seeds.pop(0)
            return self._proposals.draw_new(lambda: seed)
        for _ in range(MAX_DRAWS):
            candidate = self.inner.ask()
            if candidate.key() not in self._proposals.keys:
                return candidate
            result = self._results.get(candidate.key())
            self.inner.tell(candidate, result or Observation(candidate, "failed", None, 0, 0))
        raise SpaceExhaustedError("the inner searcher proposes only seeds already trained")

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        if candidate.key() in self._proposals.pending:
            self._proposals.settle(candidate)
            self._results[candidate.key()] = observation
        else:
            self.inner.tell(candidate, observation)

    def state(self) -> dict[str, Any]:
        inner, own = self.inner.state(), self._proposals.state()
        return {
            "keys": sorted({*inner["keys"], *own["keys"]}),
            "pending": own["pending"] + inner["pending"],
            "inner": inner,
            "seeds": [c.model_dump(mode="json") for c in self.seeds],
            "seeded": self.seeded,
            "proposals": own,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.inner.load_state(state["inner"])
        self.seeds = [Candidate.model_validate(c) for c in state["seeds"]]
        self.seeded = state["seeded"]
        self._proposals.load_state(state["proposals"])
