"""Losses, their output-layer Deltas, and the metrics a search ranks candidates by.

Losses are summed over output units and averaged over the examples of a batch:

    squared  l2 = sum_k (y_k - a_k)^2                 (the lecture's; not halved)
    log      binary:      -(y log a + (1 - y) log(1 - a))
             multi-class: -sum_k y_k log a_k          (y one-hot)

The output Delta is dJ/d in_k for each example, already divided by the batch size n, so
that dJ/dw_ij = sum over the batch of Delta_j a_i. With an element-wise output g it is
the lecture's Delta_k = g'(in_k) (-2 (y_k - a_k)) for the squared loss; log loss paired
with logistic or softmax simplifies to a_k - y_k. Squared loss behind a softmax goes
through the softmax Jacobian: Delta = a * (G - sum_k a_k G_k) with G = dl/da.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nas.nn.activations import ACTIVATIONS

Array = np.ndarray
LOSSES = ("squared", "log")


def check_pairing(loss: str, output_activation: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    if loss == "log" and output_activation == "identity":
        raise ValueError(
            "loss='log' needs a probability output (logistic or softmax), not identity"
        )


def member_losses(loss: str, Y: Array, A: Array, axis: int = -1) -> Array:
    """The mean loss of every member of a population: Y, A are (members, rows, units), or
    with axis=-2 (where the units are) (members, units, rows).

    A single network is a population of one, so both share these formulas.
    """
    n = _rows(Y, axis)
    if loss == "squared":
        diff = Y - A
        return (diff * diff).sum(axis=(1, 2)) / n
    A = _clipped(A)
    total = (Y * np.log(A)).sum(axis=(1, 2))
    if A.shape[axis] == 1:  # one logistic unit: binary cross-entropy
        total += ((1 - Y) * np.log1p(-A)).sum(axis=(1, 2))
    return -total / n


def _rows(Y: Array, axis: int) -> int:
    """The batch size of Y whose units lie on axis (-1, or -2: units before rows)."""
    return int(Y.shape[-2 if axis == -1 else -1])


def target_log_losses(xp: Any, A: Array, labels: Array) -> Array:
    """member_losses' multi-class log loss read off each row's target unit alone: A
    (members, units, rows) softmax outputs, labels (members, rows) the target units, on
    the array module xp (NumPy or CuPy).

    The other units add y_k log a_k = 0 log a_k = 0, so this is the same sum with one
    unit's work per row instead of ten (digits).
    """
    members, _, n = A.shape
    a = _clipped(A[xp.arange(members)[:, None], labels, xp.arange(n)[None, :]])
    return -xp.log(a, out=a).sum(axis=1) / n


def _clipped(A: Array) -> Array:
    """A copy of A clipped into [eps, 1 - eps], so that log never sees 0 (np.clip's Python
    wrapper costs 3 us a call, np.finfo 1 us: a tenth of a small batch's loss)."""
    eps = _EPS.get(A.dtype)
    if eps is None:
        eps = _EPS[A.dtype] = np.finfo(A.dtype).eps
    out = np.maximum(A, eps)
    np.minimum(out, 1 - eps, out=out)
    return out


_EPS: dict[np.dtype, Any] = {}


def output_delta(
    loss: str, output_activation: str, Y: Array, A: Array, out: Array, axis: int = -1
) -> None:
    """Write Delta = dJ/d in at the output layer (divided by the batch size) into out.

    Y and A are (rows, units), or (members, rows, units) for a population; with axis=-2
    (where the units are) (members, units, rows).
    """
    inv_n = 1.0 / _rows(Y, axis)
    if loss == "log":
        # logistic and softmax outputs with cross-entropy: Delta = a - y
        np.subtract(A, Y, out=out)
        out *= inv_n
        return
    # squared: G = dl/da = -2 (y - a)
    np.subtract(A, Y, out=out)
    out *= 2.0 * inv_n
    if output_activation == "softmax":
        out -= (out * A).sum(axis=axis, keepdims=True)
        out *= A
    elif output_activation != "identity":
        g_prime = np.empty_like(A)
        ACTIVATIONS[output_activation].derivative(A, g_prime)
        out *= g_prime


def accuracy(y_true: Array, y_pred: Array) -> float:
    """Fraction classified correctly: 1 minus the mean 0/1 loss."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def mean_squared_error(y_true: Array, y_pred: Array) -> float:
    diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(diff**2))


def member_accuracy(Y: Array, A: Array) -> Array:
    """Accuracy of every member's outputs A (members, rows, units) against targets Y
    (rows, units): one logistic unit is right when both sides of 0.5 agree, softmax
    outputs when the arg max is the target's class."""
    if A.shape[-1] == 1:
        right = (Y[None, :, 0] > 0.5) == (A[..., 0] > 0.5)
    else:
        right = Y.argmax(axis=-1)[None] == A.argmax(axis=-1)
    return right.mean(axis=1)


def member_r2(Y: Array, A: Array) -> Array:
    """r2_score of every member's outputs A (members, rows, units) against Y (rows, units)."""
    Y = Y.astype(np.float64)
    resid = Y[None] - A.astype(np.float64)
    ss_res = (resid * resid).sum(axis=1)
    centred = Y - Y.mean(axis=0)
    ss_tot = (centred * centred).sum(axis=0)[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res > 0, 0.0, 1.0))
    return r2.mean(axis=1)


METRICS = {"accuracy": member_accuracy, "r2": member_r2}  # a search's ranking, higher is better


def r2_score(y_true: Array, y_pred: Array) -> float:
    """Coefficient of determination, averaged uniformly over outputs (as scikit-learn)."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    return float(member_r2(y_true, y_pred[None])[0])
