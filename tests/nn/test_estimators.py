"""MLPClassifier and MLPRegressor as users meet them: learning, contract, determinism."""

import inspect
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from nas.nn import DivergenceWarning, EpochLog, MLPClassifier, MLPRegressor

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_y = np.array([0, 1, 1, 0])


def test_xor_needs_a_hidden_layer():
    deep = MLPClassifier(
        (4,),
        activation="tanh",
        learning_rate_init=0.05,
        batch_size=4,
        max_iter=1000,
        alpha=0.0,
        scaling="minmax",
        random_state=0,
    )
    assert (deep.fit(XOR_X, XOR_y).predict(XOR_X) == XOR_y).all()
    flat = MLPClassifier(
        (), learning_rate_init=0.05, batch_size=4, max_iter=1000, scaling="minmax", random_state=0
    )
    assert flat.fit(XOR_X, XOR_y).score(XOR_X, XOR_y) <= 0.75


def _hidden_units(clf):
    return clf.coefs_[0].T, clf.coefs_[1]


def test_equal_initial_weights_never_break_symmetry():
    clf = MLPClassifier(
        (3,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=0.5,
        momentum=0.0,
        scaling=None,
        batch_size=1,
        random_state=0,
    )
    clf.partial_fit(XOR_X, XOR_y, classes=[0, 1])
    clf.coefs_ = [np.full((2, 3), 0.3), np.full((3, 1), 0.3)]
    clf.intercepts_ = [np.full(3, 0.1), np.full(1, 0.1)]
    for _ in range(20):
        clf.partial_fit(XOR_X, XOR_y)
    into_hidden, out_of_hidden = _hidden_units(clf)
    assert np.ptp(into_hidden, axis=0).max() == 0 and np.ptp(out_of_hidden) == 0
    assert not np.allclose(clf.coefs_[0], 0.3)  # it did learn, symmetrically

    rand = MLPClassifier(
        (3,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=0.5,
        momentum=0.0,
        scaling=None,
        batch_size=1,
        init="uniform",
        init_scale=0.3,
        random_state=0,
    )
    for _ in range(20):
        rand.partial_fit(XOR_X, XOR_y, classes=[0, 1])
    assert np.ptp(_hidden_units(rand)[0], axis=0).min() > 0


def test_digits_accuracy():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    clf = MLPClassifier((128,), activation="relu", random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.97


def test_diabetes_regression_r2():
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(
        (16,), activation="tanh", alpha=1e-2, batch_size=32, max_iter=100, random_state=0
    )
    scores = cross_val_score(reg, X, y, cv=KFold(5, shuffle=True, random_state=0))
    assert scores.mean() >= 0.45


def test_same_random_state_gives_identical_weights():
    X, y = load_iris(return_X_y=True)
    kw = dict(hidden_layer_sizes=(8, 8), dropout=0.2, batch_norm=True, max_iter=5, random_state=3)
    a, b = MLPClassifier(**kw).fit(X, y), MLPClassifier(**kw).fit(X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    c = MLPClassifier(**{**kw, "random_state": 4}).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_float32_and_float64_agree_to_float32_precision():
    X, y = load_iris(return_X_y=True)
    kw = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    f32 = MLPClassifier(dtype="float32", **kw).fit(X, y)
    f64 = MLPClassifier(dtype="float64", **kw).fit(X, y)
    assert f32.coefs_[0].dtype == np.float32 and f64.coefs_[0].dtype == np.float64
    np.testing.assert_allclose(f32.predict_proba(X), f64.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("name", ["float32", "float64"])
def test_dtype_is_a_name_or_a_numpy_type(name):
    X, y = load_iris(return_X_y=True)
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    by_name = MLPClassifier(dtype=name, **kw).fit(X, y)
    by_type = MLPClassifier(dtype=getattr(np, name), **kw).fit(X, y)
    assert by_type.coefs_[0].dtype == np.dtype(name)
    np.testing.assert_array_equal(by_type.predict_proba(X), by_name.predict_proba(X))
    assert by_type.get_params()["dtype"] is getattr(np, name)  # kept as given (clone's rule)


def test_float32_input_is_accepted_as_it_is():
    X, y = load_diabetes(return_X_y=True)
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, dtype="float64", random_state=0)
    a = MLPRegressor(**kw).fit(X.astype(np.float32), y)
    b = MLPRegressor(**kw).fit(X.astype(np.float32).astype(np.float64), y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_the_regressors_signature_is_the_classifiers_plus_target_scaling():
    def params(cls):
        sig = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.kind, p.default) for p in sig]

    assert params(MLPRegressor) == [
        *params(MLPClassifier),
        ("target_scaling", inspect.Parameter.KEYWORD_ONLY, "standard"),
    ]
    assert MLPRegressor(alpha=0.5, target_scaling=None).get_params()["alpha"] == 0.5


@pytest.mark.parametrize("batch_norm", [False, True])
def test_an_unpickled_model_goes_on_training_as_the_original(batch_norm):
    X, y = load_iris(return_X_y=True)
    kw = dict(batch_norm=batch_norm, warm_start=True, max_iter=3, random_state=0)
    est = MLPClassifier((8,), **kw).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    est.fit(X, y)
    again.fit(X, y)  # the same weights, optimizer state and random stream, still wired
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    assert again.loss_curve_ == est.loss_curve_


def test_estimator_contract_clone_pipeline_and_attributes():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier((10,), max_iter=50, random_state=0)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    pipe = make_pipeline(FunctionTransformer(), clf).fit(X, labels)
    assert set(pipe.predict(X)) <= set(labels)
    fitted = pipe[-1]
    assert list(fitted.classes_) == list(labels[[0, 50, 100]])
    assert fitted.n_features_in_ == 4 and fitted.n_layers_ == 3
    assert [W.shape for W in fitted.coefs_] == [(4, 10), (10, 3)]
    assert [b.shape for b in fitted.intercepts_] == [(10,), (3,)]
    assert len(fitted.loss_curve_) == fitted.n_iter_
    np.testing.assert_allclose(fitted.predict_proba(X).sum(axis=1), 1, rtol=1e-5)
    assert clone(MLPRegressor(target_scaling=None)).get_params()["target_scaling"] is None


def test_binary_classifier_has_one_logistic_output_unit():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((5,), max_iter=5, random_state=0).fit(X[y < 2], y[y < 2])
    assert clf.coefs_[-1].shape == (5, 1)
    assert clf.predict_proba(X[:3]).shape == (3, 2)


def test_partial_fit_continues_from_current_weights():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((8,), random_state=0)
    clf.partial_fit(X, y, classes=np.unique(y))
    first = [W.copy() for W in clf.coefs_]
    losses = []
    for _ in range(30):
        clf.partial_fit(X, y)
        losses.append(clf.loss_curve_[-1])
    assert clf.n_iter_ == 31 and losses[-1] < losses[0]
    assert not np.allclose(first[0], clf.coefs_[0])


def test_callback_sees_every_epoch_and_can_stop_training():
    X, y = load_iris(return_X_y=True)
    logs: list[EpochLog] = []
    clf = MLPClassifier((8,), max_iter=50, random_state=0)
    clf.fit(
        X[::2],
        y[::2],
        X_val=X[1::2],
        y_val=y[1::2],
        callback=lambda log: logs.append(log) or log.epoch == 4,
    )
    assert [log.epoch for log in logs] == [1, 2, 3, 4]
    assert clf.status_ == "stopped" and clf.n_iter_ == 4
    assert all(0 <= log.val_metric <= 1 and log.val_loss > 0 and log.seconds > 0 for log in logs)
    assert clf.validation_scores_ == [log.val_metric for log in logs]


@pytest.mark.parametrize(("batch_size", "steps_per_epoch"), [(1, 150), (32, 5), ("full", 1)])
def test_stochastic_minibatch_and_full_batch_descent(batch_size, steps_per_epoch):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(
        (8,),
        solver="sgd",
        learning_rate_init=0.01,
        batch_size=batch_size,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    assert clf.t_ == 3 * steps_per_epoch


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_with_momentum_learns(nesterov):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(
        (16,),
        solver="sgd",
        learning_rate_init=0.05,
        momentum=0.9,
        nesterov=nesterov,
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    assert clf.score(X, y) > 0.95


def test_stops_when_loss_is_close_to_zero():
    clf = MLPClassifier(
        (8,),
        activation="tanh",
        learning_rate_init=0.05,
        batch_size=4,
        max_iter=5000,
        target_loss=0.02,
        random_state=0,
    ).fit(XOR_X, XOR_y)
    assert clf.status_ == "target_loss" and clf.loss_curve_[-1] <= 0.02 < clf.loss_curve_[-2]


def test_stops_on_minimal_change_in_cost():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((8,), tol=10.0, n_iter_no_change=3, max_iter=100, random_state=0)
    clf.fit(X, y)
    # epoch 1 sets the best cost; epochs 2-4 fail to beat it by tol
    assert clf.status_ == "converged" and clf.n_iter_ == 4


def test_early_stopping_restores_the_best_validation_weights():
    X, y = load_digits(return_X_y=True)
    best_scores = []
    clf = MLPClassifier(
        (32,),
        early_stopping=True,
        n_iter_no_change=3,
        tol=0.0,
        learning_rate_init=0.05,
        max_iter=200,
        random_state=0,
    )
    clf.fit(X, y, callback=lambda log: best_scores.append(log.val_metric) and None)
    assert clf.status_ == "early_stopping"
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.1, random_state=0, stratify=y)
    assert clf.score(X_val, y_val) == pytest.approx(max(best_scores))


def test_divergence_stops_with_a_recordable_status():
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(
        (32,),
        solver="sgd",
        learning_rate_init=1e4,
        momentum=0.0,
        target_scaling=None,
        max_iter=50,
        random_state=0,
    )
    with pytest.warns(DivergenceWarning, match="learning_rate_init"):
        reg.fit(X, y)
    assert reg.status_ == "diverged" and reg.n_iter_ < 50
    assert np.isfinite(reg.predict(X)).all()


def test_regressor_multi_output_and_exact_targets():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 3))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5], X[:, 0] - X[:, 1]])
    reg = MLPRegressor(
        (),
        target_scaling=None,
        scaling=None,
        learning_rate_init=0.05,
        max_iter=1000,
        tol=0.0,
        n_iter_no_change=1000,
        alpha=0.0,
        random_state=0,
    ).fit(X, Y)
    assert reg.predict(X).shape == (200, 2)
    np.testing.assert_allclose(reg.coefs_[0], [[1.0, 1.0], [-2.0, -1.0], [0.5, 0.0]], atol=2e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert reg.score(X, Y) > 0.9999


def test_warm_start_in_rungs_equals_one_long_fit():
    X, y = load_iris(return_X_y=True)
    kw = dict(hidden_layer_sizes=(8,), dropout=0.1, batch_norm=True, tol=0.0, random_state=0)
    whole = MLPClassifier(max_iter=9, **kw).fit(X, y, X_val=X, y_val=y)
    rungs = MLPClassifier(warm_start=True, **kw)
    for epochs in (1, 2, 6):
        rungs.set_params(max_iter=epochs).fit(X, y, X_val=X, y_val=y)
    assert rungs.n_iter_ == 9 and rungs.validation_scores_ == whole.validation_scores_
    np.testing.assert_array_equal(rungs.coefs_[0], whole.coefs_[0])


def test_a_fitted_estimator_pickles_with_weight_decay_and_predicts_the_same() -> None:
    import pickle

    from sklearn.datasets import load_iris

    from nas.nn import MLPClassifier

    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((8,), alpha=1e-3, max_iter=5, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit(X, y)  # and it trains on from where it was
