"""Patience: stop a trial whose best value stopped improving."""

from __future__ import annotations

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


@dataclass(frozen=True)
class PatiencePolicy(_Policy):
    """Stop a trial whose best value improved by less than min_delta in `patience` epochs.

    The within-trial rule ("minimal change in cost"): it needs no other trials, so it also
    works for the first trial of a search, but it cannot tell a slow learner from a bad one.
    """

    name: str = field(init=False, default="patience")
    patience: int = 5
    min_delta: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive_int("patience", self.patience)
        if not self.min_delta >= 0.0:
            raise ValueError(f"min_delta must be >= 0, got {self.min_delta!r}")

    def rungs(self, max_epochs: int) -> list[int]:
        return list(range(max(self.min_epochs, self.patience + 1), max_epochs))

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        if values.size <= self.patience:
            return Decision(CONTINUE, f"{TOO_FEW_POINTS}: {values.size} <= patience")
        gain = float(values[-self.patience :].max() - values[: -self.patience].max())
        if gain < self.min_delta:
            return Decision(
                STOP, f"best improved by {gain:.4g} < min_delta in {self.patience} epochs"
            )
        return Decision(CONTINUE, f"best improved by {gain:.4g} in {self.patience} epochs")
