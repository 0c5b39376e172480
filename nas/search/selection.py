"""The final choice by k-fold cross-validation, when the data are small.

On a few hundred rows one validation split misleads: the leaderboard's best is often the
trial that suited those rows (on the tabular suite one search's best validation R^2 was
0.927 and its test R^2 0.745). So, as auto-sklearn and AutoGluon do on small data, the
search's few best trials are compared again by k-fold cross-validation over the training
and validation rows together: each trained for the epochs its validation metric peaked
at, on k - 1 folds, scored on the fold left out; the highest mean wins. The folds come
from the job's seed (stratified for a classification), each trial keeps its own seed,
so the choice is reproducible. The test rows take no part.

Cost: top x folds trainings, on at most max_rows rows (spec.selection), which is why it
is for small data only: there the search's one split is noisiest and a training cheapest.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from nas.data import Split
from nas.nn import DivergenceWarning
from nas.search.trial import TrialTask, build_model
from nas.space import Candidate


@dataclass(frozen=True)
class Contender:
    """One of the search's best trials, as the cross-validation retrains it."""

    number: int
    candidate: Candidate
    seed: int
    epochs: int  # where its validation metric peaked


def fold_scores(
    contender: Contender, data: Split, classification: bool, folds: int, seed: int
) -> list[float]:
    """The contender's metric on each held-out fold of train + validation rows (NaN where
    its training diverged)."""
    X = np.vstack([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    splitter = (StratifiedKFold if classification else KFold)(
        folds, shuffle=True, random_state=seed
    )
    scores = []
    for fit_rows, held_out in splitter.split(X, y if classification else None):
        task = TrialTask(contender.number, contender.candidate, contender.seed, contender.epochs)
        model = build_model(task, classification)
        model.set_params(max_iter=contender.epochs, warm_start=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            model.fit(X[fit_rows], y[fit_rows])
        score = float(model.score(X[held_out], y[held_out]))
        scores.append(score if math.isfinite(score) else math.nan)
    return scores


def choose(
    contenders: Sequence[Contender], data: Split, classification: bool, folds: int, seed: int
) -> tuple[int, list[float]]:
    """The index of the contender with the best mean fold score (the earlier, so the
    leaderboard's order, among equals; a contender with a diverged fold scores -inf), and
    every contender's mean."""
    means = []
    for c in contenders:
        scores = fold_scores(c, data, classification, folds, seed)
        means.append(-math.inf if any(math.isnan(s) for s in scores) else float(np.mean(scores)))
    best = max(range(len(contenders)), key=lambda i: (means[i], -i))
    return best, means


def applies(data: Split, top: int, max_rows: int, folds: int) -> bool:
    """Whether to cross-validate: a choice to make, and few enough rows (at least two per
    fold)."""
    rows = len(data.y_train) + len(data.y_val)
    return top > 1 and 2 * folds <= rows <= max_rows
