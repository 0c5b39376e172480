"""The training loop: epochs of mini-batch gradient descent for K networks in lockstep.

A lone network trains as K = 1 on its own arrays; a population's members are gathered into
one padded stack (nas.nn.network) and each leaves, its state written back, as soon as it
stops. Every member ends exactly where it would end alone (up to the rounding of a
different summation order): it keeps its own generator, so it draws its own shuffle of
every epoch and its own dropout masks, and it is booked epoch by epoch by the same rule,
so it stops when it would stop alone.

An epoch draws every member's row order (nas.nn.batches) and walks it in batches of
batch_size (1: stochastic, n: full batch). A member whose cost becomes NaN or inf goes back
to the weights it had at the epoch's start and stops (diverged). On a GPU the costs are
looked at once per epoch, not every batch (a look makes the host wait for the device):
an epoch in which some member diverged is then replayed from its start, looking at every
batch, so that the outcome is the same either way.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas.nn.backend import array_module, to_host
from nas.nn.backprop import forward, gradients, workspace
from nas.nn.batches import Batches
from nas.nn.fitstate import (
    CONVERGED,
    DIVERGED,
    EARLY_STOPPING,
    MAX_ITER,
    STOPPED,
    TARGET_LOSS,
    Callback,
    DivergenceWarning,
    EpochLog,
    FitState,
)
from nas.nn.layout import Placement, runs
from nas.nn.losses import METRICS, member_losses
from nas.nn.network import Stack
from nas.nn.optimizers import Optimizer

Array = Any  # a NumPy or CuPy array
Run = tuple[Optimizer, Array, Array]  # an optimizer and the rows of params and grads it steps


def train(
    states: Sequence[FitState],
    callbacks: Sequence[Callback | None] | None = None,
    *,
    backend: str = "numpy",
    check_every_batch: bool | None = None,
) -> None:
    """Train every state for its rule's max_iter epochs on its data (one Data, shared).

    check_every_batch: look at every batch's costs for divergence (the default on NumPy),
    or once per epoch with a replay (the default on a GPU). A lone network on NumPy trains
    on its own arrays; anything else is gathered into one stack and written back.
    """
    xp = array_module(backend)
    every_batch = xp is np if check_every_batch is None else check_every_batch
    callbacks = list(callbacks) if callbacks is not None else [None] * len(states)
    order = sorted(range(len(states)), key=lambda i: _order(states[i])) if len(states) > 1 else [0]
    members = [_Member(states[i], callbacks[i], states[i].rule.max_iter) for i in order]
    st: Stack
    places: list[Placement] | None = None
    if len(members) == 1 and xp is np:
        st = members[0].state.net
    else:
        st, places = Stack.gather([m.state.net for m in members], xp)
    Trainer(members, st, places, xp, every_batch).run()
    for state in states:
        if state.status == DIVERGED:
            lr = type(state.optimizer).settings["lr"]
            warnings.warn(
                f"training diverged (cost became NaN or inf) after "
                f"{len(state.history.loss_curve)} epochs; the last finite weights were kept. "
                f"Lower {lr} (now {state.optimizer.lr}).",
                DivergenceWarning,
                stacklevel=3,
            )


def _order(state: FitState) -> tuple[Any, ...]:
    """Members sharing batch norm, activation and optimizer end up next to each other."""
    net = state.net
    return (net.batch_norm[0], net.activation[0].name, state.optimizer.kind)


@dataclass
class _Member:
    state: FitState
    callback: Callback | None
    epochs_left: int
    best: list[Array] | None = None  # early stopping's best weights in this fit


class Trainer:
    """Epochs for the members of one stack; a member leaves the stack when it stops."""

    def __init__(
        self,
        members: list[_Member],
        st: Stack,
        places: list[Placement] | None,
        xp: Any,
        check_every_batch: bool,
    ) -> None:
        self.members, self.st, self.places, self.xp = members, st, places, xp
        self.check_every_batch = check_every_batch
        first = members[0].state
        assert first.data is not None
        data, self.loss = first.data, first.loss
        if places is None:
            self.opts = [first.optimizer]
        else:
            self.opts = []
            for _, sl in runs([m.state.optimizer.kind for m in members]):
                mine = [m.state.optimizer for m in members[sl]]
                self.opts.append(type(mine[0]).stacked(mine, places[sl], st.layout.size, xp))
        self.runs = self._runs(st, self.opts)
        # one-hot targets of a softmax with log loss: the cost is read off the target unit,
        # one unit's work per row instead of n_out (29 against 70 us for 32 members and 10
        # classes); a lone network's fancy index costs more than it saves (3 us for 3)
        softmax_log = self.loss == "log" and st.output_activation == "softmax"
        self.data = Batches(data, xp, first.rule.batch_size, softmax_log and len(members) > 1)
        # per member, Python numbers: NumPy calls on K-element arrays cost a microsecond each
        self.steps = [m.state.history.steps for m in members]
        self.total, self.seen = [0.0] * len(members), [0] * len(members)
        self._costs: list[tuple[int, Array, int]] = []  # batches' (members, costs, rows), unbooked
        self.snapshot: list[Array] = []  # parameters and BN statistics at the epoch's start

    # -- members out ----------------------------------------------------------------------

    @staticmethod
    def _runs(st: Stack, opts: list[Optimizer]) -> list[Run]:
        out, lo = [], 0
        for opt in opts:
            sl = slice(lo, lo + len(opt))
            out.append((opt, st.params[sl], st.grads[sl]))
            lo += len(opt)
        return out

    def _leave(self, indices: Sequence[int], statuses: Sequence[str]) -> None:
        """Members stop: the diverged go back to the epoch's start; their state is written
        back into their own network and optimizer (unless they trained on them), and the
        stack is compacted, so the others go on with less work."""
        if not len(indices):
            return
        self._book()
        st = self.st
        for k, status in zip(indices, statuses):
            if status == DIVERGED:
                st.restore(self.snapshot, k)
        if self.places is not None:
            leaving = [self.members[k] for k in indices]
            places = [self.places[k] for k in indices]
            st.write_back(indices, [m.state.net for m in leaving], places)
            lo = 0
            for opt in self.opts:
                mine = [i for i, k in enumerate(indices) if lo <= k < lo + len(opt)]
                if mine:
                    opt.write_back(
                        [indices[i] - lo for i in mine],
                        [leaving[i].state.optimizer for i in mine],
                        [places[i] for i in mine],
                    )
                lo += len(opt)
        for k, status in zip(indices, statuses):
            state = self.members[k].state
            state.history.steps = int(self.steps[k])
            state.status = status
            state.data = None
        if len(indices) == len(st):
            self.members = []  # all done: nothing left to compact
            return
        self._select(np.setdiff1d(np.arange(len(st)), np.asarray(indices, np.int64)))

    def _select(self, index: np.ndarray) -> None:
        pick = index.tolist()
        self.st = self.st.select(index)
        opts, lo = [], 0
        for opt in self.opts:
            rows = [k - lo for k in pick if lo <= k < lo + len(opt)]
            if rows:
                opts.append(opt.select(np.asarray(rows)))
            lo += len(opt)
        self.opts, self.runs = opts, self._runs(self.st, opts)
        self.members = [self.members[k] for k in pick]
        if self.places is not None:
            self.places = [self.places[k] for k in pick]
        self.steps = [self.steps[k] for k in pick]
        self.total, self.seen = [self.total[k] for k in pick], [self.seen[k] for k in pick]
        dev = self.xp.asarray(index)
        self.snapshot = [a[dev] for a in self.snapshot]
        self.data.select(index)

    def _part(self, m: int) -> tuple[Stack, list[Run]]:
        """The members that train on a batch of m rows: all, or those without batch norm
        (batch statistics need two rows; the row is seen next epoch)."""
        st = self.st
        if m >= 2 or st.bn is None:
            return st, self.runs
        plain = slice(0, st.n_plain)
        opts, lo = [], 0
        for opt in self.opts:
            if lo < st.n_plain:
                opts.append(opt.select(slice(0, min(len(opt), st.n_plain - lo))))
            lo += len(opt)
        part = st.select(plain)
        return part, self._runs(part, opts)

    # -- epochs ---------------------------------------------------------------------------

    def run(self) -> None:
        while self.members:
            started = time.perf_counter()
            self.snapshot = self.st.snapshot()
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is handled
                cost = self._epoch()
            val_loss, val_metric = self._validate()
            seconds = (time.perf_counter() - started) / max(len(self.st), 1)
            leaving, statuses = [], []
            for k, m in enumerate(self.members):
                m.epochs_left -= 1
                vl = None if val_loss is None else float(val_loss[k])
                vm = None if val_metric is None else float(val_metric[k])
                status = self._record(k, float(cost[k]), vl, vm, seconds)
                if status is None and m.epochs_left == 0:
                    status = MAX_ITER
                if status is not None:
                    leaving.append(k)
                    statuses.append(status)
            self._leave(leaving, statuses)

    def _record(
        self, k: int, cost: float, val_loss: float | None, val_metric: float | None, seconds: float
    ) -> str | None:
        """Book member k's epoch; the status of the stopping condition it meets, or None."""
        m = self.members[k]
        rule, hist = m.state.rule, m.state.history
        hist.loss_curve.append(cost)
        if val_metric is not None and val_loss is not None:
            hist.val_loss_curve.append(val_loss)
            hist.validation_scores.append(val_metric)
        log = EpochLog(len(hist.loss_curve), cost, val_loss, val_metric, seconds)
        if m.callback is not None and m.callback(log):
            return STOPPED
        if cost <= rule.target_loss:
            return TARGET_LOSS
        if rule.early_stopping and val_metric is not None:
            improved = val_metric > hist.best_validation_score + rule.tol
            if val_metric > hist.best_validation_score:
                hist.best_validation_score = val_metric
                m.best = [a[k : k + 1].copy() for a in self.st.inference_arrays()]
        else:
            improved = cost < hist.best_loss - rule.tol
        hist.best_loss = min(hist.best_loss, cost)
        hist.no_improvement = 0 if improved else hist.no_improvement + 1
        if hist.no_improvement >= rule.n_iter_no_change:
            if rule.early_stopping and m.best is not None:
                for dst, src in zip(self.st.inference_arrays(), m.best):
                    dst[k : k + 1] = src
                return EARLY_STOPPING
            return CONVERGED
        return None

    def _epoch(self) -> list[float]:
        """One pass over the data for every member; its mean cost (members, host)."""
        K = len(self.members)
        self.data.shuffle([m.state.rng if m.state.rule.shuffle else None for m in self.members])
        self.total, self.seen = [0.0] * K, [0] * K
        for opt in self.opts:  # counted before the save: a replayed epoch is the same one
            opt.begin_epoch()
        if not self.check_every_batch:
            saved = self._save()
            if self._batches(checked=False):
                return self._end_epoch()
            self._restore(saved)  # a member diverged somewhere: replay, looking at each batch
        self._batches(checked=True)
        return self._end_epoch()

    def _batches(self, checked: bool) -> bool:
        """The epoch's batches. checked: a member leaves (diverged) at its first non-finite
        cost. Unchecked: nothing waits for the device; False if some cost was non-finite."""
        data, bn, host, loss, costs = (
            self.data,
            self.st.bn is not None,
            self.xp is np,
            self.loss,
            self._costs,
        )
        st, run, K = self.st, self.runs, len(self.st)
        whole = data.epoch() if host and K == 1 else None  # a lone network's epoch, gathered
        for start in range(0, data.n, data.size):
            m = min(data.size, data.n - start)
            if m < 2 and bn:  # batch statistics need two rows; the row is seen next epoch
                st, run = self._part(m)
                K = len(st)
                if not K:
                    continue
            if whole is not None:
                end = start + m
                X = whole[0][start:end] if data.sparse else whole[0][:, start:end]
                Y, labels = whole[1][:, :, start:end], whole[2]
                if labels is not None:
                    labels = labels[:, start:end]
            else:
                X, Y, labels = data.rows(K, start, m)
            J = gradients(st, loss, X, Y, labels)
            if checked:  # as Python floats: NumPy calls on K costs cost more than they do
                J = (J if host else to_host(J)).tolist()
                if not math.isfinite(sum(J)):
                    bad = [k for k, c in enumerate(J) if not math.isfinite(c)]
                    self._leave(bad, [DIVERGED] * len(bad))
                    if not self.members:
                        return True
                    st, run = self._part(m)
                    K, costs = len(st), self._costs  # the ledger was booked and renewed
                    J = [c for c in J if math.isfinite(c)]
                    if not K:
                        continue
            for opt, params, grads in run:
                opt.step(params, grads)
            costs.append((K, J, m))  # the first K members took this step
        return self._book(check=not checked)

    def _book(self, check: bool = False) -> bool:
        """Book the recorded batches into each member's step count and cost sum, in batch
        order as a running sum, once an epoch (or before the stack changes). check: False,
        booking nothing, if some cost is not finite."""
        costs, self._costs = self._costs, []
        if not costs:
            return True
        if isinstance(costs[0][1], list):  # looked at already (checked)
            flat = [c for _, J, _ in costs for c in J]
        else:  # still on the device: one wait for the epoch
            flat = to_host(self.xp.concatenate([J for _, J, _ in costs])).tolist()
            if check and not math.isfinite(sum(flat)):
                return False
        if len(self.total) > 64:  # many members (a GPU's): a few NumPy calls a batch
            values = np.asarray(flat)
            sums, rows, steps = (np.array(x) for x in (self.total, self.seen, self.steps))
            pos = 0
            for K, _, m in costs:
                sums[:K] += values[pos : pos + K] * m
                rows[:K] += m
                steps[:K] += 1
                pos += K
            self.total, self.seen, self.steps = sums.tolist(), rows.tolist(), steps.tolist()
            return True
        total, seen, taken, pos = self.total, self.seen, self.steps, 0
        for K, _, m in costs:
            for k in range(K):
                total[k] += flat[pos + k] * m
                seen[k] += m
                taken[k] += 1
            pos += K
        return True

    def _end_epoch(self) -> list[float]:
        if not self.members:
            return []
        if self._costs:
            self._book()
        if not self.xp.isfinite(self.st.params).all():
            finite = to_host(self.xp.isfinite(self.st.params).all(axis=1))
            self._leave(np.flatnonzero(~finite).tolist(), [DIVERGED] * int((~finite).sum()))
        return [t / max(s, 1) for t, s in zip(self.total, self.seen)]

    def _save(self) -> dict[str, Any]:
        """What an epoch changes besides the snapshot (parameters, BN statistics): optimizer
        state, step counts, and the generators of members that draw dropout masks."""
        return {
            "optimizers": [opt.saved() for opt in self.opts],
            "steps": list(self.steps),
            "rng": {
                k: m.state.rng.bit_generator.state
                for k, (m, p) in enumerate(zip(self.members, self.st.dropout))
                if any(p)
            },
        }

    def _restore(self, saved: dict[str, Any]) -> None:
        self.st.restore(self.snapshot)
        for opt, state in zip(self.opts, saved["optimizers"]):
            opt.restore(state)
        self.steps = list(saved["steps"])
        self._costs = []
        for k, state in saved["rng"].items():
            self.members[k].state.rng.bit_generator.state = state
        self.total, self.seen = [0.0] * len(self.st), [0] * len(self.st)

    def _validate(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        Xv, Yv = self.data.X_val, self.data.Y_val
        if Xv is None or Yv is None or not self.members:
            return None, None
        st, nv = self.st, Xv.shape[0]
        out = forward(st, Xv, workspace(st, nv, training=False), nv, training=False)
        losses = member_losses(self.loss, self.xp.broadcast_to(Yv.T, out.shape), out, axis=-2)
        metrics = METRICS[self.members[0].state.metric](Yv, out.transpose(0, 2, 1))
        return np.asarray(to_host(losses), np.float64), np.asarray(to_host(metrics), np.float64)
