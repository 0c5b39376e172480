"""Training data as a fidelity: a trial trains on a fraction of the training rows, and on
more of them each time the stopping policy promotes it past a rung.

Successive halving over data as well as over epochs: the segment of epochs before the
first rung uses `min` of the rows, the next `min * eta`, and so on up to all of them; the
last segment, up to max_epochs, always uses all rows, so a finished trial has seen the
whole training set. The rows are drawn from the trial's seed, stratified by class so a
small subset still holds every class, and nested: the rows of a smaller fraction are among
those of every larger one. Validation and test rows are never subsampled.

Input scaling (and a regressor's target scaling) is fitted once, on all the training rows,
not on the rows of the first rung, nor again at each rung. Refitting at a rung would move
every input under weights learned for the old map, a jolt in the curve that the stopping
policy would read as the candidate's doing; fitting on the first rung's share would keep a
noisier map for good, in the model a user takes away. A mean and a spread over all rows
cost one pass; so every epoch sees one map, the same a trial without this fidelity gets,
and only the rows trained on change with the fidelity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

FULL = 1.0

# Which fraction to train on, by the epoch a rung ends at: ((end_epoch, fraction), ...)
Schedule = tuple[tuple[int, float], ...]


def schedule(rungs: Sequence[int], max_epochs: int, low: float, eta: float) -> Schedule:
    """Fraction min(1, low * eta^k) for the k-th segment; the last segment, to max_epochs,
    is always the whole training set."""
    ends = sorted({*(r for r in rungs if r < max_epochs), max_epochs})
    return tuple(
        (end, FULL if end == max_epochs else min(FULL, low * eta**k)) for k, end in enumerate(ends)
    )


def fraction_for(plan: Schedule, until_epoch: int) -> float:
    """The fraction for training up to `until_epoch` (a rung, or short of one)."""
    for end, fraction in plan:
        if until_epoch <= end:
            return fraction
    return FULL


def subsample(y: np.ndarray, fraction: float, seed: int, stratify: bool) -> np.ndarray:
    """Sorted row indices: `fraction` of the rows (each class alike when stratified).

    One permutation per class, drawn from `seed`, whose first ceil(fraction * n) rows are
    taken: the same seed always gives the same rows, and a larger fraction a superset.
    """
    n = len(y)
    if fraction >= FULL:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(n)]
    picked = []
    for rows in groups:
        order = rows[rng.permutation(rows.size)]
        picked.append(order[: max(1, math.ceil(fraction * rows.size))])
    return np.sort(np.concatenate(picked))
