"""DARTS in miniature: a supernet whose widths and depth are continuous, trained by gradients.

Liu, Simonyan and Yang (2019) relax a discrete architecture choice into a softmax-weighted
mixture and learn the mixture weights by gradient descent on validation rows, alternately
with the network weights on training rows. Here the choices are a width per hidden layer
and the depth:

    width   every layer is as wide as the widest choice; choice k keeps units j < w_k.
            The mixture of the K masked layers is one soft mask on the shared units:
                h_l = g(h_{l-1} W_l + b_l) * m_l,   m_l[j] = sum_k softmax(alpha_l)_k [j < w_k]
            (weight sharing: a narrow choice is the first units of the wide one)
    depth   an output head after each layer d that a depth choice allows; the output is
                out = sum_d softmax(beta)_d (h_d V_d + c_d)

Loss: softmax cross-entropy for classes, squared error for a (standardized) target. The
backward pass below carries every gradient, alpha and beta included, in closed form; the
tests check it against central differences in float64.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from nas.nn.activations import get_activation, softmax
from nas.nn.optimizers import Adam

Array = np.ndarray


def _softmax1(v: Array) -> Array:
    e = np.exp(v - v.max())
    return e / e.sum()


def log_softmax(v: Array) -> Array:
    shifted = v - v.max()
    return shifted - np.log(np.exp(shifted).sum())


class Supernet:
    """Hidden layers mixing `widths`, output heads after layers `depths`; flat parameters."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        widths: Sequence[int],
        depths: Sequence[int],
        activation: str,
        loss: str,
        rng: np.random.Generator,
        dtype: type[np.floating] = np.float32,
    ) -> None:
        if loss not in ("log", "squared"):
            raise ValueError(f"loss must be log or squared; got {loss!r}")
        self.widths = list(widths)
        self.depths = list(depths)
        self.n_layers = max(depths)
        self.activation = get_activation(activation)
        self.loss = loss
        wide = max(widths)
        self.mask: Array = (np.arange(wide)[:, None] < np.array(widths)[None, :]).astype(dtype)
        shapes: list[tuple[int, ...]] = [
            (n_in if layer == 0 else wide, wide) for layer in range(self.n_layers)
        ]
        shapes += [(wide,)] * self.n_layers
        shapes += [(wide, n_out)] * len(depths) + [(n_out,)] * len(depths)
        self.params: Array = np.zeros(sum(int(np.prod(s)) for s in shapes), dtype)
        self.grads = np.zeros_like(self.params)
        views, grad_views = _views(self.params, shapes), _views(self.grads, shapes)
        L, T = self.n_layers, len(depths)
        self.W, self.b = views[:L], views[L : 2 * L]
        self.V, self.c = views[2 * L : 2 * L + T], views[2 * L + T :]
        self.dW, self.db = grad_views[:L], grad_views[L : 2 * L]
        self.dV, self.dc = grad_views[2 * L : 2 * L + T], grad_views[2 * L + T :]
        self.arch: Array = np.zeros(L * len(widths) + T, dtype)  # [alpha (L, K), beta (T,)]
        self.arch_grads = np.zeros_like(self.arch)
        self.alpha = self.arch[: L * len(widths)].reshape(L, len(widths))
        self.beta = self.arch[L * len(widths) :]
        self.d_alpha = self.arch_grads[: L * len(widths)].reshape(L, len(widths))
        self.d_beta = self.arch_grads[L * len(widths) :]
        scale = 6.0 if activation in ("relu", "softplus") else 3.0  # He or Glorot-like
        for W in [*self.W, *self.V]:
            W[...] = rng.uniform(-1, 1, W.shape) * np.sqrt(scale / W.shape[0])

    def loss_and_gradients(self, X: Array, Y: Array) -> float:
        """The batch loss; fills self.grads (weights) and self.arch_grads (alpha, beta)."""
        n = X.shape[0]
        g = self.activation
        masks = self.mask @ np.stack([_softmax1(a) for a in self.alpha]).T  # (wide, L)
        hidden, acts = [X], []
        for layer in range(self.n_layers):
            a = hidden[-1] @ self.W[layer] + self.b[layer]
            g.forward(a, a)
            acts.append(a)
            hidden.append(a * masks[:, layer])
        q = _softmax1(self.beta)
        heads = [hidden[d] @ V + c for d, V, c in zip(self.depths, self.V, self.c)]
        out = sum(qd * o for qd, o in zip(q, heads))
        if self.loss == "log":
            P = np.empty_like(out)
            softmax(out, P)
            loss = -float(np.sum(Y * np.log(np.maximum(P, 1e-12)))) / n
            d_out = (P - Y) / n
        else:
            diff = out - Y
            loss = float(np.sum(diff * diff)) / n
            d_out = 2 * diff / n
        dq = np.array([np.sum(d_out * o) for o in heads])
        self.d_beta[...] = q * (dq - q @ dq)
        d_hidden = [np.zeros_like(h) for h in hidden]
        for t, d in enumerate(self.depths):
            d_head = q[t] * d_out
            self.dV[t][...] = hidden[d].T @ d_head
            self.dc[t][...] = d_head.sum(axis=0)
            d_hidden[d] += d_head @ self.V[t].T
        for layer in range(self.n_layers - 1, -1, -1):
            dh, a = d_hidden[layer + 1], acts[layer]
            p = _softmax1(self.alpha[layer])
            dp = self.mask.T @ np.sum(dh * a, axis=0)
            self.d_alpha[layer] = p * (dp - p @ dp)
            dz = dh * masks[:, layer]
            gprime = np.empty_like(a)
            g.derivative(a, gprime)
            dz *= gprime
            self.dW[layer][...] = hidden[layer].T @ dz
            self.db[layer][...] = dz.sum(axis=0)
            if layer > 0:
                d_hidden[layer] += dz @ self.W[layer].T
        return loss

    def train(
        self,
        train: tuple[Array, Array],
        val: tuple[Array, Array],
        epochs: int,
        batch_size: int,
        weight_lr: float,
        arch_lr: float,
        rng: np.random.Generator,
    ) -> int:
        """First-order DARTS: a weight step on a train batch, an arch step on a val batch."""
        weights = Adam(self.params.size, self.params.dtype, weight_lr)
        arch = Adam(self.arch.size, self.arch.dtype, arch_lr)
        val_batches = _batches(len(val[0]), batch_size, rng)
        steps = 0
        for _ in range(epochs):
            for rows in _epoch(len(train[0]), batch_size, rng):
                self.loss_and_gradients(train[0][rows], train[1][rows])
                weights.step(self.params, self.grads)
                rows = next(val_batches)
                self.loss_and_gradients(val[0][rows], val[1][rows])
                arch.step(self.arch, self.arch_grads)
                steps += 1
        return steps

    def ranking(self, k: int) -> list[tuple[tuple[int, ...], float]]:
        """The k best architectures (widths per layer) with their scores, best first.

        DARTS discretizes by argmax per decision; a runner-up differs from it where the
        mixture was least sure. Score: log q_depth + sum over layers of log p_l(w) minus
        log p_l(argmax), so every layer at its argmax costs nothing and a deep network is
        not penalized for having more factors than a shallow one. The argmax architecture
        scores highest. Per depth a beam of k over the layers (exact: the layers are
        independent), then the depths merged.
        """
        log_q = log_softmax(self.beta.astype(float))
        log_p = [log_softmax(a.astype(float)) for a in self.alpha]
        log_p = [lp - lp.max() for lp in log_p]
        found: list[tuple[tuple[int, ...], float]] = []
        for t, depth in enumerate(self.depths):
            beam: list[tuple[tuple[int, ...], float]] = [((), float(log_q[t]))]
            for layer in range(depth):
                grown = [
                    ((*w, self.widths[i]), s + float(log_p[layer][i]))
                    for w, s in beam
                    for i in range(len(self.widths))
                ]
                beam = sorted(grown, key=lambda x: -x[1])[:k]
            found += beam
        return sorted(found, key=lambda x: -x[1])[:k]


def _views(flat: Array, shapes: list[tuple[int, ...]]) -> list[Array]:
    views, at = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[at : at + size].reshape(shape))
        at += size
    return views


def _epoch(n: int, batch_size: int, rng: np.random.Generator) -> list[Array]:
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[Array]:
    while True:
        yield from _epoch(n, batch_size, rng)
