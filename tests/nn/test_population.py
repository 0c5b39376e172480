"""The population trainer: every member ends exactly where it would end trained alone.

Each test trains the same estimators twice, once one by one with est.fit (the reference
single-network trainer) and once together with fit_population, in float64, and compares
everything a fitted estimator holds: weights, batch-norm statistics, optimizer state,
curves, step count, status and the random stream it goes on with. The CuPy variants run
the same comparisons where CuPy and a GPU exist.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits

from nas.nn import DivergenceWarning, MLPClassifier, MLPRegressor
from nas.nn.backend import array_module, available
from nas.nn.optimizers import Adam
from nas.nn.population import fit_population

TOL = 1e-10
RTOL = 1e-13  # a different summation order rounds large values (Adam's v) by an ulp or so


_NO_GPU = pytest.mark.skipif(
    not available("cupy"),
    reason="CuPy with a CUDA GPU is not available here; the CuPy path of the population "
    "trainer is checked only where both exist",
)
# backend[-mode]: each backend's default divergence check (NumPy every batch, a GPU once
# per epoch with a replay), and the other one
BACKENDS = [
    "numpy",
    "numpy-deferred",
    pytest.param("cupy", marks=_NO_GPU),
    pytest.param("cupy-checked", marks=_NO_GPU),
]


def _fit(estimators, X, y, backend, **fit):
    name, _, mode = backend.partition("-")
    every_batch = {"": None, "deferred": False, "checked": True}[mode]
    fit_population(estimators, X, y, backend=name, check_every_batch=every_batch, **fit)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:260], y[:260], X[260:360], y[260:360]


def _members(kind=MLPClassifier, **shared):
    """Candidates that differ in everything a population lets members differ in."""
    base = {"dtype": "float64", "batch_size": 48, "n_iter_no_change": 10**6, **shared}
    settings = [
        {"hidden_layer_sizes": (16, 8), "activation": "relu"},
        {"hidden_layer_sizes": (24, 8), "activation": "tanh", "dropout": 0.2, "alpha": 1e-2},
        {"hidden_layer_sizes": (8, 12), "activation": "logistic", "batch_norm": True},
        {"hidden_layer_sizes": (20, 4), "activation": "softplus", "solver": "sgd"},
        {
            "hidden_layer_sizes": (5, 5),
            "activation": "relu",
            "solver": "sgd",
            "momentum": 0.0,
            "learning_rate_init": 0.05,
            "batch_norm": True,
            "dropout": (0.3, 0.1),
        },
        {"hidden_layer_sizes": (9, 3), "activation": "identity", "solver": "sgd", "nesterov": True},
        {"hidden_layer_sizes": (12, 6), "activation": "tanh", "beta_1": 0.8, "epsilon": 1e-6},
    ]
    return [kind(**base, **s, random_state=40 + i) for i, s in enumerate(settings)]


def _assert_same(alone, member):
    """Everything a fitted estimator holds, compared."""
    a, b = alone._state, member._state
    assert b.net.params.shape == a.net.params.shape
    np.testing.assert_allclose(b.net.params, a.net.params, rtol=RTOL, atol=TOL)
    for x, y in zip(a.net.running_mean + a.net.running_var, b.net.running_mean + b.net.running_var):
        np.testing.assert_allclose(y, x, rtol=RTOL, atol=TOL)
    if isinstance(a.optimizer, Adam):
        np.testing.assert_allclose(b.optimizer.m, a.optimizer.m, rtol=RTOL, atol=TOL)
        np.testing.assert_allclose(b.optimizer.v, a.optimizer.v, rtol=RTOL, atol=TOL)
        assert b.optimizer.t == a.optimizer.t
    elif a.optimizer.velocity is not None:
        np.testing.assert_allclose(b.optimizer.velocity, a.optimizer.velocity, rtol=RTOL, atol=TOL)
    np.testing.assert_allclose(member.loss_curve_, alone.loss_curve_, rtol=RTOL, atol=TOL)
    if alone.validation_scores_ is not None:
        np.testing.assert_allclose(member.validation_scores_, alone.validation_scores_, atol=TOL)
        np.testing.assert_allclose(member.val_loss_curve_, alone.val_loss_curve_, atol=TOL)
    assert (member.status_, member.t_, member.n_iter_) == (alone.status_, alone.t_, alone.n_iter_)
    # the member goes on with its own random stream, exactly where it would be alone
    assert member._state.rng.random() == alone._state.rng.random()


def _both(estimators, X, y, **fit):
    alone = [clone(e).fit(X, y, **fit) for e in estimators]
    together = [clone(e) for e in estimators]
    return alone, together


@pytest.mark.parametrize("backend", BACKENDS)
def test_members_equal_networks_trained_alone(digits, backend):
    X, y, Xv, yv = digits
    members = _members(max_iter=4)
    for i, est in enumerate(members):
        est.set_params(max_iter=3 + i % 3)  # members leave at different epochs
    alone, together = _both(members, X, y, X_val=Xv, y_val=yv)
    _fit(together, X, y, X_val=Xv, y_val=yv, backend=backend)
    for a, b in zip(alone, together):
        _assert_same(a, b)
        np.testing.assert_allclose(b.predict_proba(Xv), a.predict_proba(Xv), atol=TOL)


@pytest.mark.parametrize("backend", BACKENDS)
def test_regressors_and_squared_loss_too(backend):
    X, y = load_diabetes(return_X_y=True)
    members = _members(MLPRegressor, max_iter=3)
    members += [MLPRegressor((7, 7), "logistic", dtype="float64", batch_size=48, random_state=7)]
    alone, together = _both(members, X[:300], y[:300], X_val=X[300:], y_val=y[300:])
    _fit(together, X[:300], y[:300], X_val=X[300:], y_val=y[300:], backend=backend)
    for a, b in zip(alone, together):
        _assert_same(a, b)


@pytest.mark.parametrize(
    "task",
    [
        {"classes": 2},  # one logistic output unit, binary cross-entropy
        {"loss": "squared"},  # squared loss through the softmax Jacobian
        {"hidden_layer_sizes": ()},  # the first layer is the output layer
        {"hidden_layer_sizes": (), "classes": 2, "loss": "squared"},
    ],
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_output_layer_and_loss_equals_training_alone(digits, task, backend):
    X, y, Xv, yv = digits
    task = dict(task)
    if task.pop("classes", None) == 2:
        y, yv = y % 2, yv % 2
    members = [
        MLPClassifier(**{"hidden_layer_sizes": (16,), **task}, batch_size=48, random_state=i)
        for i in range(3)
    ]
    for e in members:
        e.set_params(dtype="float64", max_iter=3)
    alone, together = _both(members, X, y, X_val=Xv, y_val=yv)
    _fit(together, X, y, X_val=Xv, y_val=yv, backend=backend)
    for a, b in zip(alone, together):
        _assert_same(a, b)


@pytest.mark.parametrize("activation", ["logistic", "softplus", "relu"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_narrow_member_padded_to_a_wide_one_equals_the_narrow_network(
    digits, activation, backend
):
    # logistic and softplus are not 0 at 0: a padded unit is masked, not merely unused
    X, y, Xv, yv = digits
    narrow = MLPClassifier((6, 3), activation, dtype="float64", batch_norm=True, max_iter=4)
    wide = MLPClassifier((64, 40), activation, dtype="float64", dropout=0.2, max_iter=4)
    alone = clone(narrow).set_params(random_state=1).fit(X, y)
    together = [clone(narrow).set_params(random_state=1), clone(wide).set_params(random_state=2)]
    _fit(together, X, y, backend=backend)
    _assert_same(alone, together[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_compaction_keeps_the_survivors_exact(digits, backend):
    """Members stop by callback, by convergence and by their epoch limit; the rest go on."""
    X, y, Xv, yv = digits
    members = _members(max_iter=6)
    members[1].set_params(n_iter_no_change=1, tol=10.0)  # converges after its first epoch
    members[3].set_params(max_iter=2)

    def stop_at(epoch):
        return lambda log: log.epoch >= epoch

    callbacks = [None, None, stop_at(2), None, stop_at(4), None, None]
    alone = [
        clone(e).fit(X, y, X_val=Xv, y_val=yv, callback=cb) for e, cb in zip(members, callbacks)
    ]
    together = [clone(e) for e in members]
    _fit(together, X, y, X_val=Xv, y_val=yv, callbacks=callbacks, backend=backend)
    assert {m.status_ for m in together} == {"converged", "stopped", "max_iter"}
    for a, b in zip(alone, together):
        _assert_same(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_diverging_member_leaves_and_the_others_are_untouched(backend):
    X, y = load_diabetes(return_X_y=True)
    settings = {"dtype": "float64", "target_scaling": None, "max_iter": 6, "random_state": 0}
    members = [
        MLPRegressor((32,), solver="sgd", learning_rate_init=1e4, momentum=0.0, **settings),
        MLPRegressor((8,), dropout=0.2, **settings),  # its masks' stream survives a replay
        MLPRegressor((16,), activation="tanh", batch_norm=True, **settings),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        alone, together = _both(members, X, y)
        _fit(together, X, y, backend=backend)
    assert together[0].status_ == "diverged" and together[0].n_iter_ < 6
    for a, b in zip(alone, together):
        _assert_same(a, b)


@pytest.mark.parametrize("scheduled", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
def test_rung_by_rung_equals_one_fit(digits, backend, scheduled):
    """warm_start: two population fits of 2 and 3 epochs equal one lone fit of 5; cosine
    members (SGD and Adam, different horizons) beside constant ones keep their schedules."""
    X, y, Xv, yv = digits
    members = _members(max_iter=5)
    for i, est in enumerate(members):
        if scheduled and i % 2 == 0:
            est.set_params(learning_rate="cosine", schedule_epochs=5 + i)
    alone = [clone(e).fit(X, y, X_val=Xv, y_val=yv) for e in members]
    together = [clone(e).set_params(warm_start=True, max_iter=2) for e in members]
    _fit(together, X, y, X_val=Xv, y_val=yv, backend=backend)
    for e in together:
        e.set_params(max_iter=3)
    _fit(together, X, y, X_val=Xv, y_val=yv, backend=backend)
    for a, b in zip(alone, together):
        _assert_same(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_norm_members_skip_a_one_row_batch_alone(digits, backend):
    # 97 rows in batches of 48: the last batch has one row, which batch norm cannot use
    X, y, _, _ = digits
    members = [
        MLPClassifier((8,), dtype="float64", batch_size=48, batch_norm=bn, random_state=i)
        for i, bn in enumerate([True, False, True, False])
    ]
    for e in members:
        e.set_params(max_iter=3)
    alone, together = _both(members, X[:97], y[:97])
    _fit(together, X[:97], y[:97], backend=backend)
    assert together[0].t_ < together[1].t_
    for a, b in zip(alone, together):
        _assert_same(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_members_stay_close_to_their_lone_networks(digits, backend):
    X, y, Xv, yv = digits
    members = [MLPClassifier((32,), random_state=i, max_iter=3) for i in range(4)]
    alone, together = _both(members, X, y)
    _fit(together, X, y, backend=backend)
    for a, b in zip(alone, together):
        assert b.coefs_[0].dtype == np.float32
        np.testing.assert_allclose(b.coefs_[0], a.coefs_[0], atol=1e-5)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"hidden_layer_sizes": (8, 8, 8)}, "depth"),
        ({"batch_size": 16}, "batch_size"),
        ({"dtype": "float32"}, "dtype"),
        ({"early_stopping": True}, "early_stopping"),
    ],
)
def test_members_that_cannot_train_together_are_refused_by_name(digits, change, named):
    X, y, _, _ = digits
    members = [MLPClassifier((8, 8), dtype="float64", max_iter=1) for _ in range(2)]
    members[1].set_params(**change)
    with pytest.raises(ValueError, match=named):
        fit_population(members, X, y)
    failures: list[tuple[int, str]] = []
    fit_population(members, X, y, on_error=lambda i, exc: failures.append((i, str(exc))))
    assert [i for i, _ in failures] == [1] and named in failures[0][1]
    assert members[0].n_iter_ == 1  # the others train


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of numpy, cupy"):
        array_module("jax")
