"""The job's final model once the search ends: which trial (the leaderboard's first, or
the best of its top by k-fold cross-validation on small data), refit on training +
validation rows, from one seed or several averaged.

The driver reads the contenders from the store and writes back what this returns, so
the steps between (search/selection.py, search/refit.py) stay free of the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nas.data import Split
from nas.search.refit import refit, refit_averaged
from nas.search.selection import Contender, applies, choose
from nas.spec import SelectionSpec


@dataclass(frozen=True)
class FinalModel:
    model: bytes | None  # a network's or an ensemble's file; None: every refit diverged
    test_metric: float | None
    epochs: int
    meta: dict[str, Any]  # number (whose network), epochs, selection, ensemble, ...


def final_model(
    contenders: Sequence[Contender],
    data: Split,
    classification: bool,
    *,
    seed: int,
    refit_seeds: int = 1,
    selection: SelectionSpec | None = None,
) -> FinalModel:
    """Choose among the contenders (best first), refit the choice and describe it."""
    meta: dict[str, Any] = {"refit": True, "rows": "train+validation"}
    pick = contenders[0]
    if selection and applies(data, len(contenders), selection.max_rows, selection.folds):
        index, means = choose(contenders, data, classification, selection.folds, seed)
        pick = contenders[index]
        meta["selection"] = {
            "folds": selection.folds,
            "scores": [{"number": c.number, "cv_metric": m} for c, m in zip(contenders, means)],
        }
        if index:  # what the validation split alone would have served, for the record
            first = contenders[0]
            alone = refit(first.candidate, first.seed, first.epochs, data, classification)
            meta["validation_choice"] = {"number": first.number, "test_metric": alone.test_metric}
    meta |= {"number": pick.number, "epochs": pick.epochs}
    if refit_seeds > 1:
        averaged = refit_averaged(
            pick.candidate, pick.seed, pick.epochs, data, classification, refit_seeds, pick.number
        )
        if averaged is None:  # every refit diverged, the trial's own seed's among them
            return FinalModel(None, None, pick.epochs, meta)
        members = [{"number": pick.number, "seed": s} for s in averaged.seeds]
        meta["ensemble"] = {
            "kind": "seeds",
            "size": len(members),
            "test_metric": averaged.test_metric,
            "members": [m | {"weight": 1 / len(members)} for m in members],
        }
        meta["single_test_metric"] = averaged.first.test_metric
        return FinalModel(averaged.model, averaged.test_metric, pick.epochs, meta)
    outcome = refit(pick.candidate, pick.seed, pick.epochs, data, classification)
    model = None if outcome.diverged else outcome.model
    return FinalModel(model, outcome.test_metric, outcome.epochs, meta)
