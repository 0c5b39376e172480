"""ASHA and Hyperband: successive halving at geometric rungs."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from nas.stopping.base import (
    CONTINUE,
    STOP,
    TOO_FEW_POINTS,
    Curves,
    Decision,
    TrialId,
    _Policy,
    _positive_int,
)


def _geometric_rungs(min_epochs: int, eta: int, max_epochs: int) -> list[int]:
    rungs, r = [], min_epochs
    while r < max_epochs:
        rungs.append(r)
        r *= eta
    return rungs


def _promoted(trial_id: TrialId, curves: Curves, rung: int, eta: int, peers: set[TrialId]) -> bool:
    """ASHA's rule: is trial_id in the top 1/eta (at least one) of the peers at this rung?"""
    ranked = [
        (-float(c.values[rung - 1]), order, other)
        for order, (other, c) in enumerate(curves.items())
        if other in peers and len(c.values) >= rung and math.isfinite(c.values[rung - 1])
    ]
    ranked.sort(key=lambda item: item[:2])  # ties go to the earlier trial: deterministic
    top = max(1, len(ranked) // eta)
    return trial_id in {other for _, _, other in ranked[:top]}


@dataclass(frozen=True)
class AshaPolicy(_Policy):
    """Asynchronous successive halving (Li et al. 2020): at rung r = min_epochs * eta^k a
    trial goes on only if it is in the top 1/eta of all trials that have reached r so far.
    """

    name: str = field(init=False, default="asha")
    eta: int = 3
    max_epochs: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive_int("eta", self.eta, least=2)
        if self.max_epochs is not None and self.max_epochs < self.min_epochs:
            raise ValueError(
                f"max_epochs must be >= min_epochs ({self.min_epochs}), got {self.max_epochs}"
            )

    def rungs(self, max_epochs: int) -> list[int]:
        return _geometric_rungs(self.min_epochs, self.eta, self.max_epochs or max_epochs)

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        return _asha_decision(trial_id, values, curves, self.rungs(max_epochs), self.eta, None)


def _asha_decision(
    trial_id: TrialId,
    values: np.ndarray,
    curves: Curves,
    rungs: list[int],
    eta: int,
    peers: set[TrialId] | None,
) -> Decision:
    reached = [r for r in rungs if r <= values.size]
    if not reached:
        return Decision(CONTINUE, f"{TOO_FEW_POINTS}: below the first rung")
    rung = reached[-1]
    if _promoted(trial_id, curves, rung, eta, set(curves) if peers is None else peers):
        return Decision(CONTINUE, f"promoted: top 1/{eta} at rung {rung}")
    return Decision(STOP, f"not in the top 1/{eta} at rung {rung}")


@dataclass(frozen=True)
class HyperbandPolicy(AshaPolicy):
    """Asynchronous Hyperband: ASHA brackets that start at min_epochs * eta^s, s = 0..s_max.

    A trial's bracket comes from a CRC32 of its id (stable across processes, unlike hash()),
    weighted as Hyperband's bracket sizes eta^s / (s + 1) so every bracket gets a similar
    budget; a trial competes only with trials of its own bracket.
    """

    name: str = field(init=False, default="hyperband")

    def bracket(self, trial_id: TrialId, max_epochs: int) -> int:
        n_brackets = len(self.rungs(max_epochs))
        sizes = np.array([self.eta**s / (s + 1) for s in range(n_brackets)])
        point = zlib.crc32(repr(trial_id).encode()) / 2**32 * sizes.sum()
        return int(min(np.searchsorted(np.cumsum(sizes), point, side="right"), n_brackets - 1))

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        s = self.bracket(trial_id, max_epochs)
        peers = {t for t in curves if self.bracket(t, max_epochs) == s}
        rungs = self.rungs(max_epochs)[s:]
        decision = _asha_decision(trial_id, values, curves, rungs, self.eta, peers)
        return Decision(decision.action, f"bracket {s}: {decision.reason}")
