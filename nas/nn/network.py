"""K feed-forward networks of one depth as stacked arrays; a lone network is K = 1.

Every array has the member as its leading axis: parameters (K, P) laid out as nas.nn.layout
says, batch-norm running statistics (K, units) per hidden layer. The maths that runs on
them (nas.nn.backprop) is written once against the array module (NumPy, or CuPy for a
population on a GPU), so a network trained alone and the same network trained in a
population take the very same steps.

A population's members may differ in widths (zero-padded to the widest of each layer, a
padded unit masked to zero: it contributes exactly nothing and its weights stay zero),
activation, batch norm, dropout and weight decay. They are ordered so that members sharing
an activation are contiguous and those with batch norm come last: each of those kernels
then runs once per run of members on a view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from nas.nn.activations import Activation, get_activation
from nas.nn.backend import module_of, to_host
from nas.nn.init import initialize
from nas.nn.layout import Layout, Placement, runs

Array = Any  # a NumPy or CuPy array
Generator = np.random.Generator


_PICKLED = (
    "layout",
    "params",
    "grads",
    "running_mean",
    "running_var",
    "unit",
    "activation",
    "batch_norm",
    "dropout",
    "widths",
    "rngs",
    "alpha",
    "output_activation",
)


class Stack:
    """K networks' parameters, gradients, batch-norm statistics and per-member options.

    W, b, gamma, beta (and dW, db, dgamma, dbeta) are lists of (K, ...) views into params
    (grads), one per layer; W[0] carries b_1 as its first row (inputs led by ones).
    """

    def __init__(
        self,
        layout: Layout,
        params: Array,
        running_mean: list[Array],
        running_var: list[Array],
        unit: list[Array | None],
        activation: list[Activation],
        batch_norm: list[bool],
        dropout: list[tuple[float, ...]],
        widths: list[tuple[int, ...]],
        rngs: list[Generator | None],
        alpha: np.ndarray,
        output_activation: str,
    ) -> None:
        self.layout = layout
        self.params = params
        self.grads = module_of(params).zeros_like(params)
        self.running_mean, self.running_var = running_mean, running_var
        self.unit = unit  # per hidden layer, 1 on a member's true units; None: all are true
        self.activation, self.batch_norm, self.dropout = activation, batch_norm, dropout
        self.widths = widths  # each member's hidden widths (a padded stack's are the widest)
        self.rngs = rngs  # each member's own generator: its dropout masks
        self.alpha = alpha  # weight decay per member, float64 on the host
        self.output_activation = output_activation
        self._derive()

    def _derive(self) -> None:
        self.xp = xp = module_of(self.params)  # an attribute: kernels read it every batch
        K = len(self)
        self.act_runs = runs(self.activation)
        self.n_plain = self.batch_norm.count(False)  # members without batch norm come first
        self.bn = slice(self.n_plain, K) if self.n_plain < K else None
        hidden = len(self.layout.sizes) - 2
        self.dropped = tuple(any(p[layer] > 0 for p in self.dropout) for layer in range(hidden))
        alpha = self.alpha.tolist()
        self.decay, self.all_decay = any(alpha), all(alpha)  # some, every member decays
        # 2 alpha in dtype, as in-place operations cast a Python float, and alpha in float64
        # for the cost, as alone: one member's as floats (an array costs a microsecond)
        if K == 1:
            self.two_alpha, self.alpha_dev = 2.0 * alpha[0], alpha[0]
        else:
            self.two_alpha = xp.asarray((2.0 * self.alpha).astype(self.dtype)[:, None])
            self.alpha_dev = xp.asarray(self.alpha)
        # per layer (K, ...) views; W_1 and dW_1 with the bias row on top (W[0], dW[0])
        self.weights, self.b, self.gamma, self.beta = self.layout.views(self.params)
        self.grad_weights, self.db, self.dgamma, self.dbeta = self.layout.views(self.grads)
        self.W = [self.layout.first_layer(self.params), *self.weights[1:]]
        self.dW = [self.layout.first_layer(self.grads), *self.grad_weights[1:]]
        self.ws: dict[bool, dict[str, list[Array]]] = {}  # backprop's buffers, per mode

    def __getstate__(self) -> dict[str, Any]:
        # what __init__ was given; the rest is derived: xp (a module: no pickle), the
        # buffers (scratch), and the per-layer views into params and grads, which a pickle
        # would copy apart from them (a loaded network's steps would then miss its forward)
        return {k: self.__dict__[k] for k in _PICKLED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._derive()

    @property
    def dtype(self) -> np.dtype:
        return self.params.dtype

    @property
    def sizes(self) -> list[int]:
        return list(self.layout.sizes)

    @property
    def n_layers(self) -> int:
        """Number of dense layers (hidden layers + the output layer)."""
        return len(self.layout.sizes) - 1

    def __len__(self) -> int:
        return int(self.params.shape[0])

    def select(self, index: slice | np.ndarray) -> Stack:
        """Members `index`: views for a slice (updates reach this stack), else copies."""
        pick = range(len(self))[index] if isinstance(index, slice) else index.tolist()
        dev = index if isinstance(index, slice) else self.xp.asarray(index)
        new = Stack.__new__(Stack)
        new.__dict__.update(self.__dict__)
        new.params, new.grads = self.params[dev], self.grads[dev]
        new.running_mean = [a[dev] for a in self.running_mean]
        new.running_var = [a[dev] for a in self.running_var]
        new.unit = [None if a is None else a[dev] for a in self.unit]
        for name in ("activation", "batch_norm", "dropout", "widths", "rngs"):
            setattr(new, name, [getattr(self, name)[i] for i in pick])
        new.alpha = self.alpha[index]
        new._derive()
        if isinstance(index, slice):  # a part for one batch: the same buffers
            new.ws = {
                mode: {
                    k: [a if a is None or k == "ones" else a[dev] for a in v] for k, v in ws.items()
                }
                for mode, ws in self.ws.items()
            }
        return new

    # -- a population: members gathered into one padded stack, and written back ---------------

    @classmethod
    def gather(cls, nets: Sequence[Network], xp: Any) -> tuple[Stack, list[Placement]]:
        """nets stacked (in this order), each zero-padded to the widest of each layer; with
        where each one's row went."""
        widest = tuple(max(net.sizes[i] for net in nets) for i in range(len(nets[0].sizes)))
        layout = Layout(widest, any(net.batch_norm[0] for net in nets))
        K, dt, hidden = len(nets), nets[0].dtype, widest[1:-1]
        places: dict[Layout, Placement] = {}
        params = np.zeros((K, layout.size), dt)
        stats = {"mean": [np.zeros((K, h), dt) for h in hidden]}
        stats["var"] = [np.ones((K, h), dt) for h in hidden]
        unit = [np.zeros((K, h), dt) for h in hidden]
        for k, net in enumerate(nets):
            if net.layout not in places:
                places[net.layout] = Placement.between(net.layout, layout)
            places[net.layout].put(params[k], net.params[0])
            for layer, h in enumerate(net.sizes[1:-1]):
                unit[layer][k, :h] = 1
                if net.batch_norm[0]:
                    stats["mean"][layer][k, :h] = net.running_mean[layer][0]
                    stats["var"][layer][k, :h] = net.running_var[layer][0]
        masked = [any(net.sizes[i] < widest[i] for net in nets) for i in range(1, len(widest) - 1)]
        st = cls(
            layout,
            xp.asarray(params),
            [xp.asarray(a) for a in stats["mean"]],
            [xp.asarray(a) for a in stats["var"]],
            [xp.asarray(u) if mask else None for u, mask in zip(unit, masked)],
            [net.activation[0] for net in nets],
            [net.batch_norm[0] for net in nets],
            [net.dropout[0] for net in nets],
            [net.widths[0] for net in nets],
            [net.rngs[0] for net in nets],
            np.concatenate([net.alpha for net in nets]),
            nets[0].output_activation,
        )
        return st, [places[net.layout] for net in nets]

    def write_back(
        self, rows: Sequence[int], nets: Sequence[Network], places: Sequence[Placement]
    ) -> None:
        """Copy member rows[i] into nets[i] (one transfer per array off a GPU)."""
        index = np.asarray(rows, np.int64)

        def fetch(a: Array) -> np.ndarray:
            return a[index] if self.xp is np else to_host(a[self.xp.asarray(index)])

        params = fetch(self.params)
        bn = any(net.batch_norm[0] for net in nets)
        means = [fetch(a) for a in self.running_mean] if bn else []
        variances = [fetch(a) for a in self.running_var] if bn else []
        for i, (net, place) in enumerate(zip(nets, places)):
            place.get(params[i], net.params[0])
            for layer, h in enumerate(net.sizes[1:-1] if net.batch_norm[0] else []):
                net.running_mean[layer][0] = means[layer][i, :h]
                net.running_var[layer][0] = variances[layer][i, :h]

    def inference_arrays(self) -> list[Array]:
        """Everything inference reads: parameters and BN running statistics."""
        return [self.params, *self.running_mean, *self.running_var]

    def snapshot(self) -> list[Array]:
        return [a.copy() for a in self.inference_arrays()]

    def restore(self, snapshot: list[Array], rows: Any = slice(None)) -> None:
        """Back to a snapshot, for members `rows` (all by default)."""
        for dst, src in zip(self.inference_arrays(), snapshot):
            dst[rows] = src[rows]


class Network(Stack):
    """One multi-layer perceptron with sizes [n_in, h_1, ..., h_L, n_out]: a stack of one,
    laid out at its own sizes, with the scikit-learn views coefs and intercepts."""

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str,
        output_activation: str,
        *,
        batch_norm: bool = False,
        dropout: Sequence[float] = (),
        dtype: np.dtype | type = np.float32,
        alpha: float = 0.0,
        rng: Generator | None = None,
    ) -> None:
        sizes = tuple(int(s) for s in sizes)
        layout = _LAYOUTS.get((sizes, batch_norm)) or _LAYOUTS.setdefault(
            (sizes, batch_norm), Layout(sizes, batch_norm)
        )
        dt = np.dtype(dtype)
        hidden = sizes[1:-1]
        super().__init__(
            layout,
            np.zeros((1, layout.size), dt),
            [np.zeros((1, h), dt) for h in hidden] if batch_norm else [],
            [np.ones((1, h), dt) for h in hidden] if batch_norm else [],
            [None] * len(hidden),
            [get_activation(activation)],
            [batch_norm],
            [tuple(dropout) if dropout else (0.0,) * len(hidden)],
            [hidden],
            [rng],
            np.array([alpha], np.float64),
            output_activation,
        )
        for g in self.gamma:
            g.fill(1)

    def _derive(self) -> None:
        super()._derive()
        self.coefs = [W[0] for W in self.weights]
        self.intercepts = [b[0] for b in self.b]
        self.gammas, self.betas = [g[0] for g in self.gamma], [b[0] for b in self.beta]
        self.grad_coefs = [W[0] for W in self.grad_weights]
        self.grad_intercepts = [b[0] for b in self.db]

    def initialize(self, scheme: str, init_scale: float, rng: Generator) -> None:
        for layer, (W, b) in enumerate(zip(self.coefs, self.intercepts)):
            initialize(W, b, scheme, init_scale, rng)
            if self.batch_norm[0] and layer < self.n_layers - 1:
                b.fill(0)  # beta plays its role

    def flat(self) -> np.ndarray:
        """The parameters in the order model files keep: [W_1..W_L, b_1..b_L, gamma, beta]."""
        return self.params[0, self.layout.positions(self.sizes, self.batch_norm[0])]

    def set_flat(self, flat: np.ndarray) -> None:
        self.params[0, self.layout.positions(self.sizes, self.batch_norm[0])] = flat

    # -- one network's batches as the estimators and the gradient checks hand them in ------

    def forward(self, X: Array, training: bool = False) -> Array:
        """Output activations (rows, units) for X (rows, n_in)."""
        from nas.nn.backprop import forward, workspace

        m = X.shape[0]
        return forward(self, led_by_ones(X), workspace(self, m, training), m, training)[0].T

    def loss_and_gradient(
        self, X: Array, Y: Array, loss: str, alpha: float = 0.0, rng: Generator | None = None
    ) -> float:
        """Cost J = mean loss + alpha * sum w^2 on one batch; gradients into grads."""
        from nas.nn.backprop import gradients

        self.alpha, self.rngs = np.array([alpha], np.float64), [rng]
        ws = self.ws
        self._derive()
        self.ws = ws
        return float(gradients(self, loss, led_by_ones(X), np.asarray(Y).T[None])[0])

    def predict_output(self, X: Array, chunk: int = 4096) -> np.ndarray:
        """Inference-mode output activations (no dropout; BN running statistics)."""
        from nas.nn.backprop import forward, workspace

        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        X1 = led_by_ones(X)
        ws = workspace(self, min(chunk, X.shape[0]), training=False)
        for start in range(0, X.shape[0], chunk):
            part = X1[start : start + chunk]
            out[start : start + chunk] = forward(self, part, ws, part.shape[0], False)[0].T
        return out


_LAYOUTS: dict[tuple[tuple[int, ...], bool], Layout] = {}  # a search builds few shapes often


def led_by_ones(X: Array) -> Array:
    """[1, X]: the column of ones that makes the first layer's product add its bias. A
    sparse X stays sparse: a CSR array with a stored one leading each row."""
    if sp.issparse(X):
        return _sparse_led_by_ones(X)
    xp = module_of(X)
    out = xp.empty((X.shape[0], X.shape[1] + 1), X.dtype)
    out[:, 0] = 1
    out[:, 1:] = X
    return out


def _sparse_led_by_ones(X: Any) -> sp.csr_array:
    X = sp.csr_array(X)
    starts = X.indptr[:-1]  # an empty row's start is the next row's: insert keeps their order
    indices = np.insert(X.indices + 1, starts, 0)
    data = np.insert(X.data, starts, 1)
    indptr = X.indptr + np.arange(X.shape[0] + 1, dtype=X.indptr.dtype)
    return sp.csr_array((data, indices, indptr), shape=(X.shape[0], X.shape[1] + 1))
