"""Input scaling, fitted on training data only: x' = (x - offset) * factor.

    minmax    the lecture's: each feature's training range mapped onto [-1, 1]
    standard  zero mean and unit variance per feature

A feature that is constant in training keeps factor 1 (it maps to 0 there), so an
unseen value at prediction time is never divided by zero.

Sparse X (SciPy) is scaled without centering (offset 0), so that it stays sparse: minmax
divides each feature by its largest magnitude (scikit-learn's MaxAbsScaler: onto [-1, 1]),
standard by its standard deviation (StandardScaler(with_mean=False)). A scaler fitted with
centering (on dense X) densifies a sparse X it transforms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

SCALINGS = ("minmax", "standard", None)


class Scaler:
    """An affine per-feature map with the arrays offset and factor."""

    def __init__(self, offset: np.ndarray, factor: np.ndarray) -> None:
        self.offset = offset
        self.factor = factor

    @classmethod
    def fit(cls, X: np.ndarray, kind: str) -> Scaler:
        if sp.issparse(X):
            return cls._fit_sparse(X, kind)
        X64 = np.asarray(X, dtype=np.float64)
        if kind == "minmax":
            lo, hi = X64.min(axis=0), X64.max(axis=0)
            offset, spread = (lo + hi) / 2, (hi - lo) / 2
        elif kind == "standard":
            offset, spread = X64.mean(axis=0), X64.std(axis=0)
        else:
            raise ValueError(f"scaling must be 'minmax', 'standard' or None; got {kind!r}")
        return cls(offset, _reciprocal(spread))

    @classmethod
    def _fit_sparse(cls, X: sp.sparray | sp.spmatrix, kind: str) -> Scaler:
        X64 = sp.csr_array(X, dtype=np.float64)
        if kind == "minmax":
            lo, hi = min_max_axis(X64, axis=0)
            spread = np.maximum(-lo, hi)
        elif kind == "standard":
            spread = np.sqrt(mean_variance_axis(X64, axis=0)[1])
        else:
            raise ValueError(f"scaling must be 'minmax', 'standard' or None; got {kind!r}")
        return cls(np.zeros_like(spread), _reciprocal(spread))

    def transform(self, X: Any, dtype: np.dtype) -> Any:
        """X scaled, in dtype: an ndarray, or a CSR array for a sparse X (unless fitted with
        centering)."""
        if sp.issparse(X):
            if not self.offset.any():
                scaled = sp.csr_array(X, dtype=np.float64, copy=True)
                scaled.data *= self.factor[scaled.indices]
                return scaled.astype(dtype, copy=False)
            X = X.toarray()  # fitted with centering: the centered X is dense
        out = np.asarray(X, dtype=np.float64) - self.offset
        out *= self.factor
        return out.astype(dtype, copy=False)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) / self.factor + self.offset


def _reciprocal(spread: np.ndarray) -> np.ndarray:
    """1 / spread, and 1 where a feature does not vary."""
    factor = np.ones_like(spread)
    np.divide(1.0, spread, out=factor, where=spread > 0)
    return factor
