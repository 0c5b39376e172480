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


@dataclass(frozen=True)
class AveragedRefit:
    """The chosen candidate refit from several seeds and averaged (spec.refit_seeds)."""

    model: bytes  # an Ensemble's file (nas.nn.ensemble), members without preprocessing
    test_metric: float | None  # the average's; None without test rows
    first: RefitOutcome  # the refit from the trial's own seed: the single network's
    seeds: list[int]  # of the members kept (a diverged refit is left out)


def member_seed(seed: int, k: int) -> int:
    """The k-th averaged network's seed: the trial's own for k = 0, then drawn from it."""
    return seed if k == 0 else int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def refit_averaged(
    candidate: Candidate,
    seed: int,
    epochs: int,
    data: Split,
    classification: bool,
    n: int,
    number: int | None = None,
) -> AveragedRefit | None:
    """`n` refits of one candidate from seeds drawn from its own, averaged with equal
    weights: seed averaging, the cheapest ensemble (the networks differ only by their
    initial weights, dropout masks and row order, so their errors partly cancel). None
    when every refit diverged. `number`: the trial's, recorded with each member."""
    from nas.nn import from_bytes
    from nas.nn.ensemble import Ensemble
    from nas.nn.ensemble import to_bytes as ensemble_to_bytes

    seeds = [member_seed(seed, k) for k in range(n)]
    outcomes = [refit(candidate, s, epochs, data, classification) for s in seeds]
    kept = [(s, o) for s, o in zip(seeds, outcomes) if not o.diverged]
    if not kept:
        return None
    info = [{"number": number, "seed": s, "epochs": epochs} for s, _ in kept]
    ensemble = Ensemble([from_bytes(o.model) for _, o in kept], [1.0] * len(kept), info)
    test = float(ensemble.score(data.X_test, data.y_test)) if len(data.y_test) else None
    payload = ensemble_to_bytes(ensemble, [o.model for _, o in kept])
    finite = test if test is not None and math.isfinite(test) else None
    return AveragedRefit(payload, finite, outcomes[0], [s for s, _ in kept])
