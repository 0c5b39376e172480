"""The StoppingPolicy protocol, its Decision, and the rules every policy shares."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np

CONTINUE: Final = "continue"
STOP: Final = "stop"
DIVERGED: Final = "diverged"
TOO_FEW_POINTS: Final = "too few points"

TrialId = Hashable


@dataclass(frozen=True)
class TrialCurve:
    """One trial's learning curve so far, and whether it ran its full epoch budget."""

    values: Sequence[float]
    finished: bool = False


@dataclass(frozen=True)
class Decision:
    """What the driver should do with a trial at a rung boundary, and why; a policy that
    forecasts the final value says it (the dashboard draws it past a pruned curve)."""

    action: str
    reason: str
    predicted_final: float | None = None


Curves = Mapping[TrialId, TrialCurve]


class StoppingPolicy(Protocol):
    """The extension point: where to ask (rungs) and what to do there (decide)."""

    @property
    def name(self) -> str:
        """Short registry name, e.g. "asha"."""
        ...

    def rungs(self, max_epochs: int) -> list[int]:
        """Epoch counts, below max_epochs, after which the driver asks `decide`."""
        ...

    def decide(self, trial_id: TrialId, curves: Curves, max_epochs: int) -> Decision:
        """CONTINUE or STOP for `trial_id`, whose curve so far is curves[trial_id]."""
        ...


def _positive_int(name: str, value: int, least: int = 1) -> int:
    if not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return value


def _probability(name: str, value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


@dataclass(frozen=True)
class _Policy:
    """Shared rules (diverged, too few points, budget reached) around a policy's own rule."""

    name: str = field(init=False, default="")
    min_epochs: int = 1

    def __post_init__(self) -> None:
        _positive_int("min_epochs", self.min_epochs)

    def rungs(self, max_epochs: int) -> list[int]:
        return list(range(self.min_epochs, max_epochs))

    def decide(self, trial_id: TrialId, curves: Curves, max_epochs: int) -> Decision:
        values = np.asarray(curves[trial_id].values, dtype=float)
        if not np.all(np.isfinite(values)):
            return Decision(STOP, DIVERGED)
        if values.size < self.min_epochs:
            return Decision(CONTINUE, f"{TOO_FEW_POINTS}: {values.size} < {self.min_epochs}")
        if values.size >= max_epochs:
            return Decision(CONTINUE, "epoch budget reached")
        return self._decide(trial_id, values, curves, max_epochs)

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        raise NotImplementedError


@dataclass(frozen=True)
class NoStopping(_Policy):
    """Train every trial for the full budget (only diverged trials are stopped)."""

    name: str = field(init=False, default="none")

    def rungs(self, max_epochs: int) -> list[int]:
        return []

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        return Decision(CONTINUE, "no stopping")


@dataclass(frozen=True)
class AnyOf:
    """Stop when any of the policies says stop; ask at the union of their rungs."""

    policies: tuple[StoppingPolicy, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if not self.policies:
            raise ValueError("policies must not be empty")
        if not self.name:
            object.__setattr__(self, "name", "+".join(p.name for p in self.policies))

    def rungs(self, max_epochs: int) -> list[int]:
        return sorted({r for p in self.policies for r in p.rungs(max_epochs)})

    def decide(self, trial_id: TrialId, curves: Curves, max_epochs: int) -> Decision:
        """Ask each policy whose rung this is; stop at the first STOP."""
        values = curves[trial_id].values
        if not np.all(np.isfinite(np.asarray(values, dtype=float))):
            return Decision(STOP, DIVERGED)
        reasons = []
        for policy in self.policies:
            if len(values) not in policy.rungs(max_epochs):
                continue  # e.g. ASHA ranks trials only at its own rungs
            decision = policy.decide(trial_id, curves, max_epochs)
            if decision.action == STOP:
                return Decision(STOP, f"{policy.name}: {decision.reason}", decision.predicted_final)
            reasons.append(f"{policy.name}: {decision.reason}")
        return Decision(CONTINUE, "; ".join(reasons) or f"epoch {len(values)} is no rung")
