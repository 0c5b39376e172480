"""Gradient-descent update rules, written once for K parameter rows (a lone network is K = 1).

Which of stochastic, mini-batch or full-batch gradient descent runs is decided by the
batch size the training loop feeds in (1, 1 < b < n, or n); the update rule is the same.

An optimizer keeps its state as (K, P) arrays, one row per network, and its settings
(learning rate, betas, momentum) per row, so that a population whose members differ in
them still updates in one pass per rule. It runs on NumPy or CuPy, as its arrays do.

On the host two details keep an update cheap next to the matrix products. Updates walk
the columns in pieces of CHUNK, so each piece's dozen element-wise operations stay in L2
cache instead of streaming a large network through memory a dozen times. And large
networks split their pieces across threads: NumPy releases the GIL inside element-wise
loops, so pieces update in parallel, as the BLAS threads do for the products.

To add an optimizer: a subclass with its settings (each named after the estimator
parameter it is read from), its state and its rule (_update), and an entry in OPTIMIZERS.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nas.nn.backend import module_of, to_host
from nas.nn.layout import Placement

Array = Any  # a NumPy or CuPy array
Scalars = float | np.ndarray  # one network's, or one per member of a population
CHUNK = 1 << 15  # 32k elements: 128 KiB in float32, 256 KiB in float64
PARALLEL_MIN = 1 << 18  # below this, thread hand-off costs more than it saves

# an estimator fitted in a user's own script; `nas` and Ray actors set the count from
# NAS_THREADS at start-up (nas.nn.threads), the one variable for every pool
_threads = int(os.environ.get("NAS_THREADS") or min(os.cpu_count() or 1, 4))
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


@dataclass(slots=True)
class _Block:
    """Columns of all K rows, with those columns of the state arrays and scratch, taken
    once (a step then takes two views a block). Rows are never split: a lone network's
    long row goes through the cache a piece of CHUNK at a time, a population's short rows
    go whole (grouping rows into cache-sized blocks measured 5-15 % slower there: more
    calls, no fewer misses)."""

    cols: slice
    state: dict[str, Array]
    tmp: Array


class Optimizer:
    """K rows' update rule; settings per row, state as (K, P) arrays (zero until used)."""

    name: ClassVar[str]
    settings: ClassVar[dict[str, str]]  # setting -> the estimator parameter it is read from
    state: ClassVar[tuple[str, ...]] = ()  # (K, P) arrays kept between steps (None if unused)
    counters: ClassVar[tuple[str, ...]] = ("epochs",)  # (K,) host integers kept between steps
    epochs: np.ndarray  # epochs begun, per row (the schedule's clock)

    def __init__(self, size: int, dtype: np.dtype | type, lr: float, **settings: float) -> None:
        """One network's optimizer (K = 1) for `size` parameters."""
        values = {"lr": lr, "horizon": 0.0, **settings}  # horizon: schedule(), 0 is none
        self._build(np, size, np.dtype(dtype), {k: np.array([float(v)]) for k, v in values.items()})
        for name in self.state:
            if self._keeps(name):
                setattr(self, name, np.zeros((1, size), self.dtype))

    @classmethod
    def from_params(cls, size: int, dtype: np.dtype, params: Mapping[str, Any]) -> Optimizer:
        """Built from an estimator's parameters (get_params()), by the names in settings."""
        return cls(size, dtype, **{k: params[p] for k, p in cls.settings.items()})

    def _build(self, xp: Any, size: int, dtype: np.dtype, values: dict[str, np.ndarray]) -> None:
        self.size, self.dtype = size, dtype
        self.values = values  # float64 per row, on the host
        # what the rule multiplies by: one row's as Python floats (NumPy casts one to dtype
        # as it casts a one-element column, and an array costs a microsecond to make);
        # many rows' as (K, 1) columns in dtype on the device
        self.columns: dict[str, Any] = {
            k: v[0] if len(v) == 1 else xp.asarray(np.array(v).astype(dtype)[:, None])
            for k, v in self._columns().items()
        }
        for name in self.counters:
            setattr(self, name, np.zeros(len(self), np.int64))
        for name in self.state:
            setattr(self, name, None)
        self._plan: list[list[_Block]] | None = None  # blocks per thread, built by a step
        self._plan_xp: Any = None
        self._kept: Any = None  # values a subclass derives once
        self._rates: tuple[bytes, Any] | None = None  # (epochs counted, rates) kept

    def __len__(self) -> int:
        return len(self.values["lr"])

    @property
    def lr(self) -> float:
        return float(self.values["lr"][0])

    @property
    def kind(self) -> tuple[Any, ...]:
        """Rows of one kind update in one pass (a population groups its members by it)."""
        return (self.name,)

    def _columns(self) -> dict[str, list[float]]:
        """The per-row values the rule reads, as Python floats (float64; cast to dtype once)."""
        return {k: v.tolist() for k, v in self.values.items() if k != "horizon"}

    # -- the learning-rate schedule ---------------------------------------------------------

    def schedule(self, epochs: int) -> None:
        """Anneal this network's learning rate over `epochs` (schedule_factor), before its
        first step; a population stacks its members' horizons with their other values."""
        if epochs < 1:
            raise ValueError(f"a schedule's epochs must be >= 1; got {epochs}")
        self.values["horizon"][0] = float(epochs)

    def begin_epoch(self) -> None:
        """Count an epoch begun (the training loop calls it once an epoch, before saving
        what a replayed epoch goes back to)."""
        self.epochs += 1

    @property
    def scheduled(self) -> bool:
        return bool(self.values["horizon"].any())

    def _scaled(self, lr: np.ndarray) -> np.ndarray:
        """lr (K,) times each row's schedule factor for the epoch under way."""
        horizon = self.values["horizon"]
        factor = schedule_factor(np.maximum(self.epochs - 1, 0), np.maximum(horizon, 1))
        return np.where(horizon > 0, lr * factor, lr)

    def _rate_column(self) -> Any:
        """This epoch's learning rates as the rule multiplies by them (kept per epoch)."""
        key = self.epochs.tobytes()
        if self._rates is None or self._rates[0] != key:
            rates = self._scaled(self.values["lr"])
            value = float(rates[0]) if len(rates) == 1 else self._column(rates)
            self._rates = (key, value)
        return self._rates[1]

    def _column(self, values: np.ndarray) -> Any:
        return self._xp().asarray(values.astype(self.dtype)[:, None])

    def _keeps(self, name: str) -> bool:
        """Whether state `name` is needed (SGD without momentum keeps no velocity)."""
        return True

    def _xp(self) -> Any:
        """The array module of the state (NumPy for one row's settings, kept as floats)."""
        arrays = [a for n in self.state if (a := getattr(self, n)) is not None]
        arrays += [c for c in self.columns.values() if not isinstance(c, float)]
        return module_of(arrays[0]) if arrays else np

    # -- one step ---------------------------------------------------------------------------

    def step(self, params: Array, grads: Array) -> None:
        """One update of params (K, P), or (P,) for K = 1, from grads of the same shape."""
        if params.ndim == 1:
            params, grads = params[None], grads[None]
        self._prepare()
        if self._plan is None:
            self._make_plan(module_of(params), params.shape)
        xp, parts = self._plan_xp, self._plan
        assert parts is not None
        if len(parts) == 1 and len(parts[0]) == 1:  # one block: the arrays themselves
            self._update(xp, params, grads, parts[0][0])
            return

        def update(part: list[_Block]) -> None:
            for b in part:
                self._update(xp, params[:, b.cols], grads[:, b.cols], b)

        if len(parts) == 1:
            update(parts[0])
            return
        global _pool
        if _pool is None:
            _pool = ThreadPoolExecutor(_threads, thread_name_prefix="nas-nn")
        futures = [_pool.submit(update, part) for part in parts[1:]]
        update(parts[0])
        for f in futures:
            f.result()

    def _make_plan(self, xp: Any, shape: tuple[int, int]) -> None:
        """Blocks per thread: a GPU takes everything as one block (one kernel per operation);
        the host cache-sized blocks, split across threads when there are enough."""
        K, P = shape
        width = CHUNK if xp is np else P
        cut = [slice(c, min(c + width, P)) for c in range(0, P, width)]
        n = min(_threads, len(cut)) if xp is np and K * P >= PARALLEL_MIN else 1
        tmps = [xp.empty((K, min(width, P)), self.dtype) for _ in range(n)]
        parts: list[list[_Block]] = [[] for _ in range(n)]
        for i, c in enumerate(cut):
            state = {k: a[:, c] for k in self.state if (a := getattr(self, k)) is not None}
            parts[i % n].append(_Block(c, state, tmps[i % n][:, : c.stop - c.start]))
        self._plan, self._plan_xp = parts, xp

    def _prepare(self) -> None:
        """Per-step values, before the blocks."""

    def _update(self, xp: Any, p: Array, g: Array, b: _Block) -> None:
        """The rule on block b, whose parameters and gradients are p and g."""
        raise NotImplementedError

    # -- rows in and out: a population stacks its members' optimizers ----------------------

    @classmethod
    def stacked(
        cls, members: Sequence[Optimizer], places: Sequence[Placement], size: int, xp: Any
    ) -> Optimizer:
        """One optimizer whose row k is members[k], zero-padded to `size` at places[k]."""
        first = members[0]
        new = copy.copy(first)
        values = {k: np.concatenate([m.values[k] for m in members]) for k in first.values}
        new._build(xp, size, first.dtype, values)
        for name in cls.counters:
            setattr(new, name, np.concatenate([getattr(m, name) for m in members]))
        for name in cls.state:
            if not any(getattr(m, name) is not None for m in members):
                continue
            rows = np.zeros((len(members), size), first.dtype)
            for k, (m, place) in enumerate(zip(members, places)):
                # a member that never stepped has zero state, as the zeros are
                if (own := getattr(m, name)) is not None and own.any():
                    place.put(rows[k], own[0])
            setattr(new, name, xp.asarray(rows))
        return new

    def select(self, index: slice | np.ndarray) -> Optimizer:
        """Rows `index`: views for a slice (steps reach this optimizer), else copies."""
        new = copy.copy(self)
        dev = index if isinstance(index, slice) else self._xp().asarray(index)
        new.values = {k: v[index] for k, v in self.values.items()}
        new.columns = {
            k: v[dev] if not isinstance(v, float) else v for k, v in self.columns.items()
        }
        new._kept = None
        new._rates = None
        for name in self.counters:
            setattr(new, name, getattr(self, name)[index])
        for name in self.state:
            if (a := getattr(self, name)) is not None:
                setattr(new, name, a[dev])
        new._plan = None
        return new

    def write_back(
        self, rows: Sequence[int], members: Sequence[Optimizer], places: Sequence[Placement]
    ) -> None:
        """Copy row rows[i] into members[i] (one transfer per array off a GPU)."""
        index = np.asarray(rows, np.int64)
        for name in self.state:
            if (a := getattr(self, name)) is None:
                continue
            host = a[index] if module_of(a) is np else to_host(a[module_of(a).asarray(index)])
            for i, (m, place) in enumerate(zip(members, places)):
                if (own := getattr(m, name)) is not None:
                    place.get(host[i], own[0])
        for name in self.counters:
            for k, m in zip(rows, members):
                getattr(m, name)[0] = getattr(self, name)[k]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_plan": None, "_plan_xp": None}  # rebuilt by the next step

    def saved(self) -> dict[str, Array]:
        """Copies of everything a step changes (a replayed epoch goes back to them)."""
        names = (*self.state, *self.counters)
        return {n: a.copy() for n in names if (a := getattr(self, n)) is not None}

    def restore(self, saved: dict[str, Array]) -> None:
        for name, a in saved.items():
            getattr(self, name)[...] = a


class SGD(Optimizer):
    """Gradient descent w <- w - lr dJ/dw, with optional (Nesterov) momentum.

    With momentum mu the velocity v <- mu v - lr g is added to w; Nesterov's variant adds
    mu v - lr g instead, a look-ahead step. momentum=0 is the lecture's plain rule; a row
    without momentum among rows with it takes mu = 0, which is that rule bit for bit:
    w + (0 v - lr g) == w - lr g.
    """

    name = "sgd"
    settings: ClassVar[dict[str, str]] = {"lr": "learning_rate_init", "momentum": "momentum"}
    state = ("velocity",)
    velocity: Array | None

    def __init__(
        self,
        size: int,
        dtype: np.dtype | type,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self.nesterov = bool(nesterov)  # the same for all rows: it is part of the kind
        super().__init__(size, dtype, lr, momentum=momentum)

    @classmethod
    def from_params(cls, size: int, dtype: np.dtype, params: Mapping[str, Any]) -> Optimizer:
        return cls(
            size, dtype, params["learning_rate_init"], params["momentum"], params["nesterov"]
        )

    @property
    def kind(self) -> tuple[Any, ...]:
        return (self.name, self.nesterov)

    def _keeps(self, name: str) -> bool:
        return bool(self.values["momentum"].any())

    def _prepare(self) -> None:
        if self.scheduled:
            self.columns["lr"] = self._rate_column()

    def _update(self, xp: Any, p: Array, g: Array, b: _Block) -> None:
        lr, mu, t = self.columns["lr"], self.columns["momentum"], b.tmp
        xp.multiply(g, lr, out=t)  # lr g
        if self.velocity is None:
            p -= t
            return
        v = b.state["velocity"]
        v *= mu
        v -= t  # v <- mu v - lr g
        if self.nesterov:
            p -= t  # w <- w + mu v - lr g
            xp.multiply(v, mu, out=t)
            p += t
        else:
            p += v


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction folded into the step size.

    m and v hold the moments as decaying sums, m = sum_i b1^(t-i) g_i and likewise v of
    g_i^2: the paper's averages divided by (1 - b1) and (1 - b2). A sum takes one pass
    fewer per update than an average, and the two factors move into the scalars:

        lr_t (1 - b1) m / (sqrt(1 - b2) sqrt(v) + eps)
            = [lr_t (1 - b1) / sqrt(1 - b2)] m / (sqrt(v) + eps / sqrt(1 - b2))
    """

    name = "adam"
    settings: ClassVar[dict[str, str]] = {
        "lr": "learning_rate_init",
        "beta_1": "beta_1",
        "beta_2": "beta_2",
        "epsilon": "epsilon",
    }
    state = ("m", "v")
    counters = ("epochs", "t")
    m: Array
    v: Array
    t: np.ndarray

    def __init__(
        self,
        size: int,
        dtype: np.dtype | type,
        lr: float,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(size, dtype, lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)

    def _columns(self) -> dict[str, list[float]]:
        v = super()._columns()
        roots = [math.sqrt(1 - b2) for b2 in v["beta_2"]]  # adam_scalars' epsilon
        return {
            "beta_1": v["beta_1"],
            "beta_2": v["beta_2"],
            "epsilon": [eps / root for eps, root in zip(v["epsilon"], roots)],
            "step": [0.0] * len(roots),  # the step size, set before every step
        }

    def _prepare(self) -> None:
        v = self.values
        if len(self) == 1:  # Python floats: NumPy's calls on one-element arrays cost 5 us
            t = int(self.t[0]) + 1
            self.t[0] = t
            lr, b1, b2, root = self._floats()
            if self.scheduled:
                lr = self._rate_column()
            lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            self.columns["step"] = lr_t * (1 - b1) / root  # adam_scalars
            return
        self.t += 1
        beta_1, beta_2 = v["beta_1"], v["beta_2"]
        lrs = self._scaled(v["lr"]) if self.scheduled else v["lr"]
        lr_ts = lrs * np.sqrt(1 - beta_2**self.t) / (1 - beta_1**self.t)
        sizes = adam_scalars(lr_ts, beta_1, beta_2, 0.0)[0]
        self.columns["step"] = self._xp().asarray(sizes.astype(self.dtype)[:, None])

    def _floats(self) -> tuple[float, float, float, float]:
        """lr, beta_1, beta_2 and sqrt(1 - beta_2) of a lone network, kept."""
        if self._kept is None:
            lr, b1, b2 = (float(self.values[k][0]) for k in ("lr", "beta_1", "beta_2"))
            self._kept = (lr, b1, b2, float(np.sqrt(1 - np.float64(b2))))
        return self._kept

    def _update(self, xp: Any, p: Array, g: Array, b: _Block) -> None:
        c, t = self.columns, b.tmp
        m, v = b.state["m"], b.state["v"]
        m *= c["beta_1"]  # m <- b1 m + g
        m += g
        xp.multiply(g, g, out=t)  # v <- b2 v + g^2
        v *= c["beta_2"]
        v += t
        xp.sqrt(v, out=t)  # w <- w - step_size m / (sqrt(v) + eps')
        t += c["epsilon"]
        xp.divide(m, t, out=t)
        t *= c["step"]
        p -= t


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Adam)}
SCHEDULES = ("constant", "cosine")
WARMUP = 0.1  # the share of a cosine schedule's epochs that warm the rate up


def schedule_factor(epoch: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """The cosine schedule with linear warm-up (one-cycle's shape; Loshchilov & Hutter
    2017, Smith 2018), per epoch (counted from 0) of a `horizon` of epochs: the rate rises
    over the first tenth of them (ceil, at least one epoch) to lr, then falls along half
    a cosine towards 0 at the horizon's end, and stays at its last epoch's beyond it.
    Per epoch, not per batch, so a population's members with different data shares keep
    one schedule each by epochs."""
    epoch, horizon = np.asarray(epoch, np.float64), np.asarray(horizon, np.float64)
    warm = np.maximum(np.ceil(WARMUP * horizon), 1)
    e = np.minimum(epoch, horizon - 1)
    rising = (e + 1) / warm
    falling = 0.5 * (1 + np.cos(np.pi * (e - warm + 1) / (horizon - warm + 1)))
    return np.where(e < warm, rising, falling)


def adam_scalars(lr_t: Scalars, beta_1: Scalars, beta_2: Scalars, epsilon: Scalars) -> tuple:
    """Adam's step size and epsilon for moments kept as sums (see Adam), of one network or
    of a population's members at once, which then take the very same steps."""
    root = np.sqrt(1 - np.asarray(beta_2, np.float64))
    return lr_t * (1 - beta_1) / root, epsilon / root
