"""Input and target scaling, fitted on training data only.

    minmax    the lecture's: each feature's training range mapped onto [-1, 1]
    standard  zero mean and unit variance per feature
    robust    (x - median) / IQR, then the smooth clip x / sqrt(1 + (x / 3)^2), which keeps
              the order of values but bounds outliers within +-3 (RealMLP's input map,
              Holzmueller et al. 2024): a long tail no longer pins a unit's input
    quantile  each feature through its training quantiles onto the normal distribution
              (scikit-learn's QuantileTransformer(output_distribution='normal')): any
              skew or spread becomes a standard normal. Only features with more than
              two values: a one-hot or missing-indicator column would map its 0 and 1
              onto the normal's cut tails (+-5.2), so those are standardized instead
    piecewise each feature's training range cut at up to BINS of its quantiles, and the
              value's place in every piece min-max scaled to [-1, 1] (a piece below it at
              1, above it at -1): the piecewise-linear encoding of Gorishniy et al.
              (NeurIPS 2022, "On embeddings for numerical features"), a numeric
              embedding with nothing to train, so a unit's input is a sum of one
              piecewise-linear function per feature, as a tree ensemble's output is. A
              feature of two values or fewer is one column, standardized; the network's
              first layer is wider (up to BINS inputs a feature)

and for a regressor's targets, besides standard:

    log       sign(y) log(1 + |y|), then standard: a skewed positive target (prices,
              wages, counts) trained on a scale where its errors are relative. Mapped
              back, a prediction is held within the training targets' log range widened
              by a tenth on each side: exp turns an output a few units off into a
              price a hundred times too high (on diamonds, R^2 -700 without the bound)

Every map is x' = (g(x) - offset) * factor, then the smooth clip for robust; g is the
identity, the quantile map or the log. Fitted with hold=True (the estimators' clip_inputs),
minmax and standard inputs are then held within the training rows' range (scikit-learn's
MinMaxScaler(clip=True)): a network extrapolates a value far outside what it was trained
on linearly and without bound (diamonds' one stone with z = 31.8 mm, 3.6 ranges past the
training rows' largest, 7.0, took a search's test R^2 from 0.981 to 0.952), where a tree
holds it at its edge. The price is the extrapolation that was right: carseats' prices a
quarter of a range out cost it 0.012 of R^2. Measured on the suite (docs/benchmarks.md),
the range widened by half of it each side (HOLD_MARGIN 0.5) kept carseats but left
diamonds behind boosting (-0.0032 [-0.0059, -0.0005]); at the edge (0) no set is behind,
so the edge it is. Robust's smooth clip and the quantile map are bounded already.

A feature that is constant in training keeps factor 1 (it maps to 0 there), so an unseen
value at prediction time is never divided by zero.

Why the quantile map is applied here and not by scikit-learn's object: a saved model is
arrays and JSON, never a pickle (nas.nn.serialize), so the map must be rebuilt from its
quantiles alone. The quantiles are scikit-learn's own (its fit); the transform repeats its
interpolation, ties and bounds, and a test holds the two equal.

Sparse X (SciPy) is scaled without centering (offset 0), so that it stays sparse: minmax
divides each feature by its largest magnitude (scikit-learn's MaxAbsScaler: onto [-1, 1]),
standard by its standard deviation (StandardScaler(with_mean=False)); robust and quantile
are not linear maps and densify it. A scaler fitted with centering (on dense X) densifies a
sparse X it transforms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

SCALINGS = ("minmax", "standard", "robust", "quantile", "piecewise", None)
TARGET_SCALINGS = ("standard", "log", None)
CLIP = 3.0  # the smooth clip's knee: |x| well below it passes nearly unchanged
HOLD_MARGIN = 0.0  # hold: how far past the training range a value still moves, in ranges
N_QUANTILES = 1000  # QuantileTransformer's default
BINS = 16  # piecewise: pieces per feature at most (the paper tunes 2-128; 16 is cheap)
_BOUND = 1e-7  # QuantileTransformer's BOUNDS_THRESHOLD: the normal's tails are cut there


class Scaler:
    """x' = (g(x) - offset) * factor per feature, with g and a smooth clip by kind."""

    def __init__(
        self,
        offset: np.ndarray,
        factor: np.ndarray,
        *,
        quantiles: np.ndarray | None = None,
        clip: bool = False,
        log: bool = False,
        bounds: np.ndarray | None = None,
        limits: np.ndarray | None = None,
        edges: np.ndarray | None = None,
    ) -> None:
        self.offset = offset
        self.factor = factor
        self.quantiles = quantiles  # (n_quantiles, features) for the quantile map
        self.clip = clip
        self.log = log
        self.bounds = bounds  # (2, features): the log map's inverse is held within them
        self.limits = limits  # (2, features): scaled inputs are held within them
        self.edges = edges  # (BINS + 1, features): piecewise's cuts, NaN-padded (all NaN:
        # a feature left one column)

    @classmethod
    def fit(cls, X: Any, kind: str, hold: bool = False) -> Scaler:
        """The map of `kind` fitted on X; hold: minmax and standard (dense) hold their
        outputs within the range X's rows map onto."""
        scaler = cls._fit(X, kind)
        if hold and kind in ("minmax", "standard") and not sp.issparse(X):
            lo, hi = np.min(X, axis=0), np.max(X, axis=0)
            margin = HOLD_MARGIN * (hi - lo)
            scaler.limits = np.stack(
                [
                    (lo - margin - scaler.offset) * scaler.factor,
                    (hi + margin - scaler.offset) * scaler.factor,
                ]
            )
        return scaler

    @classmethod
    def _fit(cls, X: Any, kind: str) -> Scaler:
        if kind in ("robust", "quantile", "piecewise"):
            X = X.toarray() if sp.issparse(X) else X
        elif sp.issparse(X):
            return cls._fit_sparse(X, kind)
        X64 = np.asarray(X, dtype=np.float64)
        if kind == "minmax":
            lo, hi = X64.min(axis=0), X64.max(axis=0)
            return cls((lo + hi) / 2, _reciprocal((hi - lo) / 2))
        if kind == "standard":
            return cls(X64.mean(axis=0), _reciprocal(X64.std(axis=0)))
        if kind == "log":
            Y = _symlog(X64)
            lo, hi = Y.min(axis=0), Y.max(axis=0)
            margin = (hi - lo) / 10
            bounds = np.stack([lo - margin, hi + margin])
            return cls(Y.mean(axis=0), _reciprocal(Y.std(axis=0)), log=True, bounds=bounds)
        if kind == "robust":
            lo, mid, hi = np.percentile(X64, [25, 50, 75], axis=0)
            spread = hi - lo
            half_range = (X64.max(axis=0) - X64.min(axis=0)) / 2
            spread = np.where(spread > 0, spread, half_range)  # a feature mostly one value
            return cls(mid, _reciprocal(spread), clip=True)
        if kind == "quantile":
            quantiles = _quantiles(X64)
            binary = np.array([np.unique(X64[:, j]).size <= 2 for j in range(X64.shape[1])])
            quantiles[:, binary] = np.nan  # marks a feature the map leaves to offset, factor
            offset, factor = np.zeros(X64.shape[1]), np.ones(X64.shape[1])
            offset[binary] = X64[:, binary].mean(axis=0)
            factor[binary] = _reciprocal(X64[:, binary].std(axis=0))
            return cls(offset, factor, quantiles=quantiles)
        if kind == "piecewise":
            edges = np.full((BINS + 1, X64.shape[1]), np.nan)
            offset, factor = np.zeros(X64.shape[1]), np.ones(X64.shape[1])
            for j in range(X64.shape[1]):
                values = np.unique(X64[:, j])
                if values.size > 2:  # few values: a piece between each two neighbours
                    grid = np.quantile(X64[:, j], np.linspace(0, 1, BINS + 1))
                    cuts = values if values.size <= BINS + 1 else np.unique(grid)
                    edges[: cuts.size, j] = cuts
                else:
                    offset[j], factor[j] = X64[:, j].mean(), _reciprocal(X64[:, j].std())
            return cls(offset, factor, edges=edges)
        raise ValueError(f"scaling must be one of {SCALINGS}; got {kind!r}")

    @classmethod
    def _fit_sparse(cls, X: sp.sparray | sp.spmatrix, kind: str) -> Scaler:
        X64 = sp.csr_array(X, dtype=np.float64)
        if kind == "minmax":
            lo, hi = min_max_axis(X64, axis=0)
            spread = np.maximum(-lo, hi)
        elif kind == "standard":
            spread = np.sqrt(mean_variance_axis(X64, axis=0)[1])
        else:
            raise ValueError(f"scaling must be one of {SCALINGS}; got {kind!r}")
        return cls(np.zeros_like(spread), _reciprocal(spread))

    @property
    def linear(self) -> bool:
        """Whether the map is affine (the only kind a sparse X keeps sparse through)."""
        plain = self.quantiles is None and self.edges is None and self.limits is None
        return plain and not self.clip and not self.log

    def width(self, n_features: int) -> int:
        """How many inputs the network gets for n_features columns of X."""
        if self.edges is None:
            return n_features
        pieces = np.sum(~np.isnan(self.edges), axis=0) - 1
        return int(np.where(pieces > 0, pieces, 1).sum())

    def transform(self, X: Any, dtype: np.dtype) -> Any:
        """X scaled, in dtype: an ndarray, or a CSR array for a sparse X (unless fitted with
        centering or not affine)."""
        if sp.issparse(X):
            if self.linear and not self.offset.any():
                scaled = sp.csr_array(X, dtype=np.float64, copy=True)
                scaled.data *= self.factor[scaled.indices]
                return scaled.astype(dtype, copy=False)
            X = X.toarray()  # centered or not affine: the result is dense
        out = np.array(X, dtype=np.float64)
        if self.log:
            out = _symlog(out)
        if self.quantiles is not None:
            out = _to_normal(out, self.quantiles)
        out -= self.offset
        out *= self.factor
        if self.clip:
            out /= np.sqrt(1 + (out / CLIP) ** 2)
        if self.limits is not None:
            np.clip(out, self.limits[0], self.limits[1], out=out)
        if self.edges is not None:
            out = _piecewise(out, self.edges)
        return out.astype(dtype, copy=False)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """The map undone (for targets: standard and log)."""
        if self.quantiles is not None or self.clip or self.edges is not None:
            raise ValueError("robust, quantile and piecewise are for inputs: not inverted")
        out = np.asarray(X, dtype=np.float64) / self.factor + self.offset
        if not self.log:
            return out
        if self.bounds is not None:
            out = np.clip(out, self.bounds[0], self.bounds[1])
        return np.sign(out) * np.expm1(np.abs(out))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The fitted map as named arrays (nas.nn.serialize saves them, never a pickle)."""
        out = {f"{prefix}_offset": self.offset, f"{prefix}_factor": self.factor}
        if self.quantiles is not None:
            out[f"{prefix}_quantiles"] = self.quantiles
        if self.clip or self.log:
            out[f"{prefix}_flags"] = np.array([self.clip, self.log])
        if self.bounds is not None:
            out[f"{prefix}_bounds"] = self.bounds
        if self.limits is not None:
            out[f"{prefix}_limits"] = self.limits
        if self.edges is not None:
            out[f"{prefix}_edges"] = self.edges
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> Scaler | None:
        if f"{prefix}_offset" not in arrays:
            return None
        clip, log = (bool(f) for f in arrays.get(f"{prefix}_flags", (False, False)))
        return cls(
            arrays[f"{prefix}_offset"],
            arrays[f"{prefix}_factor"],
            quantiles=arrays.get(f"{prefix}_quantiles"),
            clip=clip,
            log=log,
            bounds=arrays.get(f"{prefix}_bounds"),
            limits=arrays.get(f"{prefix}_limits"),
            edges=arrays.get(f"{prefix}_edges"),
        )

    def key(self) -> tuple[bytes, ...]:
        """Equal keys, equal maps (what a data cache may share scaled rows by)."""
        parts = [self.offset.tobytes(), self.factor.tobytes(), bytes([self.clip, self.log])]
        for extra in (self.limits, self.quantiles, self.edges):
            parts.append(b"" if extra is None else extra.tobytes())
        return tuple(parts)


def _reciprocal(spread: np.ndarray) -> np.ndarray:
    """1 / spread, and 1 where a feature does not vary."""
    factor = np.ones_like(spread)
    np.divide(1.0, spread, out=factor, where=spread > 0)
    return factor


def _symlog(X: np.ndarray) -> np.ndarray:
    return np.sign(X) * np.log1p(np.abs(X))


def _quantiles(X: np.ndarray) -> np.ndarray:
    """scikit-learn's fitted quantiles (every row, at most N_QUANTILES of them)."""
    from sklearn.preprocessing import QuantileTransformer

    qt = QuantileTransformer(n_quantiles=min(N_QUANTILES, len(X)), subsample=None)
    return np.asarray(qt.fit(X).quantiles_, dtype=np.float64)


def _to_normal(X: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """QuantileTransformer's forward map, column by column: the mean of the interpolation
    from below and from above (so tied quantiles map to their middle), the training
    range's ends exactly onto 0 and 1, then the normal's inverse CDF, cut at 1e-7. A
    feature whose quantiles are NaN passes unchanged."""
    references = np.linspace(0, 1, len(quantiles))
    out = X.copy()
    low = ndtri(_BOUND - np.spacing(1))
    for j in range(X.shape[1]):
        q, x = quantiles[:, j], X[:, j]
        if np.isnan(q[0]):
            continue
        up = np.interp(x, q, references)
        down = np.interp(-x, -q[::-1], -references[::-1])
        p = 0.5 * (up - down)
        p[x >= q[-1]] = 1.0
        p[x <= q[0]] = 0.0
        out[:, j] = np.clip(ndtri(p), low, -low)
    return out


def _piecewise(X: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each feature's place in each of its pieces, on [-1, 1] (held there beyond its
    training range); a feature without cuts passes as one column."""
    columns = []
    for j in range(X.shape[1]):
        cuts = edges[:, j][~np.isnan(edges[:, j])]
        if cuts.size == 0:
            columns.append(X[:, j : j + 1])
            continue
        place = (X[:, j : j + 1] - cuts[:-1]) / np.diff(cuts)
        columns.append(2 * np.clip(place, 0.0, 1.0) - 1)
    return np.hstack(columns)
