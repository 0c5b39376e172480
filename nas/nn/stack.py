"""The maths of a population: K networks of one depth as stacked arrays, one pass for all.

Every array has the member as its leading axis: weights (K, fan_in, fan_out), activations
(K, rows, units), parameters (K, P). A layer's product is one xp.matmul over the stack.
Two layouts save whole passes over the activations: the inputs carry a leading column of
ones and the first layer's bias leads its weights, so that one product adds the bias and
one gradient product sums it; and the output layer runs units before rows (K, n_out,
rows), so that softmax reduces along contiguous rows rather than across 10 columns.
Narrower members are zero-padded to the widest member of each layer; a padded unit's
weights start at zero, its activation is masked to zero and its Delta is zero, so its
weights get zero gradients and stay zero: it contributes exactly nothing. The members are
ordered so that those sharing an activation, batch norm and optimizer are contiguous, and
each of those kernels runs once per run of members on a view (no copies).

This is network.py and optimizers.py for a population: the same operations in the same
order per member, so that a member equals the network trained alone (up to rounding where
a sum runs in another order: the first bias inside its product, the loss over one unit).
Written against `xp` (NumPy or CuPy, nas.nn.backend) once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from nas.nn.activations import Activation, output_forward
from nas.nn.layout import Layout, Views, runs
from nas.nn.losses import member_losses, output_delta, target_log_losses
from nas.nn.network import BN_EPS, BN_MOMENTUM
from nas.nn.optimizers import Optimizer

Array = Any  # a NumPy or CuPy array


@dataclass
class Stack:
    """The population's state, member-major; select() slices or compacts all of it at once.

    arrays: name -> array with the member as leading axis (parameters, optimizer state,
    hyperparameters, buffers); layers: name -> one such array per hidden layer; host:
    NumPy per-member bookkeeping; members: per-member Python objects (generators...).
    """

    layout: Layout
    xp: Any
    arrays: dict[str, Array]
    layers: dict[str, list[Array]]
    host: dict[str, np.ndarray]
    members: list[Any]
    activation: list[Activation]
    batch_norm: list[bool]
    optimizers: list[tuple[Optimizer, slice]]  # one per run of members of one kind
    dropout: list[tuple[float, ...]]  # per member, per hidden layer
    widths: list[tuple[int, ...]]
    ws: dict[str, list[Array]] = field(default_factory=dict)  # training buffers
    act_runs: list[tuple[Activation, slice]] = field(init=False)
    bn: slice | None = field(init=False)
    dropped: tuple[bool, ...] = field(init=False)  # per hidden layer: some member drops units
    n_plain: int = field(init=False)  # members without batch norm come first
    decay: bool = field(init=False)  # some member has weight decay
    _views: dict[str, Any] = field(init=False)  # params(), grads(), weights(), built once

    def __post_init__(self) -> None:
        self.act_runs = runs(self.activation)
        self.n_plain = self.batch_norm.count(False)
        self.decay = bool(self.host["alpha"].any())
        self.bn = slice(self.n_plain, len(self)) if self.n_plain < len(self) else None
        hidden = len(self.layout.sizes) - 2
        self.dropped = tuple(any(p[layer] > 0 for p in self.dropout) for layer in range(hidden))
        self._views = {}

    def __len__(self) -> int:
        return len(self.members)

    def select(self, index: slice | np.ndarray) -> Stack:
        """A slice (views: updates reach this stack) or an index array (a compacted copy)."""
        pick = range(len(self))[index] if isinstance(index, slice) else index.tolist()

        def take(values: list[Any]) -> list[Any]:
            return [values[i] for i in pick]

        dev = index if isinstance(index, slice) else self.xp.asarray(index)
        optimizers, lo = [], 0
        for opt, sl in self.optimizers:
            rows = [i - sl.start for i in pick if sl.start <= i < sl.stop]
            if rows:
                part = slice(rows[0], rows[-1] + 1) if isinstance(index, slice) else np.array(rows)
                optimizers.append((opt.select(part), slice(lo, lo + len(rows))))
                lo += len(rows)
        return replace(
            self,
            arrays={k: v[dev] for k, v in self.arrays.items()},
            layers={k: [a[dev] for a in v] for k, v in self.layers.items()},
            ws={k: [a[dev] for a in v] for k, v in self.ws.items()},
            host={k: v[index] for k, v in self.host.items()},
            members=take(self.members),
            activation=take(self.activation),
            batch_norm=take(self.batch_norm),
            optimizers=optimizers,
            dropout=take(self.dropout),
            widths=take(self.widths),
        )

    def params(self) -> Views:
        return self._view("params")

    def grads(self) -> Views:
        return self._view("grads")

    def weights(self, name: str) -> list[Array]:
        """The layers' weights of params or grads, the first with its bias on top."""
        return self._view(name + ":weights")

    def _view(self, name: str) -> Any:
        # every batch asks; the arrays behind a stack never change (select makes a new one)
        if name not in self._views:
            base, _, weights = name.partition(":")
            flat = self.arrays[base]
            views = self.layout.views(flat)
            first = self.layout.first_layer(flat)
            self._views[name] = [first, *views[0][1:]] if weights else views
        return self._views[name]


@dataclass(frozen=True)
class Task:
    """What every member shares: the loss and output activation, dtype, masking needs."""

    loss: str
    output_activation: str
    dtype: np.dtype
    masked: tuple[bool, ...]  # per hidden layer: some member is narrower than the widest


def workspace(st: Stack, rows: int, training: bool = True) -> dict[str, list[Array]]:
    """Buffers for batches of up to `rows`; dropout masks start at 1 (members without it).

    Inference (training=False) needs only activations, BN scales and outputs.
    """
    xp, K, dt = st.xp, len(st), st.arrays["params"].dtype
    hidden = st.layout.sizes[1:-1]
    ws = {
        "act": [xp.empty((K, rows, h), dt) for h in hidden],
        "inv_std": [xp.empty((K, h), dt) for h in hidden],
        "out": [xp.empty((K, st.layout.sizes[-1], rows), dt)],  # units before rows
    }
    if training:
        ws.update(
            gprime=[xp.empty((K, rows, h), dt) for h in hidden],
            mask=[xp.ones((K, rows, h), dt) for h in hidden],
            dropped=[xp.empty((K, rows, h), dt) for h in hidden],
            xhat=[xp.empty((K, rows, h), dt) for h in hidden],
            delta=[
                *(xp.empty((K, rows, h), dt) for h in hidden),
                xp.empty((K, st.layout.sizes[-1], rows), dt),
            ],
        )
    return ws


# -- forward propagation ----------------------------------------------------------------


def forward(
    st: Stack, task: Task, X: Array, ws: dict[str, list[Array]], m: int, training: bool
) -> Array:
    """Output activations (K, n_out, m), units before rows, for inputs X: (K, m, 1 + n_in),
    or (m, 1 + n_in) shared, whose leading column of ones brings in the first bias."""
    _, b, gammas, betas = st.params()
    W = st.weights("params")
    a = X
    for layer in range(len(W) - 1):
        z = ws["act"][layer][:, :m]
        st.xp.matmul(a, W[layer], out=z)
        if layer:  # zero for batch-norm members, whose beta plays its role
            z += b[layer][:, None, :]
        if st.bn is not None:
            _batch_norm(st, layer, z[st.bn], ws, training, gammas, betas)
        for act, sl in st.act_runs:
            if training:  # g' too, for backpropagation
                act.forward_prime(z[sl], z[sl], ws["gprime"][layer][sl, :m])
            else:
                act.forward(z[sl], z[sl])
        if task.masked[layer]:
            z *= st.layers["unit"][layer][:, None, :]
        a = z
        if training and st.dropped[layer]:
            a = _dropout(st, task, layer, z, ws, m)
    out = ws["out"][0][:, :, :m]
    st.xp.matmul(W[-1].swapaxes(-1, -2), a.swapaxes(-1, -2), out=out)
    if len(W) > 1:
        out += b[-1][:, :, None]
    output_forward(task.output_activation, out, out, axis=-2)
    return out


def _batch_norm(st, layer, z, ws, training, gammas, betas) -> None:
    sl = st.bn
    inv_std = ws["inv_std"][layer][sl]
    if training:
        n = z.shape[1]
        mean, var = z.mean(axis=1), z.var(axis=1)
        rm, rv = st.layers["running_mean"][layer][sl], st.layers["running_var"][layer][sl]
        rm *= 1 - BN_MOMENTUM
        rm += BN_MOMENTUM * mean
        rv *= 1 - BN_MOMENTUM
        rv += (BN_MOMENTUM * n / max(n - 1, 1)) * var
    else:
        mean = st.layers["running_mean"][layer][sl]
        var = st.layers["running_var"][layer][sl]
    st.xp.add(var, BN_EPS, out=inv_std)
    st.xp.sqrt(inv_std, out=inv_std)
    st.xp.reciprocal(inv_std, out=inv_std)
    z -= mean[:, None]
    z *= inv_std[:, None]
    if training:
        ws["xhat"][layer][sl][:, : z.shape[1]] = z
    z *= gammas[layer][sl][:, None]
    z += betas[layer][sl][:, None]


def _dropout(st, task, layer, a, ws, m) -> Array:
    # Each member draws its mask on its true shape from its own generator, as network.py
    # does, so its stream stays its own; members without dropout keep a mask of ones.
    mask = ws["mask"][layer]
    for i, (member, p) in enumerate(zip(st.members, st.dropout)):
        if p[layer] > 0:
            h = st.widths[i][layer]
            r = member.rng.random((m, h), dtype=task.dtype)
            np.greater_equal(r, p[layer], out=r, casting="unsafe")
            r *= 1.0 / (1.0 - p[layer])
            mask[i, :m, :h] = st.xp.asarray(r)
    out = ws["dropped"][layer][:, :m]
    st.xp.multiply(a, mask[:, :m], out=out)
    return out


# -- backpropagation --------------------------------------------------------------------


def gradients(st: Stack, task: Task, X: Array, Y: Array, labels: Array | None = None) -> Array:
    """Every member's cost J (float64, on the device) on its batch; gradients into
    arrays['grads']. X is (K, m, 1 + n_in) led by ones, Y (K, n_out, m) units before rows;
    labels (K, m), the target units of one-hot Y, if the cost may be read off them.
    Nothing here waits for the device: the caller decides when to look."""
    xp, m, ws = st.xp, X.shape[1], st.ws
    A = forward(st, task, X, ws, m, training=True)
    if labels is None:
        cost = member_losses(task.loss, Y, A, axis=-2).astype(np.float64)
    else:
        cost = target_log_losses(xp, A, labels).astype(np.float64)
    delta = ws["delta"][-1][:, :, :m]
    output_delta(task.loss, task.output_activation, Y, A, delta, axis=-2)
    _backward(st, X, ws, m)
    if st.decay:
        weights = st.layout.weights
        w, gw = st.arrays["params"][:, weights], st.arrays["grads"][:, weights]
        ww = xp.matmul(w[:, None, :], w[:, :, None])[:, 0, 0]  # a dot per member, as alone
        tmp = st.arrays["tmp"][:, weights]
        xp.multiply(w, st.arrays["two_alpha"], out=tmp)
        gw += tmp  # 2 alpha w: weight decay on weights only
        alpha = st.arrays["alpha"]  # float64, as the lone trainer adds lambda sum w^2
        cost += xp.where(alpha > 0, alpha * ww.astype(np.float64), 0.0)
    return cost


def _backward(st: Stack, X: Array, ws: dict[str, list[Array]], m: int) -> None:
    xp = st.xp
    _, _, gammas, _ = st.params()
    _, gb, _, _ = st.grads()
    W, gW = st.weights("params"), st.weights("grads")
    # ones @ Delta sums the batch, as network.py does; a GPU sums in half the time
    ones = xp.ones(m, W[0].dtype) if xp is np else None
    top = len(W) - 1
    for layer in range(top, -1, -1):
        # (K, m, units); the output layer's Delta, kept units before rows, as a view
        delta = ws["delta"][-1][:, :, :m].swapaxes(1, 2) if layer == top else None
        delta = ws["delta"][layer][:, :m] if delta is None else delta
        a_prev = X if layer == 0 else _layer_output(st, ws, layer - 1, m)
        xp.matmul(a_prev.transpose(0, 2, 1), delta, out=gW[layer])
        if layer == 0:  # its product summed the bias gradient too (X's column of ones)
            pass
        elif ones is None:
            xp.sum(delta, axis=1, out=gb[layer])
        else:
            xp.matmul(ones, delta, out=gb[layer])
        if st.bn is not None and layer < len(W) - 1:
            gb[layer][st.bn] = 0
        if layer == 0:
            break
        below = layer - 1
        d = ws["delta"][below][:, :m]
        xp.matmul(delta, W[layer].transpose(0, 2, 1), out=d)
        if st.dropped[below]:
            d *= ws["mask"][below][:, :m]
        d *= ws["gprime"][below][:, :m]  # from forward; zero Delta of padded units stays zero
        if st.bn is not None:
            _batch_norm_backward(st, below, d[st.bn], ws, gammas)


def _layer_output(st: Stack, ws, layer: int, m: int) -> Array:
    return (ws["dropped"] if st.dropped[layer] else ws["act"])[layer][:, :m]


def _batch_norm_backward(st, layer, d, ws, gammas) -> None:
    # d holds dJ/d(gamma xhat + beta) of the batch-norm members; make it dJ/d in.
    sl, n = st.bn, d.shape[1]
    xhat = ws["xhat"][layer][sl][:, :n]
    _, _, g_gamma, g_beta = st.grads()
    dbeta, dgamma = g_beta[layer][sl], g_gamma[layer][sl]
    st.xp.sum(d, axis=1, out=dbeta)
    dgamma[...] = st.xp.einsum("kij,kij->kj", d, xhat)
    d *= n
    d -= dbeta[:, None]
    d -= xhat * dgamma[:, None]
    d *= ((gammas[layer][sl] * ws["inv_std"][layer][sl]) / n)[:, None]


# -- optimizers -------------------------------------------------------------------------


def update(st: Stack) -> None:
    """One optimizer step for every member, each run of members of one kind in one pass."""
    params, grads = st.arrays["params"], st.arrays["grads"]
    for opt, sl in st.optimizers:
        opt.step(params[sl], grads[sl])
    st.host["steps"] += 1
