"""The search's budget books: trials started, epochs spent and held, the clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from nas.spec import Budget


@dataclass
class Books:
    """Budget accounting: trials started, epochs spent and held, the clock. An epoch on a
    fraction of the training rows, or of a proxy, counts as that fraction of an epoch."""

    started: int = 0
    spent: float = 0
    held: float = 0
    saved: int = 0
    deadline: float = float("inf")
    exhausted: bool = False
    told: set[int] = field(default_factory=set)

    def may_retry(self, budget: Budget) -> bool:
        """A retry is no new trial: only the epoch budget and the clock hold it back."""
        return not (
            (budget.epochs is not None and self.spent + self.held >= budget.epochs)
            or time.monotonic() >= self.deadline
        )

    def may_start(self, budget: Budget) -> bool:
        return self.may_retry(budget) and not (
            self.exhausted or (budget.trials is not None and self.started >= budget.trials)
        )
