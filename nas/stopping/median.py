"""The median rule: stop a trial below the median of its peers at the same epoch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nas.stopping.base import CONTINUE, STOP, Curves, Decision, TrialId, _Policy, _positive_int


@dataclass(frozen=True)
class MedianPolicy(_Policy):
    """The Vizier median rule: stop a trial whose best value so far at epoch s is below the
    median of the other trials' running averages up to s.

    "Other trials" are all trials that reached epoch s, stopped or not (as Optuna's
    MedianPruner); the rule waits for `n_startup_trials` of them.
    """

    name: str = field(init=False, default="median")
    n_startup_trials: int = 5
    interval: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive_int("n_startup_trials", self.n_startup_trials, least=0)
        _positive_int("interval", self.interval)

    def rungs(self, max_epochs: int) -> list[int]:
        return list(range(self.min_epochs, max_epochs, self.interval))

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        s = values.size
        averages = [
            float(np.mean(c.values[:s]))
            for other, c in curves.items()
            if other != trial_id and len(c.values) >= s and np.all(np.isfinite(c.values[:s]))
        ]
        if len(averages) < max(self.n_startup_trials, 1):
            return Decision(CONTINUE, f"only {len(averages)} other trials reached epoch {s}")
        median, best = float(np.median(averages)), float(values.max())
        if best < median:
            return Decision(STOP, f"best {best:.4g} < median {median:.4g} at epoch {s}")
        return Decision(CONTINUE, f"best {best:.4g} >= median {median:.4g} at epoch {s}")
