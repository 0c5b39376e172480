"""The feed-forward network: forward propagation and backpropagation over a mini-batch.

A dense layer computes in_j = sum_i w_ij a_i + b_j for every example of the batch at once
(a matrix product), then a_j = g(in_j). Hidden layers may add batch normalization between
the product and g (learned gamma and beta; with it the dense bias is redundant, since beta
plays its role, and is held at zero) and inverted dropout after g.

All parameters live in one flat array, laid out as [W_1..W_L, b_1..b_L, gamma.., beta..];
coefs/intercepts/gammas/betas are views into it, and the gradients mirror that layout.
Optimizers then update the whole network in a few vectorized operations, and weight decay
touches exactly the leading n_weights entries (weights only: no biases, gamma or beta).
Work buffers are allocated once per batch size and reused, so a training step allocates
almost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nas.nn.activations import get_activation, output_forward
from nas.nn.init import initialize
from nas.nn.losses import loss_value, output_delta

Array = np.ndarray
BN_EPS = 1e-5
BN_MOMENTUM = 0.1  # running = (1 - m) running + m batch, as in PyTorch


class _Workspace:
    """Buffers for one batch size: activations, dropout masks, BN caches, Deltas."""

    def __init__(self, net: Network, n: int) -> None:
        dt = net.dtype
        hidden = net.sizes[1:-1]
        self.n = n
        self.act = [np.empty((n, h), dt) for h in hidden]
        self.gprime = [np.empty((n, h), dt) for h in hidden]
        self.dropped = [
            np.empty((n, h), dt) if p > 0 else None for h, p in zip(hidden, net.dropout)
        ]
        self.mask = [np.empty((n, h), dt) if p > 0 else None for h, p in zip(hidden, net.dropout)]
        self.xhat = [np.empty((n, h), dt) for h in hidden] if net.batch_norm else []
        self.inv_std = [np.empty(h, dt) for h in hidden]
        self.out = np.empty((n, net.sizes[-1]), dt)
        self.delta = [np.empty((n, s), dt) for s in net.sizes[1:]]
        self.ones = np.ones(n, dt)  # sum over the batch as a product: ones @ Delta


class Network:
    """A multi-layer perceptron with sizes [n_in, h_1, ..., h_L, n_out]."""

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str,
        output_activation: str,
        *,
        batch_norm: bool = False,
        dropout: Sequence[float] = (),
        dtype: np.dtype | type = np.float32,
    ) -> None:
        self.sizes = [int(s) for s in sizes]
        self.activation = get_activation(activation)
        self.output_activation = output_activation
        self.batch_norm = batch_norm
        n_hidden = len(self.sizes) - 2
        self.dropout = tuple(dropout) if dropout else (0.0,) * n_hidden
        self.dtype = np.dtype(dtype)
        w_shapes = list(zip(self.sizes[:-1], self.sizes[1:]))
        b_sizes = self.sizes[1:]
        bn_sizes = self.sizes[1:-1] if batch_norm else []
        self.n_weights = sum(i * o for i, o in w_shapes)
        total = self.n_weights + sum(b_sizes) + 2 * sum(bn_sizes)
        self.params = np.zeros(total, self.dtype)
        self.grads = np.zeros(total, self.dtype)
        self.coefs, self.intercepts, self.gammas, self.betas = self._views(self.params)
        self.grad_coefs, self.grad_intercepts, self.grad_gammas, self.grad_betas = self._views(
            self.grads
        )
        for g in self.gammas:
            g.fill(1)
        self.running_mean = [np.zeros(h, self.dtype) for h in bn_sizes]
        self.running_var = [np.ones(h, self.dtype) for h in bn_sizes]
        self._ws: _Workspace | None = None
        self._decay = np.empty(self.n_weights, self.dtype)  # 2 alpha w, kept between batches

    def _views(self, flat: Array) -> tuple[list[Array], list[Array], list[Array], list[Array]]:
        pos = 0

        def take(shape: tuple[int, ...]) -> Array:
            nonlocal pos
            size = math.prod(shape)
            view = flat[pos : pos + size].reshape(shape)
            pos += size
            return view

        coefs = [take((i, o)) for i, o in zip(self.sizes[:-1], self.sizes[1:])]
        intercepts = [take((o,)) for o in self.sizes[1:]]
        bn = self.sizes[1:-1] if self.batch_norm else []
        gammas = [take((h,)) for h in bn]
        betas = [take((h,)) for h in bn]
        return coefs, intercepts, gammas, betas

    @property
    def n_layers(self) -> int:
        """Number of dense layers (hidden layers + the output layer)."""
        return len(self.sizes) - 1

    def initialize(self, scheme: str, init_scale: float, rng: np.random.Generator) -> None:
        for layer, (W, b) in enumerate(zip(self.coefs, self.intercepts)):
            initialize(W, b, scheme, init_scale, rng)
            if self.batch_norm and layer < self.n_layers - 1:
                b.fill(0)

    def snapshot(self) -> list[Array]:
        """Copies of everything inference reads: parameters and BN running statistics."""
        return [a.copy() for a in (self.params, *self.running_mean, *self.running_var)]

    def restore(self, snapshot: list[Array]) -> None:
        for dst, src in zip((self.params, *self.running_mean, *self.running_var), snapshot):
            dst[...] = src

    def workspace(self, n: int) -> _Workspace:
        if self._ws is None or self._ws.n < n:
            self._ws = _Workspace(self, n)
        return self._ws

    # -- forward propagation ------------------------------------------------------------

    def forward(
        self, X: Array, *, training: bool = False, rng: np.random.Generator | None = None
    ) -> Array:
        """Output activations for a batch X. Returns a view into a reused buffer."""
        n = X.shape[0]
        ws = self.workspace(n)
        a = X
        for layer in range(self.n_layers - 1):
            z = ws.act[layer][:n]
            np.matmul(a, self.coefs[layer], out=z)
            if self.batch_norm:
                self._batch_norm(layer, z, ws, training)
            else:
                z += self.intercepts[layer]
            if training:  # g' too, for backpropagation
                self.activation.forward_prime(z, z, ws.gprime[layer][:n])
            else:
                self.activation.forward(z, z)
            a = z
            p = self.dropout[layer]
            if training and p > 0:
                a = self._dropout(p, z, ws.mask[layer], ws.dropped[layer], n, rng)
        out = ws.out[:n]
        np.matmul(a, self.coefs[-1], out=out)
        out += self.intercepts[-1]
        output_forward(self.output_activation, out, out)
        return out

    def _batch_norm(self, layer: int, z: Array, ws: _Workspace, training: bool) -> None:
        inv_std = ws.inv_std[layer]
        if training:
            mean = z.mean(axis=0)
            var = z.var(axis=0)
            n = z.shape[0]
            rm, rv = self.running_mean[layer], self.running_var[layer]
            rm *= 1 - BN_MOMENTUM
            rm += BN_MOMENTUM * mean
            rv *= 1 - BN_MOMENTUM
            rv += (BN_MOMENTUM * n / max(n - 1, 1)) * var  # unbiased, as PyTorch
        else:
            mean, var = self.running_mean[layer], self.running_var[layer]
        np.add(var, BN_EPS, out=inv_std)
        np.sqrt(inv_std, out=inv_std)
        np.reciprocal(inv_std, out=inv_std)
        z -= mean
        z *= inv_std
        if training:
            np.copyto(ws.xhat[layer][: z.shape[0]], z)
        z *= self.gammas[layer]
        z += self.betas[layer]

    @staticmethod
    def _dropout(
        p: float, a: Array, mask: Array | None, dropped: Array | None, n: int, rng
    ) -> Array:
        # Inverted dropout: keep each unit with probability 1 - p and scale it by 1/(1-p),
        # so that inference needs no rescaling.
        assert mask is not None and dropped is not None and rng is not None
        m = mask[:n]
        rng.random(dtype=m.dtype, out=m)
        np.greater_equal(m, p, out=m, casting="unsafe")
        m *= 1.0 / (1.0 - p)
        out = dropped[:n]
        np.multiply(a, m, out=out)
        return out

    # -- backpropagation ----------------------------------------------------------------

    def backward(self, X: Array) -> None:
        """Gradients of every parameter from the output Delta in workspace.delta[-1].

        Hidden Deltas follow the lecture: Delta_j = g'(in_j) sum_j' w_jj' Delta_j', then
        dJ/dw_ij = sum over the batch of Delta_j a_i. It reads the g'(in_j) that
        forward(X, training=True) left in the workspace.
        """
        n = X.shape[0]
        ws = self.workspace(n)
        for layer in range(self.n_layers - 1, -1, -1):
            delta = ws.delta[layer][:n]
            a_prev = X if layer == 0 else self._layer_output(ws, layer - 1, n)
            np.matmul(a_prev.T, delta, out=self.grad_coefs[layer])
            if self.batch_norm and layer < self.n_layers - 1:
                self.grad_intercepts[layer].fill(0)
            else:  # a product sums over the batch in a fraction of np.sum's time
                np.matmul(ws.ones[:n], delta, out=self.grad_intercepts[layer])
            if layer == 0:
                break
            below = layer - 1
            d = ws.delta[below][:n]
            np.matmul(delta, self.coefs[layer].T, out=d)
            mask = ws.mask[below]
            if mask is not None:
                d *= mask[:n]
            d *= ws.gprime[below][:n]
            if self.batch_norm:
                self._batch_norm_backward(below, d, ws)

    def _layer_output(self, ws: _Workspace, layer: int, n: int) -> Array:
        dropped = ws.dropped[layer]
        return (dropped if dropped is not None and self.dropout[layer] > 0 else ws.act[layer])[:n]

    def _batch_norm_backward(self, layer: int, d: Array, ws: _Workspace) -> None:
        # d holds dJ/d(gamma xhat + beta); turn it into dJ/d in (the product's output).
        n = d.shape[0]
        xhat = ws.xhat[layer][:n]
        dbeta = self.grad_betas[layer]
        dgamma = self.grad_gammas[layer]
        np.sum(d, axis=0, out=dbeta)
        np.einsum("ij,ij->j", d, xhat, out=dgamma)
        d *= n
        d -= dbeta
        d -= xhat * dgamma
        d *= (self.gammas[layer] * ws.inv_std[layer]) / n

    # -- the objective ------------------------------------------------------------------

    def loss_and_gradient(
        self,
        X: Array,
        Y: Array,
        loss: str,
        alpha: float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> float:
        """Cost J = mean loss + alpha * sum w^2 on one batch; gradients into self.grads.

        The weight-decay term covers the weights only (not biases, gamma or beta), so its
        gradient 2 alpha w is added to the leading n_weights entries.
        """
        A = self.forward(X, training=True, rng=rng)
        J = loss_value(loss, Y, A)
        output_delta(
            loss, self.output_activation, Y, A, self.workspace(X.shape[0]).delta[-1][: X.shape[0]]
        )
        self.backward(X)
        if alpha > 0:
            w, gw = self.params[: self.n_weights], self.grads[: self.n_weights]
            J += alpha * float(np.dot(w, w))
            # gw += 2 alpha w through NumPy's own BLAS: SciPy's wheels carry a second
            # OpenBLAS whose thread pool fights NumPy's (10x slower at default threads)
            np.multiply(w, 2.0 * alpha, out=self._decay)
            gw += self._decay
        return J

    def predict_output(self, X: Array, chunk: int = 4096) -> Array:
        """Inference-mode output activations (no dropout; BN running statistics)."""
        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        for start in range(0, X.shape[0], chunk):
            out[start : start + chunk] = self.forward(X[start : start + chunk])
        return out
