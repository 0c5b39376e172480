"""The best network as data for a picture: layers, the units drawn, and their weights.

In the spirit of the TensorFlow playground: every unit a node, every weight an edge whose
colour is its sign and whose width its size. A wide network would be a hairball (and a
large answer), so each layer shows at most `max_units` units, those with the largest
weights in and out; the layer's true width is reported beside them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _strongest(strength: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest strengths, in unit order (stable for ties)."""
    if strength.size <= k:
        return np.arange(strength.size)
    return np.sort(np.argsort(-strength, kind="stable")[:k])


def network_picture(
    coefs: list[np.ndarray],
    intercepts: list[np.ndarray],
    max_units: int,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
) -> dict[str, Any]:
    """Layers (input, hidden..., output) with the units kept, and the weights among them."""
    sizes = [coefs[0].shape[0], *(w.shape[1] for w in coefs)]
    strength = [np.zeros(n) for n in sizes]
    for i, w in enumerate(coefs):
        a = np.abs(np.asarray(w, dtype=np.float64))
        strength[i] += a.sum(axis=1)
        strength[i + 1] += a.sum(axis=0)
    kept = [_strongest(s, max_units) for s in strength]
    names: list[list[str] | None] = [None] * len(sizes)
    names[0], names[-1] = input_names, output_names
    names = [n if n is not None and len(n) == size else None for n, size in zip(names, sizes)]
    layers = [
        {
            "units": int(n),
            "shown": kept[i].tolist(),
            "names": None if label is None else [label[j] for j in kept[i]],
            "bias": None if i == 0 else _rounded(intercepts[i - 1][kept[i]]),
        }
        for i, (n, label) in enumerate(zip(sizes, names))
    ]
    weights = [_rounded(w[np.ix_(kept[i], kept[i + 1])]) for i, w in enumerate(coefs)]
    peak = max((float(np.max(np.abs(w))) for w in coefs if w.size), default=0.0)
    return {"layers": layers, "weights": weights, "max_abs_weight": peak}


def _rounded(a: np.ndarray) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), 5).tolist()
