"""Each member's rows in its own order: the epoch order, and batches as backprop reads them.

Backprop reads inputs led by a column of ones, (K, m, 1 + n_in), and targets with units
before rows, (K, n_out, m) (nas.nn.backprop); the data are laid out so once per fit. Every
member draws its own keys, from its own generator, so it sees the rows in the order it
sees alone; all members' keys are ranked in one call.

Sparse inputs (SciPy CSR) stay sparse, on the host only: a lone network's epoch is its
rows in order (a CSR row gather) and its batches are row slices of it; a population's
batch is a list of each member's rows (nas.nn.backprop reads both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from nas.nn.fitstate import Data
from nas.nn.network import led_by_ones

Array = Any  # a NumPy or CuPy array

RADIX = 1 << 16  # keys are ranked by their leading 16 bits first (epoch_order)


def epoch_order(keys: Any) -> Any:
    """An epoch's row order: the ranks of uniform draws in [0, 1), keys = rng.random(n).

    Not rng.permutation: its Fisher-Yates draws run one by one (22 us for 1,797 rows),
    while keys are drawn in one vectorized call and a population sorts all its members'
    keys in one go (on the GPU too), so a member trained there sees exactly the order
    it sees alone. Ties have probability about n^2 / 2^54 per epoch (float64 draws).

    On the host, rows (members) of up to RADIX / 4 keys are ranked by the leading 16 bits
    of their keys first, in a radix sort (NumPy's stable argsort of uint16 is one), and
    the few neighbours whose leading bits tie (about n^2 / 2^17 per row) are then put in
    order one swap at a time: argsort's order exactly, 3.6x faster for 32 x 1,797 keys
    (NumPy's float64 argsort is a scalar introsort on this machine).
    """
    n = keys.shape[-1]
    if not isinstance(keys, np.ndarray) or n > RADIX // 4:
        return keys.argsort(axis=-1)  # a GPU sorts in one kernel
    order = np.argsort((keys * RADIX).astype(np.uint16), axis=-1, kind="stable")
    rows = keys.size // max(n, 1)
    ranked = np.take(keys, order + (np.arange(rows) * n).reshape(*keys.shape[:-1], 1))
    lead = (ranked * RADIX).astype(np.uint16)
    ties = np.flatnonzero(lead[..., 1:] == lead[..., :-1])
    if ties.size:
        ties += ties // (n - 1)  # from (rows, n - 1) neighbour pairs to (rows, n) places
        _sort_ties(ranked.reshape(-1), order.reshape(-1), ties, n)
    return order


def _sort_ties(ranked: np.ndarray, order: np.ndarray, ties: np.ndarray, n: int) -> None:
    """Odd-even transposition rounds over the tied neighbours only (flat places p, p + 1
    in rows of n): swap each pair out of order until a round swaps none."""
    phases = [p for p in (ties[ties % n % 2 == 0], ties[ties % n % 2 == 1]) if p.size]
    swapped = True
    while swapped:
        swapped = False
        for p in phases:
            i = p[ranked[p] > ranked[p + 1]]
            if i.size:
                ranked[i], ranked[i + 1] = ranked[i + 1], ranked[i]
                order[i], order[i + 1] = order[i + 1], order[i]
                swapped = True


class Batches:
    """The data in backprop's layouts, on xp, and each member's order of this epoch."""

    def __init__(self, data: Data, xp: Any, batch_size: int, labels: bool) -> None:
        self.xp = xp
        self.sparse = sp.issparse(data.X)
        self.X = self._inputs(data.X)
        self.Y = xp.asarray(data.Y)  # a lone network gathers rows (faster than columns)
        self._YT: Array = None  # a population gathers targets units before rows
        self.X_val = None if data.X_val is None else self._inputs(data.X_val)
        self.Y_val = None if data.Y_val is None else xp.asarray(data.Y_val)
        self.n = data.X.shape[0]
        self.size = max(1, min(batch_size, self.n))
        # labels: one-hot targets' units, so a softmax's log loss can be read off them
        self.labels: Array | None = None
        if labels:
            Y, units = data.Y, data.Y.argmax(axis=1)
            if (
                Y.min() >= 0
                and (Y.sum(axis=1) == 1).all()
                and (Y[np.arange(len(Y)), units] == 1).all()
            ):
                self.labels = xp.asarray(units)
        self.perm: Array = None  # (K, n): each member's row order this epoch
        self._kept: dict[str, Any] = {}  # buffers rows are gathered into

    def _inputs(self, X: Any) -> Array:
        """X led by ones, on xp; a sparse X stays a CSR array, on the host."""
        if not sp.issparse(X):
            return self.xp.asarray(led_by_ones(X))
        if self.xp is not np:
            raise ValueError("sparse X trains on the host (backend 'numpy'); densify it for a GPU")
        return led_by_ones(X)

    def shuffle(self, rngs: Sequence[np.random.Generator | None]) -> None:
        """This epoch's order for every member: drawn from its generator, or none (in order)."""
        keys = self._kept.get("keys")
        if keys is None or len(keys) != len(rngs):
            keys = self._kept["keys"] = np.empty((len(rngs), self.n))
        for k, rng in enumerate(rngs):
            if rng is not None:
                rng.random(out=keys[k])
            else:
                keys[k] = np.arange(self.n) / self.n  # in order, in [0, 1): the identity
        self.perm = epoch_order(keys if self.xp is np else self.xp.asarray(keys))

    def select(self, index: np.ndarray) -> None:
        """Keep the orders of members `index` (the others left)."""
        if self.perm is not None:
            self.perm = self.perm[self.xp.asarray(index)]
        self._kept = {}

    def epoch(self) -> tuple[Array, Array, Array | None]:
        """A lone member's epoch in its order, gathered once into kept buffers: inputs
        (1, n, 1 + n_in), targets (1, n_out, n) (a view of rows), target units (1, n). Its
        batches are then slices (a take per batch costs 12 us: 7 % of a [64] batch).
        Sparse inputs come as a CSR array (n, 1 + n_in), its batches row slices."""
        bufs = self._kept.get("epoch")
        if bufs is None:
            labels = None if self.labels is None else np.empty((1, self.n), np.intp)
            xbuf = None if self.sparse else np.empty((1, *self.X.shape), self.X.dtype)
            ybuf = np.empty_like(self.Y[None])
            bufs = self._kept["epoch"] = (xbuf, ybuf, labels, ybuf.swapaxes(1, 2))
        perm = self.perm[0]
        X: Array
        if self.sparse:
            X = self.X[perm]
        else:
            X = bufs[0]
            np.take(self.X, perm, axis=0, out=X[0], mode="clip")
        np.take(self.Y, perm, axis=0, out=bufs[1][0], mode="clip")
        if bufs[2] is not None and self.labels is not None:
            np.take(self.labels, perm, out=bufs[2][0], mode="clip")
        return X, bufs[3], bufs[2]

    def rows(self, K: int, start: int, m: int) -> tuple[Array, Array, Array | None]:
        """The first K members' rows of one batch: inputs (K, m, 1 + n_in), targets
        (K, n_out, m), target units (K, m); sparse inputs as a list of K CSR arrays.

        On the host a batch is gathered into buffers kept for it: K epochs of rows would
        not stay in cache, and a fresh megabyte every batch costs several times the gather
        itself (page faults, a cold cache).
        """
        xp, idx = self.xp, self.perm[:K, start : start + m]
        labels = None if self.labels is None else xp.take(self.labels, idx)
        if self._YT is None:
            self._YT = xp.ascontiguousarray(self.Y.T)
        if self.sparse:
            rows = [self.X[member] for member in idx]
            return rows, np.take(self._YT, idx, axis=1).transpose(1, 0, 2), labels
        if xp is not np or m != self.size:
            X = xp.take(self.X, idx, axis=0)
            return X, xp.take(self._YT, idx, axis=1).transpose(1, 0, 2), labels
        kept = self._kept.get("batch")
        if kept is None or kept[0].shape[0] != K:
            kept = (
                np.empty((K, m, self.X.shape[1]), self.X.dtype),
                np.empty((self._YT.shape[0], K, m), self._YT.dtype),
            )
            self._kept["batch"] = kept
        X, YT = kept
        # mode="clip" lets take write into out directly (with "raise" it buffers a copy);
        # the indices are a permutation of the rows, never out of range
        np.take(self.X, idx, axis=0, out=X, mode="clip")
        np.take(self._YT, idx, axis=1, out=YT, mode="clip")
        return X, YT.transpose(1, 0, 2), labels
