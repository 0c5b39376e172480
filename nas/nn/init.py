"""Initial weights: small random numbers, so hidden units start different.

Equal initial weights give every hidden unit of a layer the same input, the same Delta
and so the same update: they stay identical forever (the lecture's symmetry argument).
Random weights break the tie. Schemes:

    uniform  the lecture's RAND(-eps, eps), biases too; eps = init_scale
    glorot   U(-s, s), s = sqrt(6 / (fan_in + fan_out)); biases 0 (logistic, tanh)
    he       U(-s, s), s = sqrt(6 / fan_in); biases 0 (relu, softplus)
"""

from __future__ import annotations

import numpy as np

INITS = ("auto", "uniform", "glorot", "he")


def default_init(activation: str) -> str:
    """He for rectifiers (they halve the variance), Glorot for the rest."""
    return "he" if activation in ("relu", "softplus") else "glorot"


def initialize(
    W: np.ndarray, b: np.ndarray, scheme: str, init_scale: float, rng: np.random.Generator
) -> None:
    """Fill one layer's weights W (fan_in, fan_out) and biases b in place."""
    fan_in, fan_out = W.shape
    if scheme == "uniform":
        W[...] = rng.uniform(-init_scale, init_scale, size=W.shape)
        b[...] = rng.uniform(-init_scale, init_scale, size=b.shape)
        return
    if scheme == "glorot":
        s = np.sqrt(6.0 / (fan_in + fan_out))
    elif scheme == "he":
        s = np.sqrt(6.0 / fan_in)
    else:
        raise ValueError(f"init must be one of {', '.join(INITS)}; got {scheme!r}")
    W[...] = rng.uniform(-s, s, size=W.shape)
    b.fill(0)
