"""Population training: many estimators of one depth fitted together, each as if alone.

One small network keeps neither a CPU core nor a GPU busy; K of them trained in lockstep
with batched products (nas.nn.stack) do. fit_population(estimators, X, y, ...) leaves
every estimator exactly where est.fit(X, y, ...) would have left it: the same weights,
optimizer state, random stream, curves and status (up to the rounding of a different
summation order). To get there each member keeps its own generator, so it draws its own
initial weights, its own shuffle of every epoch and its own dropout masks; and it is booked
by its own Trainer.record, so it stops exactly when it would stop alone. A member that
stops (any status) leaves the population at once: its state is written back into its
estimator and the stack is compacted, so the others go on with less work.

Members may differ in widths, activation, dropout, weight decay, batch norm, optimizer
and its settings, shuffle and stopping settings. They must share the depth, the batch
size, dtype, loss and task (the executor groups trials that way); early_stopping is
refused, since it needs a held-out split of its own per member.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nas.nn.backend import array_module, to_host
from nas.nn.layout import Layout, Placement, runs
from nas.nn.losses import member_losses
from nas.nn.stack import Stack, Task, forward, gradients, update, workspace
from nas.nn.training import DIVERGED, MAX_ITER, Callback, epoch_order

OnError = Callable[[int, Exception], None]


@dataclass
class _Member:
    est: Any  # an MLPClassifier or MLPRegressor
    rng: np.random.Generator
    callback: Callback | None
    place: Placement | None  # its flat parameters' places in a padded row
    epochs_left: int


def fit_population(
    estimators: Sequence[Any],
    X: Any,
    y: Any,
    *,
    X_val: Any = None,
    y_val: Any = None,
    callbacks: Sequence[Callback | None] | None = None,
    backend: str = "numpy",
    on_error: OnError | None = None,
    check_every_batch: bool | None = None,
) -> None:
    """Fit every estimator as est.fit(X, y, X_val=, y_val=, callback=) would, all at once.

    Each trains for its own max_iter epochs (warm_start continues a fitted one). A member
    whose parameters or data are refused is reported to on_error(index, exception) and
    left out, when on_error is given; otherwise the error is raised before any training.

    check_every_batch: look at every batch's costs for divergence as it happens (the
    default on NumPy), or only at the end of the epoch (the default on a GPU, where a look
    makes the host wait for the device and the device for the host's next launches); an
    epoch in which a member diverged is then replayed from its start, looking at every
    batch. Either way every member ends exactly where it would end alone.
    """
    xp = array_module(backend)
    callbacks = list(callbacks) if callbacks is not None else [None] * len(estimators)
    if len(callbacks) != len(estimators):
        raise ValueError(f"callbacks has {len(callbacks)} entries for {len(estimators)} members")
    X, X_val = _float64(X), _float64(X_val)  # converted once; each member still checks it
    members: list[_Member] = []
    data: tuple[Any, ...] | None = None
    shared = _Shared()
    for i, (est, callback) in enumerate(zip(estimators, callbacks)):
        try:
            arrays = _prepare(est, X, y, X_val, y_val, shared)
            if members:
                _check_compatible(members[0].est, est, arrays, data)
            data = data or arrays
        except Exception as exc:
            if on_error is None:
                raise
            on_error(i, exc)
            continue
        members.append(_Member(est, est._rng, callback, None, est.max_iter))
    if members and data is not None:
        every_batch = xp is np if check_every_batch is None else check_every_batch
        _Population(members, data, xp, every_batch).run()


def _float64(X: Any) -> Any:
    try:
        return None if X is None else np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return X  # every member refuses it, by name


@dataclass
class _Shared:
    """What members compute alike once, not once each: per estimator class, the memo of
    _begin_fit (checked data, classes, scalers); per _arrays_key, the scaled inputs and
    encoded targets."""

    memos: dict[type, dict[str, Any]] = field(default_factory=dict)
    arrays: dict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=dict)


def _prepare(est: Any, X: Any, y: Any, X_val: Any, y_val: Any, shared: _Shared) -> tuple[Any, ...]:
    if est.early_stopping:
        raise ValueError(
            "early_stopping=True cannot train in a population (it holds out a split of its "
            "own); pass X_val and y_val, or fit this estimator alone"
        )
    memo = shared.memos.setdefault(type(est), {})
    X, y, X_val, y_val = est._begin_fit(X, y, X_val, y_val, memo)
    key = est._arrays_key()
    if key in shared.arrays:  # the same inputs and targets as a member before it
        est._set_rule(X.shape[0], est.max_iter)
    else:
        shared.arrays[key] = est._training_arrays(X, y, X_val, y_val, est.max_iter)
    return shared.arrays[key]


def _signature(est: Any) -> dict[str, Any]:
    trainer = est._trainer
    return {
        "task": type(est).__name__,
        "depth": trainer.net.n_layers,
        "batch_size": trainer.rule.batch_size,
        "dtype": str(trainer.net.dtype),
        "loss": trainer.loss,
        "output layer": (trainer.net.output_activation, trainer.net.sizes[-1]),
    }


def _check_compatible(first_est, est, arrays, data) -> None:
    first, mine = _signature(first_est), _signature(est)
    for name, value in mine.items():
        if value != first[name]:
            raise ValueError(
                f"population members must share their {name}: the first has "
                f"{first[name]!r}, this one {value!r} (group candidates by {name})"
            )
    for a, b in zip(arrays, data):
        if a is b:  # shared (_arrays_key)
            continue
        if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
            raise ValueError("population members must see the same scaled data (scaling)")


def _order(est: Any) -> tuple[Any, ...]:
    """Members sharing batch norm, activation and optimizer end up next to each other."""
    return (est.batch_norm, est.activation, est._trainer.optimizer.kind)


class _Population:
    def __init__(
        self, members: list[_Member], data: tuple[Any, ...], xp: Any, check_every_batch: bool
    ) -> None:
        self.check_every_batch = check_every_batch
        members = sorted(members, key=lambda m: _order(m.est))
        nets = [m.est._trainer.net for m in members]
        first = members[0].est._trainer
        widest = tuple(max(net.sizes[i] for net in nets) for i in range(len(nets[0].sizes)))
        self.layout = Layout(widest, any(net.batch_norm for net in nets))
        places: dict[tuple[tuple[int, ...], bool], Placement] = {}
        for m, net in zip(members, nets):
            key = (tuple(net.sizes), net.batch_norm)
            if key not in places:
                places[key] = Placement.of(self.layout.positions(net.sizes, net.batch_norm))
            m.place = places[key]
        self.task = Task(
            first.loss,
            first.net.output_activation,
            first.net.dtype,
            tuple(any(net.sizes[i] < widest[i] for net in nets) for i in range(1, len(widest) - 1)),
        )
        self.xp = xp
        Xs, Y, Xv, Yv = data
        # the stack's layouts (nas.nn.stack): inputs led by a column of ones, targets
        # units before rows
        self.X, self.YT = xp.asarray(_led_by_ones(Xs)), xp.asarray(np.ascontiguousarray(Y.T))
        self.Xv = None if Xv is None else xp.asarray(_led_by_ones(Xv))
        self.Yv = None if Yv is None else xp.asarray(Yv)
        # one-hot targets of a softmax with log loss: the cost is read off the target unit
        one_hot = first.loss == "log" and first.net.output_activation == "softmax"
        one_hot = one_hot and bool(np.isin(Y, (0, 1)).all() and (Y.sum(axis=1) == 1).all())
        self.labels = xp.asarray(Y.argmax(axis=1)) if one_hot else None
        self.batch = max(1, min(first.rule.batch_size, Xs.shape[0]))
        self.st = self._gather(members)
        self._val_ws: dict[str, list[Any]] = {}
        self._rows_ws: tuple[np.ndarray, np.ndarray] | None = None

    # -- members in and out ---------------------------------------------------------------

    def _gather(self, members: list[_Member]) -> Stack:
        """Stack the members' parameters, optimizer state and settings, zero-padded."""
        xp, dt, K, P = self.xp, self.task.dtype, len(members), self.layout.size
        # gradients are scratch, written in full by every batch: neither gathered nor
        # written back
        params = np.zeros((K, P), dt)
        hidden = self.layout.sizes[1:-1]
        layers = {
            "unit": [np.zeros((K, h), dt) for h in hidden],  # 1 for a member's true units
            "running_mean": [np.zeros((K, h), dt) for h in hidden],
            "running_var": [np.ones((K, h), dt) for h in hidden],
        }
        for k, m in enumerate(members):
            assert m.place is not None
            m.place.put(params[k], m.est._trainer.net.params)
        for k, m in enumerate(members):
            net = m.est._trainer.net
            for layer, h in enumerate(net.sizes[1:-1]):
                layers["unit"][layer][k, :h] = 1
                if net.batch_norm:
                    layers["running_mean"][layer][k, :h] = net.running_mean[layer]
                    layers["running_var"][layer][k, :h] = net.running_var[layer]
        alpha = np.array([m.est._trainer.alpha for m in members], np.float64)
        arrays = {
            "params": xp.asarray(params),
            "grads": xp.zeros((K, P), dt),
            "tmp": xp.empty((K, P), dt),
            # a Python float cast to dtype, as in-place operations with scalars do
            "two_alpha": xp.asarray((2.0 * alpha).astype(dt)[:, None]),
            "alpha": xp.asarray(alpha),  # float64, as the lone trainer adds lambda sum w^2
        }
        optimizers = []
        for _, sl in runs([m.est._trainer.optimizer.kind for m in members]):
            opts = [m.est._trainer.optimizer for m in members[sl]]
            places = [m.place for m in members[sl]]
            optimizers.append((type(opts[0]).stacked(opts, places, P, xp), sl))
        steps = np.array([m.est._trainer.history.steps for m in members], np.int64)
        nets = [m.est._trainer.net for m in members]
        st = Stack(
            self.layout,
            xp,
            arrays,
            {k: [xp.asarray(a) for a in v] for k, v in layers.items()},
            {"alpha": alpha, "steps": steps, "total": np.zeros(K), "seen": np.zeros(K)},
            members,
            [net.activation for net in nets],
            [net.batch_norm for net in nets],
            optimizers,
            [tuple(net.dropout) for net in nets],
            [tuple(net.sizes[1:-1]) for net in nets],
        )
        st.ws = workspace(st, self.batch)
        return st

    def _leave(self, indices: Sequence[int], statuses: Sequence[str]) -> None:
        """Write the members' state back into their estimators and compact the rest."""
        if not len(indices):
            return
        st = self.st
        on_host = self.xp is np
        rows = np.asarray(indices, np.int64)
        # the leaving members' rows: views on the host; off a GPU, one copy per array
        where = rows if on_host else np.arange(len(rows))

        def fetch(a: Any) -> Any:
            return a if on_host else to_host(a[self.xp.asarray(rows)])

        # only what some leaving member reads back (off a GPU, each is a transfer)
        any_diverged, bn = DIVERGED in statuses, any(st.batch_norm[k] for k in indices)
        names = {
            "params": True,
            "snapshot": any_diverged,
            "running_mean": bn,
            "running_var": bn,
            "snapshot_running_mean": bn and any_diverged,
            "snapshot_running_var": bn and any_diverged,
        }
        flat = {n: fetch(st.arrays[n]) for n in st.arrays if names.get(n)}
        layers = {n: [fetch(a) for a in st.layers[n]] for n in st.layers if names.get(n)}
        for i, k, status in zip(where, indices, statuses):
            m = st.members[k]
            trainer = m.est._trainer
            place, net = m.place, trainer.net
            diverged = status == DIVERGED  # back to the epoch's start, as Trainer.fit does
            place.get(flat["snapshot" if diverged else "params"][i], net.params)
            prefix = "snapshot_" if diverged else ""
            for layer, h in enumerate(net.sizes[1:-1] if net.batch_norm else []):
                net.running_mean[layer][...] = layers[prefix + "running_mean"][layer][i, :h]
                net.running_var[layer][...] = layers[prefix + "running_var"][layer][i, :h]
            trainer.history.steps = int(st.host["steps"][k])
        for opt, sl in st.optimizers:
            mine = [k for k in indices if sl.start <= k < sl.stop]
            if mine:
                leaving = [st.members[k] for k in mine]
                opts = [m.est._trainer.optimizer for m in leaving]
                places = [m.place for m in leaving]
                opt.write_back([k - sl.start for k in mine], opts, places)
        for k, status in zip(indices, statuses):
            st.members[k].est._finish_fit(status)
        keep = np.setdiff1d(np.arange(len(st)), np.asarray(indices, np.int64))
        self.st = st.select(keep)
        self._val_ws = {}

    # -- training -------------------------------------------------------------------------

    def run(self) -> None:
        while len(self.st):
            started = time.perf_counter()
            self._snapshot()
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is handled
                cost = self._epoch()
            val_loss, val_metric = self._validate()
            seconds = (time.perf_counter() - started) / max(len(self.st), 1)
            leaving, statuses = [], []
            for k, m in enumerate(self.st.members):
                m.epochs_left -= 1
                status = m.est._trainer.record(
                    float(cost[k]),
                    None if val_loss is None else float(val_loss[k]),
                    None if val_metric is None else float(val_metric[k]),
                    seconds,
                    m.callback,
                )
                if status is None and m.epochs_left == 0:
                    status = MAX_ITER
                if status is not None:
                    leaving.append(k)
                    statuses.append(status)
            self._leave(leaving, statuses)

    def _snapshot(self) -> None:
        """What a diverging member goes back to: parameters and BN statistics at epoch start."""
        st = self.st
        st.arrays["snapshot"] = st.arrays["params"].copy()
        for name in ("running_mean", "running_var"):
            st.layers["snapshot_" + name] = [a.copy() for a in st.layers[name]]

    def _epoch(self) -> np.ndarray:
        """One pass over the data for every member; its mean cost (members, host)."""
        xp, n, st = self.xp, self.X.shape[0], self.st
        # every member's keys drawn from its own generator, sorted in one call (epoch_order)
        keys = np.empty((len(st), n))
        for k, m in enumerate(st.members):
            if m.est.shuffle:
                m.rng.random(out=keys[k])
            else:
                keys[k] = np.arange(n) / n  # in order, in [0, 1): the identity
        st.arrays["perm"] = epoch_order(xp.asarray(keys))
        st.host["total"][:] = 0
        st.host["seen"][:] = 0
        if not self.check_every_batch:
            saved = self._save()
            if self._run_batches(checked=False):
                return self._end_epoch()
            self._restore(saved)  # a member diverged somewhere: replay, looking at each batch
        self._run_batches(checked=True)
        return self._end_epoch()

    def _run_batches(self, checked: bool) -> bool:
        """The epoch's batches. checked: a member leaves (diverged) at its first non-finite
        cost. Unchecked: nothing waits for the device; False if some cost was non-finite."""
        xp, n, costs = self.xp, self.X.shape[0], []
        for start in range(0, n, self.batch):
            m = min(self.batch, n - start)
            part = self._part(m)
            if not len(part):
                continue  # batch statistics need two rows; the row is seen next epoch
            idx = part.arrays["perm"][:, start : start + m]
            X, Y = self._rows(part, idx)
            labels = None if self.labels is None else xp.take(self.labels, idx)
            J = gradients(part, self.task, X, Y, labels)
            if checked:
                J = to_host(J)
                bad = ~np.isfinite(J)
                if bad.any():
                    self._leave(np.flatnonzero(bad).tolist(), [DIVERGED] * int(bad.sum()))
                    part, J = self._part(m), J[~bad]
                    if not len(part):
                        continue
            update(part)
            if checked:  # now: a later batch may compact the stack
                part.host["total"] += J * m
                part.host["seen"] += m
            else:
                costs.append((part, J, m))
        if costs:
            flat = to_host(xp.concatenate([J for _, J, _ in costs]))  # the epoch's one wait
            if not np.isfinite(flat).all():
                return False
            ends = np.cumsum([len(J) for _, J, _ in costs])[:-1]
            for (part, _, m), J in zip(costs, np.split(flat, ends)):
                part.host["total"] += J * m
                part.host["seen"] += m
        return True

    def _rows(self, part: Stack, idx: Any) -> tuple[Any, Any]:
        """Each member's own rows of a batch: inputs (K, m, 1 + n_in), targets (K, n_out, m).

        On the host a whole batch is gathered into buffers kept for it: a fresh megabyte
        every batch costs several times the gather itself (page faults, a cold cache).
        """
        xp, (K, m) = self.xp, idx.shape
        if xp is not np or m != self.batch:
            return xp.take(self.X, idx, axis=0), xp.take(self.YT, idx, axis=1).transpose(1, 0, 2)
        if self._rows_ws is None or self._rows_ws[0].shape[0] != K:
            self._rows_ws = (
                np.empty((K, m, self.X.shape[1]), self.X.dtype),
                np.empty((self.YT.shape[0], K, m), self.YT.dtype),
            )
        X, YT = self._rows_ws
        # mode="clip" lets take write into out directly (with "raise" it buffers a copy);
        # the indices are a permutation of the rows, never out of range
        np.take(self.X, idx, axis=0, out=X, mode="clip")
        np.take(self.YT, idx, axis=1, out=YT, mode="clip")
        return X, YT.transpose(1, 0, 2)

    def _end_epoch(self) -> np.ndarray:
        finite = to_host(self.xp.isfinite(self.st.arrays["params"]).all(axis=1))
        self._leave(np.flatnonzero(~finite).tolist(), [DIVERGED] * int((~finite).sum()))
        return self.st.host["total"] / np.maximum(self.st.host["seen"], 1)

    def _save(self) -> dict[str, Any]:
        """What an epoch changes besides the snapshot (parameters, BN statistics): optimizer
        state, step counts, and the generators of members that draw dropout masks."""
        st = self.st
        return {
            "optimizers": [opt.saved() for opt, _ in st.optimizers],
            "host": {k: st.host[k].copy() for k in ("steps",)},
            "rng": {
                k: m.rng.bit_generator.state
                for k, (m, p) in enumerate(zip(st.members, st.dropout))
                if any(p)
            },
        }

    def _restore(self, saved: dict[str, Any]) -> None:
        st, xp = self.st, self.xp
        xp.copyto(st.arrays["params"], st.arrays["snapshot"])
        for name in ("running_mean", "running_var"):
            for a, b in zip(st.layers[name], st.layers["snapshot_" + name]):
                xp.copyto(a, b)
        for (opt, _), state in zip(st.optimizers, saved["optimizers"]):
            opt.restore(state)
        for k, a in saved["host"].items():
            st.host[k][...] = a
        for k, state in saved["rng"].items():
            st.members[k].rng.bit_generator.state = state
        st.host["total"][:] = 0
        st.host["seen"][:] = 0

    def _part(self, m: int) -> Stack:
        """The members that train on a batch of m rows: all, or those without batch norm."""
        st = self.st
        return st if m >= 2 or st.bn is None else st.select(slice(0, st.n_plain))

    def _validate(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.Xv is None or self.Yv is None or not len(self.st):
            return None, None
        st, nv = self.st, self.Xv.shape[0]
        if not self._val_ws:
            self._val_ws = workspace(st, nv, training=False)
        out = forward(st, self.task, self.Xv, self._val_ws, nv, training=False)
        Yv = self.xp.broadcast_to(self.Yv.T, out.shape)
        losses = member_losses(self.task.loss, Yv, out, axis=-2)
        metrics = st.members[0].est._member_metrics(out.transpose(0, 2, 1), self.Yv)
        return np.asarray(to_host(losses), np.float64), np.asarray(to_host(metrics), np.float64)


def _led_by_ones(X: np.ndarray) -> np.ndarray:
    """[1, X]: the column of ones that makes the first layer's product add its bias."""
    return np.hstack([np.ones((X.shape[0], 1), X.dtype), X])
