"""Where a network's parameters live in its row of a (K, P) array, and how rows of
different widths share one padded layout.

A row is laid out as [b_1, W_1, W_2..W_L, b_2..b_L, gamma.., beta..]. b_1 right before W_1
makes them one (1 + n_in, h_1) matrix, so that inputs led by a column of ones add the first
bias inside the first product and its gradient comes out of the first gradient product;
the weights stay contiguous, so weight decay touches one slice. A lone network's row is
laid out at its own sizes; a population's at the widest of each layer, narrower members
zero-padded (Placement says where each member's entries go).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import numpy as np

Array = Any  # a NumPy or CuPy array
Views = tuple[list[Array], list[Array], list[Array], list[Array]]  # W, b, gamma, beta


@dataclass(frozen=True)
class Layout:
    """The blocks of a row for networks of `sizes` (the widest of each layer)."""

    sizes: tuple[int, ...]  # [n_in, h_1, ..., h_L, n_out]
    batch_norm: bool  # gamma and beta blocks exist (some member has batch norm)
    # derived once (every network built asks): the blocks' shapes and where they start,
    # where W_1..W_L lie (weight decay touches these only), and P, a row's length
    blocks: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    weights: slice = field(init=False, repr=False, compare=False)
    size: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        s = self.sizes
        bn = list(s[1:-1]) if self.batch_norm else []
        blocks = ((s[1],), *zip(s[:-1], s[1:]), *((o,) for o in s[2:]), *((h,) for h in bn * 2))
        lengths = [math.prod(b) for b in blocks]
        starts = tuple(sum(lengths[:i]) for i in range(len(lengths) + 1))
        n_weights = sum(i * o for i, o in zip(s[:-1], s[1:]))
        for name, value in (
            ("blocks", blocks),
            ("starts", starts),
            ("weights", slice(s[1], s[1] + n_weights)),
            ("size", starts[-1]),
        ):
            object.__setattr__(self, name, value)

    def views(self, flat: Array) -> Views:
        """coefs (K, fan_in, fan_out), intercepts, gammas and betas (K, units) of flat (K, P)."""
        K, starts = flat.shape[0], self.starts
        out = [
            flat[:, starts[i] : starts[i + 1]].reshape(K, *shape)
            for i, shape in enumerate(self.blocks)
        ]
        n = len(self.sizes) - 1
        h = n - 1 if self.batch_norm else 0
        W, b = out[1 : 1 + n], [out[0], *out[1 + n : 2 * n]]
        return W, b, out[2 * n : 2 * n + h], out[2 * n + h :]

    def first_layer(self, flat: Array) -> Array:
        """b_1 stacked on W_1: (K, 1 + n_in, h_1), the first layer for inputs led by ones."""
        n_in, h = self.sizes[0], self.sizes[1]
        return flat[:, : (1 + n_in) * h].reshape(flat.shape[0], 1 + n_in, h)

    def positions(self, sizes: Sequence[int], batch_norm: bool) -> np.ndarray:
        """Where a network of `sizes` puts each of its parameters in a row, in the order
        [W_1..W_L, b_1..b_L, gamma.., beta..] (the order model files keep)."""
        W, b, gammas, betas = self.views(np.arange(self.size)[None])
        true = list(zip(sizes[:-1], sizes[1:]))
        parts = [Wl[0, :i, :o].ravel() for Wl, (i, o) in zip(W, true)]
        parts += [bl[0, :o] for bl, (_, o) in zip(b, true)]
        if batch_norm:
            hidden = sizes[1:-1]
            parts += [x[0, :h] for x, h in zip(gammas, hidden)]
            parts += [x[0, :h] for x, h in zip(betas, hidden)]
        return np.concatenate(parts)


@dataclass(frozen=True)
class Placement:
    """Where the entries of a member's own row go in a padded row, copied in runs of
    consecutive places as slices where there are few (a member as wide as the layout has
    one or two), else through one gather index (a fancy index costs 0.17 ms per member at
    setup: 0.17 s for 1,024)."""

    index: np.ndarray
    runs: tuple[tuple[slice, slice], ...] | None  # (padded, own) pairs

    @classmethod
    def between(cls, own: Layout, padded: Layout) -> Placement:
        """own's row (a network at its own sizes) into padded's."""
        sizes, bn = own.sizes, own.batch_norm
        return cls.of(padded.positions(sizes, bn)[np.argsort(own.positions(sizes, bn))])

    @classmethod
    def of(cls, positions: np.ndarray, most_runs: int = 8) -> Placement:
        """Entry i of a member's own row goes to positions[i]."""
        breaks = (np.flatnonzero(np.diff(positions) != 1) + 1).tolist()
        if len(breaks) >= most_runs:
            return cls(positions, None)
        bounds = zip([0, *breaks], [*breaks, len(positions)])
        pairs = [
            (slice(int(positions[a]), int(positions[a]) + b - a), slice(a, b)) for a, b in bounds
        ]
        return cls(positions, tuple(pairs))

    def put(self, row: np.ndarray, own: np.ndarray) -> None:
        """row[places] = own."""
        if self.runs is None:
            row[self.index] = own
        else:
            for r, f in self.runs:
                row[r] = own[f]

    def get(self, row: np.ndarray, own: np.ndarray) -> None:
        """own[...] = row[places]."""
        if self.runs is None:
            own[...] = row[self.index]
        else:
            for r, f in self.runs:
                own[f] = row[r]


def runs(values: Sequence[Any]) -> list[tuple[Any, slice]]:
    """(value, slice) for each run of equal neighbours: [a, a, b] -> [(a, 0:2), (b, 2:3)]."""
    out, lo = [], 0
    for value, group in groupby(values):
        n = len(list(group))
        out.append((value, slice(lo, lo + n)))
        lo += n
    return out
