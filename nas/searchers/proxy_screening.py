"""Proxy screening around any searcher: of each pool of proposals, only the best by a
cheap stand-in's score are handed out for full training.

The stand-in's training is not the searcher's business: a `screen` function (the driver's)
trains one proxy per proposal and returns what it scored. The proposals screened out are
told to the inner searcher as pruned at the proxy's score, as a trial stopped at a low
rung would be, so a model-based searcher still learns from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nas.searchers.base import Observation, Searcher, SpaceExhaustedError
from nas.space import Candidate


@dataclass(frozen=True)
class ProxyResult:
    """What screening learned of one candidate from its proxy."""

    value: float | None  # the proxy's last finite validation metric; None: failed or diverged
    curve: tuple[float, ...]
    n_params: int  # the proxy's
    full_n_params: int  # the full candidate's
    cost: float  # in full-candidate epochs


Screen = Callable[[Sequence[Candidate]], list[ProxyResult]]
Record = Callable[[Sequence[Candidate], Sequence[ProxyResult], set[int]], None]


def kept(results: Sequence[ProxyResult], n_keep: int) -> set[int]:
    """Indices of the n_keep best proxies; failed ones last, ties to the earlier proposal."""
    order = sorted(
        range(len(results)),
        key=lambda i: (results[i].value is None, -(results[i].value or 0.0), i),
    )
    return set(order[:n_keep])


class ProxyScreeningSearcher:
    """Hands out the kept candidates of each screened pool, best proxy first."""

    def __init__(
        self,
        inner: Searcher,
        screen: Screen,
        *,
        pool: int,
        n_keep: int,
        record: Record | None = None,
    ) -> None:
        self.inner = inner
        self.objectives = inner.objectives
        self.screen, self.record = screen, record
        self.pool, self.n_keep = pool, n_keep
        self.queue: list[Candidate] = []  # kept, not handed out yet (pending in inner)

    def ask(self) -> Candidate:
        if not self.queue:
            self._screen_pool()
        return self.queue.pop(0)

    def _screen_pool(self) -> None:
        proposals: list[Candidate] = []
        for _ in range(self.pool):
            try:
                proposals.append(self.inner.ask())
            except SpaceExhaustedError:
                if not proposals:
                    raise
                break
        results = self.screen(proposals)
        keep = kept(results, self.n_keep)
        if self.record is not None:
            self.record(proposals, results, keep)
        ranked = sorted(keep, key=lambda i: (-(results[i].value or 0.0), i))
        self.queue.extend(proposals[i] for i in ranked)
        for i, (candidate, result) in enumerate(zip(proposals, results)):
            if i not in keep:
                status = "failed" if result.value is None else "pruned"
                obs = Observation(
                    candidate,
                    status,
                    result.value,
                    result.full_n_params,
                    len(result.curve),
                    result.curve,
                )
                self.inner.tell(candidate, obs)

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        key = candidate.key()
        self.queue = [c for c in self.queue if c.key() != key]  # a lost one, told on resume
        self.inner.tell(candidate, observation)

    def state(self) -> dict[str, Any]:
        inner = self.inner.state()
        queue = [c.model_dump(mode="json") for c in self.queue]
        return {"keys": inner["keys"], "pending": inner["pending"], "inner": inner, "queue": queue}

    def load_state(self, state: dict[str, Any]) -> None:
        self.inner.load_state(state["inner"])
        self.queue = [Candidate.model_validate(c) for c in state["queue"]]
