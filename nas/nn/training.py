"""The training loop: epochs of mini-batch gradient descent and the stopping conditions.

An epoch shuffles the training set into a reused buffer and walks it in batches of
batch_size (1: stochastic, n: full batch). Training stops, and `status` says why, on:

    max_iter      the epoch limit
    target_loss   the cost came close to zero (<= target_loss)
    converged     minimal change in cost: no improvement by tol for n_iter_no_change epochs
    early_stopping  the validation metric stalled likewise; the best weights are restored
    stopped       the per-epoch callback asked to stop (a search's pruning decision)
    diverged      the cost became NaN or inf; the last finite weights are restored
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nas.nn.network import Network
from nas.nn.optimizers import SGD, Adam

MAX_ITER = "max_iter"
TARGET_LOSS = "target_loss"
CONVERGED = "converged"
EARLY_STOPPING = "early_stopping"
STOPPED = "stopped"
DIVERGED = "diverged"


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


@dataclass(frozen=True)
class EpochLog:
    """What one epoch reports to a callback: the points of a learning curve."""

    epoch: int
    train_loss: float
    val_loss: float | None
    val_metric: float | None
    seconds: float


Callback = Callable[[EpochLog], "bool | None"]
Validate = Callable[[], "tuple[float, float]"]


@dataclass
class StoppingRule:
    batch_size: int
    max_iter: int
    tol: float
    n_iter_no_change: int
    target_loss: float
    early_stopping: bool
    shuffle: bool


@dataclass
class History:
    """Everything the loop has seen, kept across fit and partial_fit calls."""

    loss_curve: list[float] = field(default_factory=list)
    val_loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    no_improvement: int = 0
    steps: int = 0


class Trainer:
    """Runs epochs on one network with one optimizer, reusing its buffers."""

    def __init__(
        self, net: Network, optimizer: SGD | Adam, loss: str, alpha: float, rule: StoppingRule
    ) -> None:
        self.net = net
        self.optimizer = optimizer
        self.loss = loss
        self.alpha = alpha
        self.rule = rule
        self.history = History()
        self._shuffled: tuple[np.ndarray, np.ndarray] | None = None
        self._best: list[np.ndarray] | None = None  # early stopping's best snapshot

    def epoch(self, X: np.ndarray, Y: np.ndarray, rng: np.random.Generator) -> float:
        """One pass over (X, Y); returns the mean cost, or NaN as soon as it diverges."""
        n = X.shape[0]
        if self.rule.shuffle:
            Xs, Ys = self._shuffle_buffers(X, Y)
            perm = epoch_order(rng.random(n))
            # mode="clip" writes into out directly ("raise" buffers a copy); perm is a
            # permutation, never out of range
            np.take(X, perm, axis=0, out=Xs, mode="clip")
            np.take(Y, perm, axis=0, out=Ys, mode="clip")
            X, Y = Xs, Ys
        b = max(1, min(self.rule.batch_size, n))
        net, step, loss, alpha = self.net, self.optimizer.step, self.loss, self.alpha
        total, seen = 0.0, 0
        for start in range(0, n, b):
            xb, yb = X[start : start + b], Y[start : start + b]
            m = xb.shape[0]
            if net.batch_norm and m < 2:
                continue  # batch statistics need two rows; the row is seen next epoch
            cost = net.loss_and_gradient(xb, yb, loss, alpha, rng)
            if not math.isfinite(cost):
                return math.nan
            step(net.params, net.grads)
            total += cost * m
            seen += m
            self.history.steps += 1
        if not np.isfinite(net.params).all():
            return math.nan
        return total / max(seen, 1)

    def _shuffle_buffers(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        buf = self._shuffled
        if buf is None or buf[0].shape != X.shape or buf[1].shape != Y.shape:
            buf = (np.empty_like(X), np.empty_like(Y))
            self._shuffled = buf
        return buf

    def fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        rng: np.random.Generator,
        validate: Validate | None = None,
        callback: Callback | None = None,
    ) -> str:
        """Train until a stopping condition holds; return the status naming it."""
        net = self.net
        self._best = None
        for _ in range(self.rule.max_iter):
            started = time.perf_counter()
            snapshot = net.snapshot()
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is handled below
                cost = self.epoch(X, Y, rng)
            if math.isnan(cost):
                net.restore(snapshot)
                return DIVERGED
            val_loss, val_metric = validate() if validate else (None, None)
            status = self.record(
                cost, val_loss, val_metric, time.perf_counter() - started, callback
            )
            if status is not None:
                return status
        return MAX_ITER

    def record(
        self,
        cost: float,
        val_loss: float | None,
        val_metric: float | None,
        seconds: float,
        callback: Callback | None,
    ) -> str | None:
        """Book one finished epoch; the status of the stopping condition it meets, or None.

        Shared with the population trainer, which books each member's epoch here, so that
        a member stops exactly when it would stop alone.
        """
        rule, hist, net = self.rule, self.history, self.net
        hist.loss_curve.append(cost)
        if val_metric is not None and val_loss is not None:
            hist.val_loss_curve.append(val_loss)
            hist.validation_scores.append(val_metric)
        log = EpochLog(len(hist.loss_curve), cost, val_loss, val_metric, seconds)
        if callback is not None and callback(log):
            return STOPPED
        if cost <= rule.target_loss:
            return TARGET_LOSS
        if rule.early_stopping and val_metric is not None:
            improved = val_metric > hist.best_validation_score + rule.tol
            if val_metric > hist.best_validation_score:
                hist.best_validation_score = val_metric
                self._best = net.snapshot()
        else:
            improved = cost < hist.best_loss - rule.tol
        hist.best_loss = min(hist.best_loss, cost)
        hist.no_improvement = 0 if improved else hist.no_improvement + 1
        if hist.no_improvement >= rule.n_iter_no_change:
            if rule.early_stopping and self._best is not None:
                net.restore(self._best)
                return EARLY_STOPPING
            return CONVERGED
        return None
