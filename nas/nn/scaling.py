"""Input scaling, fitted on training data only: x' = (x - offset) * factor.

    minmax    the lecture's: each feature's training range mapped onto [-1, 1]
    standard  zero mean and unit variance per feature

A feature that is constant in training keeps factor 1 (it maps to 0 there), so an
unseen value at prediction time is never divided by zero.
"""

from __future__ import annotations

import numpy as np

SCALINGS = ("minmax", "standard", None)


class Scaler:
    """An affine per-feature map with the arrays offset and factor."""

    def __init__(self, offset: np.ndarray, factor: np.ndarray) -> None:
        self.offset = offset
        self.factor = factor

    @classmethod
    def fit(cls, X: np.ndarray, kind: str) -> Scaler:
        X64 = np.asarray(X, dtype=np.float64)
        if kind == "minmax":
            lo, hi = X64.min(axis=0), X64.max(axis=0)
            offset, spread = (lo + hi) / 2, (hi - lo) / 2
        elif kind == "standard":
            offset, spread = X64.mean(axis=0), X64.std(axis=0)
        else:
            raise ValueError(f"scaling must be 'minmax', 'standard' or None; got {kind!r}")
        factor = np.ones_like(spread)
        np.divide(1.0, spread, out=factor, where=spread > 0)
        return cls(offset, factor)

    def transform(self, X: np.ndarray, dtype: np.dtype) -> np.ndarray:
        out = np.asarray(X, dtype=np.float64) - self.offset
        out *= self.factor
        return out.astype(dtype, copy=False)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) / self.factor + self.offset
