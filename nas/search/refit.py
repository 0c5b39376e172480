"""Refit: the chosen candidate trained again on the training and validation rows together.

As scikit-learn's GridSearchCV(refit=True) does: once the search has chosen by validation
metric, the validation rows have done their job, and the network a user takes away is
better trained on them too (on digits 1,437 rows instead of 1,078). The refit trains for
the epochs at which the chosen trial's validation metric peaked (read from its recorded
curve), from the trial's own seed, so it is reproducible. The test rows are scored, never
used for a choice; the refit model has no validation score of its own (it trained on
those rows), so the search's choice stays the one made by the searched model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nas.data import Split
from nas.nn import DivergenceWarning, to_bytes
from nas.search.trial import TrialTask, build_model
from nas.space import Candidate


@dataclass(frozen=True)
class RefitOutcome:
    epochs: int
    test_metric: float | None  # None when the refit diverged, or there are no test rows
    model: bytes
    diverged: bool = False


def best_epoch(curve: Sequence[float | None]) -> int:
    """The epoch (counted from 1) of the highest finite validation metric; among equal
    highest values the latest, since accuracy on a few hundred rows ties often and a
    network that still scores its best later has not started to overfit."""
    finite = [(v, epoch) for epoch, v in enumerate(curve, 1) if v is not None and math.isfinite(v)]
    if not finite:
        raise ValueError("the curve has no finite validation metric to choose an epoch by")
    return max(finite)[1]


def refit(
    candidate: Candidate, seed: int, epochs: int, data: Split, classification: bool
) -> RefitOutcome:
    """Train `candidate` for `epochs` on train + validation rows; score the test rows."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1; got {epochs}")
    model = build_model(TrialTask(0, candidate, seed, epochs), classification)
    model.set_params(max_iter=epochs, warm_start=False)
    X = np.vstack([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    with warnings.catch_warnings():  # a diverged refit is reported by its missing score
        warnings.simplefilter("ignore", DivergenceWarning)
        model.fit(X, y)
    score = float(model.score(data.X_test, data.y_test)) if len(data.y_test) else None
    diverged = model.status_ == "diverged" or (score is not None and not math.isfinite(score))
    return RefitOutcome(epochs, None if diverged else score, to_bytes(model), diverged)
