"""Activation functions g and their derivatives g', side by side, as in-place kernels.

Every derivative is written as a function of the unit's output a = g(in) rather than of
its input: a layer then keeps one buffer per unit, and backpropagation reads g'(in_j)
from it. This holds exactly for every activation here:

    logistic  g' = a (1 - a)          tanh      g' = 1 - a^2
    relu      g' = [a > 0]            softplus  g' = logistic(in) = 1 - exp(-a)
    identity  g' = 1                  threshold g' = 0 (a step has no useful slope)
    selu      g' = lambda [a > 0] + (a + lambda alpha) [a <= 0]

GELU and Mish (the smooth ReLUs of modern tabular MLPs) are the exception: their slope is
not a function of their output (g is not one-to-one below 0), so they exist only fused,
g' computed from in on the way forward, and serve hidden layers only, where training
always asks for both.

Training asks for g and g' together (forward_prime), so that an activation whose slope is
cheaper to find on the way forward computes both in one go: relu's [in > 0] is the very
mask that makes a = in * [in > 0].

The output layer's softmax is not element-wise; its Jacobian lives in nas.nn.losses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

Array = np.ndarray
Kernel = Callable[[Array, Array], None]


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: forward(in_, out) writes g(in_); derivative(a, out) g'.

    forward_prime(in_, out, prime) writes both, g into out (which may be in_) and g' into
    prime, with the same values as forward then derivative.
    """

    name: str
    forward: Kernel
    derivative: Kernel
    fused: Callable[[Array, Array, Array], None] | None = None
    learns: bool = True  # False: g' = 0 everywhere, so backpropagation cannot train it
    hidden_only: bool = False  # True: g' needs in, so only the fused kernel gives it

    def forward_prime(self, z: Array, out: Array, prime: Array) -> None:
        if self.fused is not None:
            self.fused(z, out, prime)
        else:
            self.forward(z, out)
            self.derivative(out, prime)


def _threshold(z: Array, out: Array) -> None:
    # The lecture's binary step: 1 if in >= 0 else 0 (Rosenblatt's perceptron unit).
    np.greater_equal(z, 0, out=out, casting="unsafe")


def _threshold_prime(a: Array, out: Array) -> None:
    out.fill(0)


def _logistic(z: Array, out: Array) -> None:
    if isinstance(z, np.ndarray):
        expit(z, out=out)
    else:  # a CuPy array (nas.nn.backend): SciPy's ufunc does not run on the GPU
        from nas.nn.backend import gpu_expit

        gpu_expit(z, out)


def _logistic_prime(a: Array, out: Array) -> None:
    np.subtract(1, a, out=out)
    out *= a


def _tanh(z: Array, out: Array) -> None:
    np.tanh(z, out=out)


def _tanh_prime(a: Array, out: Array) -> None:
    np.multiply(a, a, out=out)
    np.subtract(1, out, out=out)


def _relu(z: Array, out: Array) -> None:
    np.maximum(z, 0, out=out)


def _relu_prime(a: Array, out: Array) -> None:
    np.greater(a, 0, out=out, casting="unsafe")


def _relu_and_prime(z: Array, out: Array, prime: Array) -> None:
    # [in > 0] equals [a > 0], and in * [in > 0] equals max(in, 0) for every finite in,
    # at about half the cost of np.maximum; an infinite in becomes NaN here, which the
    # trainer reports as divergence, as the overflow that made it is.
    np.greater(z, 0, out=prime, casting="unsafe")
    np.multiply(z, prime, out=out)


def _softplus(z: Array, out: Array) -> None:
    np.logaddexp(0, z, out=out)  # log(1 + e^in) without overflow


def _softplus_prime(a: Array, out: Array) -> None:
    np.negative(a, out=out)
    np.expm1(out, out=out)
    np.negative(out, out=out)  # 1 - exp(-a)


# SELU's constants (Klambauer et al. 2017): the fixed point of mean 0 and variance 1
SELU_LAMBDA, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772
_GELU_C = 0.7978845608028654  # sqrt(2 / pi)
_GELU_K = 0.044715  # Hendrycks & Gimpel's tanh form, as BERT and PyTorch's approximate='tanh'


def _selu(z: Array, out: Array) -> None:
    positive = z > 0
    negative = np.expm1(np.minimum(z, 0))  # exp(in) - 1 below 0, never overflowing above
    negative *= SELU_ALPHA
    np.copyto(out, z)
    np.copyto(out, negative, where=~positive)
    out *= SELU_LAMBDA


def _selu_prime(a: Array, out: Array) -> None:
    np.add(a, SELU_LAMBDA * SELU_ALPHA, out=out)  # lambda alpha e^in, from a
    np.copyto(out, SELU_LAMBDA, where=a > 0)


def _gelu_and_prime(z: Array, out: Array, prime: Array) -> None:
    # g = in Phi(in) ~ in (1 + tanh u) / 2, u = c (in + k in^3);
    # g' = (1 + t) / 2 + in (1 - t^2) c (1 + 3 k in^2) / 2
    z2 = z * z
    t = np.tanh(_GELU_C * z * (1 + _GELU_K * z2))
    np.multiply(z * (1 - t * t), _GELU_C * (1 + 3 * _GELU_K * z2), out=prime)
    prime += 1 + t
    prime *= 0.5
    np.multiply(z, 1 + t, out=out)
    out *= 0.5


def _gelu(z: Array, out: Array) -> None:
    _gelu_and_prime(z, out, np.empty_like(z))


def _mish_and_prime(z: Array, out: Array, prime: Array) -> None:
    # g = in tanh(softplus(in)) (Misra 2019); g' = t + in logistic(in) (1 - t^2)
    t = np.tanh(np.logaddexp(0, z))
    s = np.empty_like(z)
    _logistic(z, s)
    np.multiply(z * s, 1 - t * t, out=prime)
    prime += t
    np.multiply(z, t, out=out)


def _mish(z: Array, out: Array) -> None:
    _mish_and_prime(z, out, np.empty_like(z))


def _from_input_only(a: Array, out: Array) -> None:
    raise ValueError("this activation's slope needs its input: it serves hidden layers only")


def _identity(z: Array, out: Array) -> None:
    if out is not z:
        np.copyto(out, z)


def _identity_prime(a: Array, out: Array) -> None:
    out.fill(1)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        # in the order a form offers them: the practitioner's picks first
        Activation("relu", _relu, _relu_prime, _relu_and_prime),
        Activation("tanh", _tanh, _tanh_prime),
        Activation("logistic", _logistic, _logistic_prime),
        Activation("softplus", _softplus, _softplus_prime),
        Activation("gelu", _gelu, _from_input_only, _gelu_and_prime, hidden_only=True),
        Activation("selu", _selu, _selu_prime),
        Activation("mish", _mish, _from_input_only, _mish_and_prime, hidden_only=True),
        Activation("identity", _identity, _identity_prime),
        Activation("threshold", _threshold, _threshold_prime, learns=False),
    )
}

OUTPUT_ACTIVATIONS = ("logistic", "softmax", "identity")
# what a search may choose for hidden units: a new activation above is searchable at once
SEARCHABLE_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if a.learns)


def softmax(z: Array, out: Array, axis: int = -1) -> None:
    """Softmax over the output units, shifted by the maximum so exp never overflows.

    The units are the last axis (rows, units), or with axis=-2 the axis before the rows
    (members, units, rows): a population keeps its outputs that way, so that both
    reductions run along whole rows of contiguous memory.
    """
    np.subtract(z, _fold_units(z, np.maximum, "max", axis), out=out)
    np.exp(out, out=out)
    out /= _fold_units(out, np.add, "sum", axis)


def _fold_units(z: Array, ufunc: np.ufunc, reduction: str, axis: int = -1) -> Array:
    """ufunc folded over the units, keepdims: z[..., 0] op z[..., 1] op ... in order.

    A NumPy reduction over a short last axis pays its loop setup once per row (about 8x
    slower for 10 classes and 4,096 rows); a few whole-column operations do not. Units
    before rows (axis=-2) reduce along contiguous rows: one reduction does.
    """
    units = z.shape[-1]
    if axis != -1 or units == 1 or units > 32 or not isinstance(z, np.ndarray):
        return getattr(z, reduction)(axis=axis, keepdims=True)  # one kernel on a GPU
    acc = ufunc(z[..., 0], z[..., 1])
    for j in range(2, units):
        ufunc(acc, z[..., j], out=acc)
    return acc[..., None]


def output_forward(name: str, z: Array, out: Array, axis: int = -1) -> None:
    """Apply an output layer's activation (logistic, softmax or identity) in place;
    axis is where the units are (softmax)."""
    if name == "softmax":
        softmax(z, out, axis)
    else:
        ACTIVATIONS[name].forward(z, out)


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        allowed = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"activation must be one of {allowed}; got {name!r}") from None
