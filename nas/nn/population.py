"""Population training: many estimators of one depth fitted together, each as if alone.

One small network keeps neither a CPU core nor a GPU busy; K of them trained in lockstep
with batched products do. fit_population(estimators, X, y, ...) leaves every estimator
exactly where est.fit(X, y, ...) would have left it: the same weights, optimizer state,
random stream, curves and status (up to the rounding of a different summation order).
Both run the same loop (nas.nn.training) on the same kernels; the estimators hand over
what training needs through their public fit_state, nothing else.

Members may differ in widths, activation, dropout, weight decay, batch norm, optimizer
and its settings, shuffle and stopping settings. They must share the depth, the batch
size, dtype, loss and task (the executor groups trials that way); early_stopping is
refused, since it needs a held-out split of its own per member.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from nas.nn.fitstate import Callback, FitState
from nas.nn.training import train

OnError = Callable[[int, Exception], None]


def fit_population(
    estimators: Sequence[Any],
    X: Any,
    y: Any,
    *,
    X_val: Any = None,
    y_val: Any = None,
    callbacks: Sequence[Callback | None] | None = None,
    backend: str = "numpy",
    on_error: OnError | None = None,
    check_every_batch: bool | None = None,
) -> None:
    """Fit every estimator as est.fit(X, y, X_val=, y_val=, callback=) would, all at once.

    Each trains for its own max_iter epochs (warm_start continues a fitted one). A member
    whose parameters or data are refused is reported to on_error(index, exception) and
    left out, when on_error is given; otherwise the error is raised before any training.

    check_every_batch: look at every batch's costs for divergence as it happens (the
    default on NumPy), or only at the end of the epoch (the default on a GPU, where a look
    makes the host wait for the device and the device for the host's next launches); an
    epoch in which a member diverged is then replayed from its start, looking at every
    batch. Either way every member ends exactly where it would end alone.
    """
    callbacks = list(callbacks) if callbacks is not None else [None] * len(estimators)
    if len(callbacks) != len(estimators):
        raise ValueError(f"callbacks has {len(callbacks)} entries for {len(estimators)} members")
    X, X_val = _float64(X), _float64(X_val)  # converted once; each member still checks it
    states: list[FitState] = []
    kept: list[Callback | None] = []
    shared: dict[type, dict[Any, Any]] = {}  # per estimator class (fit_state's shared)
    for i, (est, callback) in enumerate(zip(estimators, callbacks)):
        try:
            if est.early_stopping:
                raise ValueError(
                    "early_stopping=True cannot train in a population (it holds out a split "
                    "of its own); pass X_val and y_val, or fit this estimator alone"
                )
            memo = shared.setdefault(type(est), {})
            state = est.fit_state(X, y, X_val=X_val, y_val=y_val, shared=memo)
            if states:
                _check_compatible(states[0], state, type(estimators[0]), type(est))
        except Exception as exc:
            if on_error is None:
                raise
            on_error(i, exc)
            continue
        states.append(state)
        kept.append(callback)
    if states:
        train(states, kept, backend=backend, check_every_batch=check_every_batch)


def _float64(X: Any) -> Any:
    if X is None or sp.issparse(X):
        return X  # a sparse X stays sparse (each member's check makes it CSR)
    try:
        return np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return X  # every member refuses it, by name


def _signature(state: FitState, task: type) -> dict[str, Any]:
    net = state.net
    return {
        "task": task.__name__,
        "depth": net.n_layers,
        "batch_size": state.rule.batch_size,
        "dtype": str(net.dtype),
        "loss": state.loss,
        "output layer": (net.output_activation, net.sizes[-1]),
    }


def _check_compatible(first: FitState, state: FitState, first_task: type, task: type) -> None:
    theirs, mine = _signature(first, first_task), _signature(state, task)
    for name, value in mine.items():
        if value != theirs[name]:
            raise ValueError(
                f"population members must share their {name}: the first has "
                f"{theirs[name]!r}, this one {value!r} (group candidates by {name})"
            )
    a, b = first.data, state.data
    if a is b:  # shared (fit_state's shared)
        return
    assert a is not None and b is not None
    for u, v in zip((a.X, a.Y, a.X_val, a.Y_val), (b.X, b.Y, b.X_val, b.Y_val)):
        if (u is None) != (v is None) or (u is not None and not _equal(u, v)):
            raise ValueError("population members must see the same scaled data (scaling)")


def _equal(u: Any, v: Any) -> bool:
    if sp.issparse(u) or sp.issparse(v):
        return sp.issparse(u) and sp.issparse(v) and u.shape == v.shape and (u != v).nnz == 0
    return bool(np.array_equal(u, v))
