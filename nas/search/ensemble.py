"""Ensembles of the found networks: greedy selection with replacement (the search's choice).

Greedy ensemble selection (Caruana, Niculescu-Mizil, Crew and Ksikes, ICML 2004), as
auto-sklearn and AutoGluon build their final model: start from nothing, and `size` times
add the network (repeats allowed) whose addition gives the averaged prediction the best
validation metric; a network's weight is the share of rounds that chose it. Averaging
class probabilities (or regression outputs) of a few good, different networks lowers the
variance a single network's seed and split leave in it; repeats let a good one weigh more,
and a network that does not help the average is never chosen.

The chosen model itself, Ensemble, and its file live in nas.nn.ensemble, so that
`nas.nn.load` of a downloaded model reads an ensemble as it reads a network; they are
re-exported here for the search's code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nas.nn.ensemble import FORMAT, Ensemble, is_ensemble, to_bytes

__all__ = [
    "FORMAT",
    "Ensemble",
    "greedy_selection",
    "is_ensemble",
    "selection_score",
    "to_bytes",
]


def selection_score(prediction: np.ndarray, target: np.ndarray, classification: bool) -> tuple:
    """The selection criterion, higher is better: accuracy then log loss (accuracy ties
    often on a few hundred rows, and the probabilities still tell the better average
    apart); R^2 for a regression."""
    if classification:
        accuracy = float(np.mean(prediction.argmax(axis=1) == target))
        p = np.clip(prediction[np.arange(target.size), target], 1e-15, None)
        return accuracy, float(np.mean(np.log(p)))
    residual = float(np.sum((target - prediction) ** 2))
    total = float(np.sum((target - target.mean()) ** 2)) or 1.0
    return (1.0 - residual / total,)


def greedy_selection(
    predictions: Sequence[np.ndarray], target: np.ndarray, classification: bool, size: int
) -> list[int]:
    """How often each network is chosen in `size` rounds of greedy selection with
    replacement on the validation rows (ties: the earlier network, so rank the pool best
    first). `predictions` are class probabilities (rows x classes, `target` the class
    indices) or regression outputs (rows, `target` the values)."""
    if size < 1 or not predictions:
        raise ValueError(
            f"size must be >= 1 and the pool non-empty; got {size}, {len(predictions)}"
        )
    counts = [0] * len(predictions)
    total = np.zeros_like(predictions[0], dtype=np.float64)
    for rounds in range(1, size + 1):
        scores = [
            selection_score((total + p) / rounds, target, classification) for p in predictions
        ]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        counts[best] += 1
        total += predictions[best]
    return counts
