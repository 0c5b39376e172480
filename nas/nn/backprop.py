"""Forward propagation and backpropagation over a mini-batch, for K networks at once.

A dense layer computes in_j = sum_i w_ij a_i + b_j for every example of the batch (a
matrix product per member, one xp.matmul over the stack), then a_j = g(in_j). Hidden
layers may add batch normalization between the product and g (learned gamma and beta; the
dense bias is then redundant, since beta plays its role, and is held at zero) and inverted
dropout after g. Backpropagation is the Delta rule:

    output layer   Delta_k = dJ/d in_k                    (nas.nn.losses.output_delta)
    hidden layer   Delta_j = g'(in_j) sum_k w_jk Delta_k
    gradient       dJ/dw_ij = sum over the batch of a_i Delta_j

Two layouts save whole passes: the inputs carry a leading column of ones and b_1 leads
W_1 (nas.nn.layout), so the first product adds the first bias and the first gradient
product sums its gradient; and the output layer runs units before rows (K, n_out, rows),
so that softmax reduces along contiguous rows rather than across 10 columns.
Written against `xp` (NumPy or CuPy); a lone network is K = 1 and runs this same code.

Sparse inputs (SciPy CSR, on the host) enter the first layer only: its product X W_1 and
its gradient product X^T Delta are sparse-by-dense products, one per member, and every
later layer is dense as before. Such X is one CSR array (rows shared by all members, led
by a stored one, nas.nn.network.led_by_ones) or a list of one per member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from nas.nn.activations import output_forward
from nas.nn.losses import member_losses, output_delta, target_log_losses

if TYPE_CHECKING:
    from nas.nn.network import Stack

Array = Any  # a NumPy or CuPy array
Workspace = dict[str, list[Array]]
BN_EPS = 1e-5
BN_MOMENTUM = 0.1  # running = (1 - m) running + m batch, as in PyTorch


def workspace(st: Stack, rows: int, training: bool = True) -> Workspace:
    """Buffers for batches of up to `rows`, kept on the stack and reused: activations,
    g', dropout masks (1 where a member drops nothing), BN caches, Deltas.

    Inference (training=False) needs only activations, BN scales and outputs.
    """
    ws = st.ws.get(training)
    if ws is not None and ws["out"][0].shape[2] >= rows:
        return ws
    xp, K, dt = st.xp, len(st), st.dtype
    hidden = st.layout.sizes[1:-1]
    ws = {
        "act": [xp.empty((K, rows, h), dt) for h in hidden],
        "inv_std": [xp.empty((K, h), dt) for h in hidden],
        "out": [xp.empty((K, st.layout.sizes[-1], rows), dt)],  # units before rows
    }
    if training:
        drops, bn = st.dropped, st.bn is not None  # buffers only where some member uses them
        ws.update(
            gprime=[xp.empty((K, rows, h), dt) for h in hidden],
            mask=[xp.ones((K, rows, h), dt) if p else None for h, p in zip(hidden, drops)],
            dropped=[xp.empty((K, rows, h), dt) if p else None for h, p in zip(hidden, drops)],
            xhat=[xp.empty((K, rows, h), dt) if bn else None for h in hidden],
            delta=[
                *(xp.empty((K, rows, h), dt) for h in hidden),
                xp.empty((K, st.layout.sizes[-1], rows), dt),
            ],
            decay=[xp.empty((K, st.layout.weights.stop - st.layout.weights.start), dt)],
            ones=[np.ones(rows, dt)],  # ones @ Delta sums the batch in a fraction of np.sum's time
        )
    st.ws[training] = ws
    return ws


# -- forward propagation ----------------------------------------------------------------


def forward(st: Stack, X: Array, ws: Workspace, m: int, training: bool) -> Array:
    """Output activations (K, n_out, m), units before rows, for inputs X: (K, m, 1 + n_in),
    or (m, 1 + n_in) shared by all members, led by a column of ones; or sparse (above)."""
    xp, W, b = st.xp, st.W, st.b
    sparse = not isinstance(X, xp.ndarray)
    a = X
    for layer in range(len(W) - 1):
        z = ws["act"][layer][:, :m]
        if layer == 0 and sparse:
            _sparse_product(X, W[0], z)
        else:
            xp.matmul(a, W[layer], out=z)  # in_j = sum_i w_ij a_i (+ b_j: the ones column)
        if layer and st.n_plain:  # zero for batch-norm members, whose beta plays its role
            z += b[layer][:, None, :]
        if st.bn is not None:
            _batch_norm(st, layer, z[st.bn], ws, training)
        for act, sl in st.act_runs:  # a_j = g(in_j); in training g'(in_j) too
            if training:
                act.forward_prime(z[sl], z[sl], ws["gprime"][layer][sl, :m])
            else:
                act.forward(z[sl], z[sl])
        if (unit := st.unit[layer]) is not None:  # padded units output exactly zero
            z *= unit[:, None, :]
        a = z
        if training and st.dropped[layer]:
            a = _dropout(st, layer, z, ws, m)
    out = ws["out"][0][:, :, :m]
    if len(W) == 1 and sparse:  # no hidden layer: the output layer is the first
        _sparse_product(X, W[0], out.swapaxes(-1, -2))
    else:
        xp.matmul(W[-1].swapaxes(-1, -2), a.swapaxes(-1, -2), out=out)
    if len(W) > 1:
        out += b[-1][:, :, None]
    output_forward(st.output_activation, out, out, axis=-2)
    return out


def _batch_norm(st: Stack, layer: int, z: Array, ws: Workspace, training: bool) -> None:
    """z <- gamma (z - mean) / sqrt(var + eps) + beta for the batch-norm members (z is theirs);
    batch statistics in training (running ones updated), running ones in inference."""
    sl, xp = st.bn, st.xp
    inv_std = ws["inv_std"][layer][sl]
    if training:
        n = z.shape[1]
        mean, var = z.mean(axis=1), z.var(axis=1)
        rm, rv = st.running_mean[layer][sl], st.running_var[layer][sl]
        rm *= 1 - BN_MOMENTUM
        rm += BN_MOMENTUM * mean
        rv *= 1 - BN_MOMENTUM
        rv += (BN_MOMENTUM * n / max(n - 1, 1)) * var  # unbiased, as PyTorch
    else:
        mean, var = st.running_mean[layer][sl], st.running_var[layer][sl]
    xp.add(var, BN_EPS, out=inv_std)
    xp.sqrt(inv_std, out=inv_std)
    xp.reciprocal(inv_std, out=inv_std)
    z -= mean[:, None]
    z *= inv_std[:, None]
    if training:
        ws["xhat"][layer][sl][:, : z.shape[1]] = z
    z *= st.gamma[layer][sl][:, None]
    z += st.beta[layer][sl][:, None]


def _dropout(st: Stack, layer: int, a: Array, ws: Workspace, m: int) -> Array:
    """Inverted dropout: keep each unit with probability 1 - p and scale it by 1/(1-p), so
    that inference needs no rescaling. Each member draws its mask on its true shape from
    its own generator, so its stream is the one it has alone."""
    mask = ws["mask"][layer]
    for i, (rng, p) in enumerate(zip(st.rngs, st.dropout)):
        if p[layer] > 0:
            assert rng is not None, "dropout needs the member's generator"
            view = mask[i, :m, : st.widths[i][layer]]
            direct = st.xp is np and view.flags.c_contiguous  # drawn where it is used
            r = view if direct else np.empty(view.shape, st.dtype)
            rng.random(dtype=r.dtype, out=r)
            np.greater_equal(r, p[layer], out=r, casting="unsafe")
            r *= 1.0 / (1.0 - p[layer])
            if not direct:
                view[...] = st.xp.asarray(r)
    out = ws["dropped"][layer][:, :m]
    st.xp.multiply(a, mask[:, :m], out=out)
    return out


# -- backpropagation --------------------------------------------------------------------


def gradients(st: Stack, loss: str, X: Array, Y: Array, labels: Array | None = None) -> Array:
    """Every member's cost J = mean loss + alpha sum w^2 (float64, on the device) on its
    batch; gradients into st.grads. X is (K, m, 1 + n_in) led by ones, Y (K, n_out, m)
    units before rows; labels (K, m), the target units of one-hot Y, if the cost may be
    read off them. Nothing here waits for the device: the caller decides when to look."""
    xp, m = st.xp, Y.shape[-1]
    ws = workspace(st, m)
    A = forward(st, X, ws, m, training=True)
    if labels is None:
        cost = member_losses(loss, Y, A, axis=-2).astype(np.float64)
    else:
        cost = target_log_losses(xp, A, labels).astype(np.float64)
    output_delta(loss, st.output_activation, Y, A, ws["delta"][-1][:, :, :m], axis=-2)
    backward(st, X, ws, m)
    if st.decay:  # weights only: no biases, gamma or beta
        weights = st.layout.weights
        w, gw, tmp = st.params[:, weights], st.grads[:, weights], ws["decay"][0]
        ww = xp.matmul(w[:, None, :], w[:, :, None])[:, 0, 0]  # a dot per member, in dtype
        xp.multiply(w, st.two_alpha, out=tmp)
        gw += tmp  # 2 alpha w
        decay = st.alpha_dev * ww.astype(np.float64)  # lambda sum w^2
        if not st.all_decay:  # 0 inf would be NaN for a member without it (K > 1)
            decay = xp.where(st.alpha_dev > 0, decay, 0.0)
        cost += decay
    return cost


def backward(st: Stack, X: Array, ws: Workspace, m: int) -> None:
    """Gradients of every parameter from the output Delta in ws['delta'][-1], reading the
    g'(in_j) that forward(training=True) left in the workspace."""
    xp, W, dW, db = st.xp, st.W, st.dW, st.db
    ones = ws["ones"][0][:m] if xp is np else None  # a GPU sums in half the time
    top = len(W) - 1
    for layer in range(top, -1, -1):
        if layer == top:  # (K, m, units): the output layer's Delta, kept units before rows
            delta = ws["delta"][-1][:, :, :m].swapaxes(1, 2)
        else:
            delta = ws["delta"][layer][:, :m]
        # dJ/dw_ij = sum over the batch of a_i Delta_j (the first layer's bias row too)
        if layer:
            xp.matmul(_layer_output(st, ws, layer - 1, m).swapaxes(-1, -2), delta, out=dW[layer])
        elif isinstance(X, xp.ndarray):
            xp.matmul(X.swapaxes(-1, -2), delta, out=dW[0])
        else:
            _sparse_product(X, delta, dW[0], transpose=True)
        if layer and ones is None:
            xp.sum(delta, axis=1, out=db[layer])
        elif layer:
            xp.matmul(ones, delta, out=db[layer])
        if st.bn is not None and layer < top:
            db[layer][st.bn] = 0  # held at zero: beta plays its role
        if layer == 0:
            break
        below = layer - 1
        d = ws["delta"][below][:, :m]
        xp.matmul(delta, W[layer].swapaxes(-1, -2), out=d)  # sum_k w_jk Delta_k
        if st.dropped[below]:
            d *= ws["mask"][below][:, :m]
        d *= ws["gprime"][below][:, :m]  # Delta_j = g'(in_j) ...; a padded unit's stays zero
        if st.bn is not None:
            _batch_norm_backward(st, below, d[st.bn], ws)


def _sparse_product(X: Any, right: Array, out: Array, transpose: bool = False) -> None:
    """out[k] = X_k right[k] (X_k^T right[k] if transpose) for every member k, X_k sparse:
    X itself (rows shared by all members) or X[k] (a member's own rows)."""
    shared = sp.issparse(X)
    for k in range(out.shape[0]):
        Xk = X if shared else X[k]
        out[k] = (Xk.T if transpose else Xk) @ right[k]


def _layer_output(st: Stack, ws: Workspace, layer: int, m: int) -> Array:
    return (ws["dropped"] if st.dropped[layer] else ws["act"])[layer][:, :m]


def _batch_norm_backward(st: Stack, layer: int, d: Array, ws: Workspace) -> None:
    """d holds dJ/d(gamma xhat + beta) of the batch-norm members; make it dJ/d in."""
    sl, n, xp = st.bn, d.shape[1], st.xp
    xhat = ws["xhat"][layer][sl][:, :n]
    dbeta, dgamma = st.dbeta[layer][sl], st.dgamma[layer][sl]
    xp.sum(d, axis=1, out=dbeta)
    dgamma[...] = xp.einsum("kij,kij->kj", d, xhat)
    d *= n
    d -= dbeta[:, None]
    d -= xhat * dgamma[:, None]
    d *= ((st.gamma[layer][sl] * ws["inv_std"][layer][sl]) / n)[:, None]
