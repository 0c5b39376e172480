"""Gradient-descent optimizers that update a flat parameter array in place.

Which of stochastic, mini-batch or full-batch gradient descent runs is decided by the
batch size the training loop feeds in (1, 1 < b < n, or n); the update rule is the same.

Two details keep the update cheap next to the matrix products. Updates walk the arrays in
cache-sized chunks, so each chunk's dozen element-wise operations stay in L2 cache instead
of streaming the whole network through memory a dozen times. And large networks are split
into one contiguous range per thread: NumPy releases the GIL inside element-wise loops,
so the ranges update in parallel, as the BLAS threads do for the products.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

Array = np.ndarray
Scalars = float | np.ndarray  # one network's, or one per member of a population
CHUNK = 1 << 15  # 32k elements: 128 KiB in float32, 256 KiB in float64
PARALLEL_MIN = 1 << 18  # below this, thread hand-off costs more than it saves

_threads = int(os.environ.get("NAS_NN_THREADS", min(os.cpu_count() or 1, 4)))
_pool: ThreadPoolExecutor | None = None


def set_num_threads(n: int) -> None:
    """Threads for element-wise updates (a Ray worker sets this to its CPU share)."""
    global _threads, _pool
    if n < 1:
        raise ValueError(f"threads must be >= 1; got {n}")
    _threads = n
    if _pool is not None:
        _pool.shutdown()
        _pool = None


def _run_ranges(update, size: int, tmps: list[Array]) -> None:
    """Call update(lo, hi, tmp) over [0, size), split across threads when it pays."""
    global _pool
    n = min(_threads, len(tmps)) if size >= PARALLEL_MIN else 1
    if n == 1:
        update(0, size, tmps[0])
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(_threads, thread_name_prefix="nas-nn")
    bounds = np.linspace(0, size, n + 1).astype(int)
    futures = [_pool.submit(update, bounds[i], bounds[i + 1], tmps[i]) for i in range(1, n)]
    update(bounds[0], bounds[1], tmps[0])
    for f in futures:
        f.result()


class _Optimizer:
    def __init__(self, size: int, dtype: np.dtype, lr: float) -> None:
        self.lr = lr
        self.size = size
        self._tmps = [np.empty(min(size, CHUNK), dtype) for _ in range(max(_threads, 1))]

    def step(self, params: Array, grads: Array) -> None:
        self._prepare()

        def update(lo: int, hi: int, tmp: Array) -> None:
            for start in range(lo, hi, CHUNK):
                s = slice(start, min(start + CHUNK, hi))
                self._update_chunk(params[s], grads[s], s, tmp[: s.stop - s.start])

        _run_ranges(update, self.size, self._tmps)

    def _prepare(self) -> None:
        pass

    def _update_chunk(self, p: Array, g: Array, s: slice, t: Array) -> None:
        raise NotImplementedError


class SGD(_Optimizer):
    """Gradient descent w <- w - lr dJ/dw, with optional (Nesterov) momentum.

    With momentum mu the velocity v <- mu v - lr g is added to w; Nesterov's variant adds
    mu v - lr g instead, a look-ahead step. momentum=0 is the lecture's plain rule.
    """

    def __init__(
        self, size: int, dtype: np.dtype, lr: float, momentum: float = 0.0, nesterov: bool = False
    ) -> None:
        super().__init__(size, dtype, lr)
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = np.zeros(size, dtype) if momentum > 0 else None

    def _update_chunk(self, p: Array, g: Array, s: slice, t: Array) -> None:
        np.multiply(g, self.lr, out=t)  # lr g
        if self.velocity is None:
            p -= t
            return
        mu, v = self.momentum, self.velocity[s]
        v *= mu
        v -= t  # v <- mu v - lr g
        if self.nesterov:
            p -= t  # w <- w + mu v - lr g
            np.multiply(v, mu, out=t)
            p += t
        else:
            p += v


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction folded into the step size.

    m and v hold the moments as decaying sums, m = sum_i b1^(t-i) g_i and likewise v of
    g_i^2: the paper's averages divided by (1 - b1) and (1 - b2). A sum takes one pass
    fewer per update than an average, and the two factors move into the scalars:

        lr_t (1 - b1) m / (sqrt(1 - b2) sqrt(v) + eps)
            = [lr_t (1 - b1) / sqrt(1 - b2)] m / (sqrt(v) + eps / sqrt(1 - b2))
    """

    def __init__(
        self,
        size: int,
        dtype: np.dtype,
        lr: float,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(size, dtype, lr)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self._step_size = 0.0
        self._eps = 0.0

    def _prepare(self) -> None:
        self.t += 1
        b1, b2, t = self.beta_1, self.beta_2, self.t
        lr_t = self.lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        step_size, eps = adam_scalars(lr_t, b1, b2, self.epsilon)
        # Python floats, so that the arrays' dtype does the arithmetic (no float64 pass)
        self._step_size, self._eps = float(step_size), float(eps)

    def _update_chunk(self, p: Array, g: Array, s: slice, t: Array) -> None:
        m, v = self.m[s], self.v[s]
        m *= self.beta_1  # m <- b1 m + g
        m += g
        np.multiply(g, g, out=t)  # v <- b2 v + g^2
        v *= self.beta_2
        v += t
        np.sqrt(v, out=t)  # w <- w - step_size m / (sqrt(v) + eps')
        t += self._eps
        np.divide(m, t, out=t)
        t *= self._step_size
        p -= t


def adam_scalars(lr_t: Scalars, beta_1: Scalars, beta_2: Scalars, epsilon: Scalars) -> tuple:
    """Adam's step size and epsilon for moments kept as sums (see Adam), of one network or
    of a population's members at once, which then take the very same steps."""
    root = np.sqrt(1 - np.asarray(beta_2, np.float64))
    return lr_t * (1 - beta_1) / root, epsilon / root
