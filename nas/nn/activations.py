"""Activation functions g and their derivatives g', side by side, as in-place kernels.

Every derivative is written as a function of the unit's output a = g(in) rather than of
its input: a layer then keeps one buffer per unit, and backpropagation reads g'(in_j)
from it. This holds exactly for every activation here:

    logistic  g' = a (1 - a)          tanh      g' = 1 - a^2
    relu      g' = [a > 0]            softplus  g' = logistic(in) = 1 - exp(-a)
    identity  g' = 1                  threshold g' = 0 (a step has no useful slope)

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
    """An element-wise activation: forward(in_, out) writes g(in_); derivative(a, out) g'."""

    name: str
    forward: Kernel
    derivative: Kernel


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


def _softplus(z: Array, out: Array) -> None:
    np.logaddexp(0, z, out=out)  # log(1 + e^in) without overflow


def _softplus_prime(a: Array, out: Array) -> None:
    np.negative(a, out=out)
    np.expm1(out, out=out)
    np.negative(out, out=out)  # 1 - exp(-a)


def _identity(z: Array, out: Array) -> None:
    if out is not z:
        np.copyto(out, z)


def _identity_prime(a: Array, out: Array) -> None:
    out.fill(1)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("threshold", _threshold, _threshold_prime),
        Activation("logistic", _logistic, _logistic_prime),
        Activation("tanh", _tanh, _tanh_prime),
        Activation("relu", _relu, _relu_prime),
        Activation("softplus", _softplus, _softplus_prime),
        Activation("identity", _identity, _identity_prime),
    )
}

OUTPUT_ACTIVATIONS = ("logistic", "softmax", "identity")


def softmax(z: Array, out: Array) -> None:
    """Softmax over the last axis (output units), shifted by the maximum so exp never
    overflows; the last axis, so that a population's (members, rows, units) works too."""
    np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)


def output_forward(name: str, z: Array, out: Array) -> None:
    """Apply an output layer's activation (logistic, softmax or identity) in place."""
    if name == "softmax":
        softmax(z, out)
    else:
        ACTIVATIONS[name].forward(z, out)


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        allowed = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"activation must be one of {allowed}; got {name!r}") from None
