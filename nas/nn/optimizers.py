"""Gradient-descent optimizers that update a flat parameter array in place.

Which of stochastic, mini-batch or full-batch gradient descent runs is decided by the
batch size the training loop feeds in (1, 1 < b < n, or n); the update rule is the same.
Updates walk the arrays in cache-sized chunks: each chunk's dozen element-wise operations
then stay in L2 cache instead of streaming the whole network through memory a dozen
times, which matters once a network has millions of weights.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray
CHUNK = 1 << 15  # 32k elements: 128 KiB in float32, 256 KiB in float64


def _chunks(size: int) -> list[slice]:
    return [slice(i, min(i + CHUNK, size)) for i in range(0, size, CHUNK)]


class SGD:
    """Gradient descent w <- w - lr dJ/dw, with optional (Nesterov) momentum.

    With momentum mu the velocity v <- mu v - lr g is added to w; Nesterov's variant adds
    mu v - lr g instead, a look-ahead step. momentum=0 is the lecture's plain rule.
    """

    def __init__(
        self, size: int, dtype: np.dtype, lr: float, momentum: float = 0.0, nesterov: bool = False
    ) -> None:
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = np.zeros(size, dtype) if momentum > 0 else None
        self._tmp = np.empty(min(size, CHUNK), dtype)
        self._slices = _chunks(size)

    def step(self, params: Array, grads: Array) -> None:
        lr, mu, v = self.lr, self.momentum, self.velocity
        for s in self._slices:
            p, t = params[s], self._tmp[: s.stop - s.start]
            np.multiply(grads[s], lr, out=t)  # lr g
            if v is None:
                p -= t
                continue
            vs = v[s]
            vs *= mu
            vs -= t  # v <- mu v - lr g
            if self.nesterov:
                p -= t  # w <- w + mu v - lr g
                np.multiply(vs, mu, out=t)
                p += t
            else:
                p += vs

    def state(self) -> dict[str, Array]:
        return {} if self.velocity is None else {"velocity": self.velocity}


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction folded into the step size."""

    def __init__(
        self,
        size: int,
        dtype: np.dtype,
        lr: float,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        self.lr = lr
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self._tmp = np.empty(min(size, CHUNK), dtype)
        self._slices = _chunks(size)

    def step(self, params: Array, grads: Array) -> None:
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        lr_t = self.lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for s in self._slices:
            g, m, v, t = grads[s], self.m[s], self.v[s], self._tmp[: s.stop - s.start]
            # m <- b1 m + (1 - b1) g  ==  m += (1 - b1)(g - m)
            np.subtract(g, m, out=t)
            t *= 1 - b1
            m += t
            # v <- b2 v + (1 - b2) g^2
            np.multiply(g, g, out=t)
            t *= 1 - b2
            v *= b2
            v += t
            # w <- w - lr_t m / (sqrt(v) + eps)
            np.sqrt(v, out=t)
            t += self.epsilon
            np.divide(m, t, out=t)
            t *= lr_t
            params[s] -= t

    def state(self) -> dict[str, Array]:
        return {"m": self.m, "v": self.v, "t": np.array(self.t)}
