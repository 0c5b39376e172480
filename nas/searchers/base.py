"""The Searcher protocol: what the driver calls to get candidates and report results.

A searcher proposes (ask) and learns (tell); it never trains anything itself, so the same
searcher serves the local and the Ray executor alike. Its whole memory is a JSON document
(state / load_state), stored with the job, so that a restarted driver resumes the search.

Two promises every searcher keeps, because the driver relies on them:

- ask() never proposes a candidate it proposed before (in this process or before a
  resume), so no network is trained twice. After MAX_DRAWS duplicate draws in a row it
  raises SpaceExhaustedError, which the driver treats as the end of the search.
- ask() may be called several times before any tell (parallel workers); the pending
  candidates are distinct and are kept in state().
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from nas.space import Candidate
from nas.status import ENDED_TRIAL_STATUSES

STATUSES = ENDED_TRIAL_STATUSES
MAX_DRAWS = 100


class SpaceExhaustedError(RuntimeError):
    """ask() found no candidate it had not proposed before in MAX_DRAWS tries."""


@dataclass(frozen=True)
class Observation:
    """What tell() receives about one trained candidate."""

    candidate: Candidate
    status: str  # "finished" | "pruned" | "failed" | "diverged"
    value: float | None  # validation metric, higher is better; None if failed or diverged
    n_params: int  # the second objective (minimized) in two-objective mode
    epochs: int  # epochs actually trained
    curve: tuple[float, ...] = ()  # validation metric per epoch

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}; got {self.status!r}")
        if self.status == "finished" and self.value is None:
            raise ValueError("a finished observation needs a value")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"value must be finite or None (diverged); got {self.value}")

    @property
    def score(self) -> float | None:
        """The value that may guide the search; None for failed and diverged trials.

        A pruned trial told without a value scores its last finite curve point.
        """
        if self.status in ("failed", "diverged"):
            return None
        if self.value is not None:
            return float(self.value)
        finite = [v for v in self.curve if math.isfinite(v)]
        return float(finite[-1]) if finite else None


class Searcher(Protocol):
    """Proposes candidates, learns from results, and saves its memory as JSON."""

    objectives: tuple[str, ...]  # ("value",) or ("value", "n_params")

    def ask(self) -> Candidate: ...

    def tell(self, candidate: Candidate, observation: Observation) -> None: ...

    def state(self) -> dict[str, Any]: ...

    def load_state(self, state: dict[str, Any]) -> None: ...


class Proposals:
    """Every candidate a searcher has proposed, and those still waiting for their tell."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.pending: dict[str, Candidate] = {}

    def draw_new(self, draw: Callable[[], Candidate]) -> Candidate:
        """Call draw until it gives a candidate never proposed before, and record it."""
        for _ in range(MAX_DRAWS):
            candidate = draw()
            key = candidate.key()
            if key not in self.keys:
                self.keys.add(key)
                self.pending[key] = candidate
                return candidate
        raise SpaceExhaustedError(f"no new candidate in {MAX_DRAWS} draws; the space is exhausted")

    def settle(self, candidate: Candidate) -> None:
        """Mark a pending candidate as told; telling one never asked (or twice) is a bug."""
        if self.pending.pop(candidate.key(), None) is None:
            raise ValueError(f"candidate {candidate.key()} is not pending: never asked or told")

    def state(self) -> dict[str, Any]:
        """keys: every candidate ever proposed; pending: candidate dicts awaiting tell."""
        return {
            "keys": sorted(self.keys),
            "pending": [c.model_dump(mode="json") for c in self.pending.values()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.keys = set(state["keys"])
        pending = [Candidate.model_validate(c) for c in state["pending"]]
        self.pending = {c.key(): c for c in pending}
