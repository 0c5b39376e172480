"""Input and target maps: robust with smooth clipping, quantile-normal, log targets; saved
and loaded as arrays, and label smoothing."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.preprocessing import QuantileTransformer

from nas.nn import MLPClassifier, MLPRegressor, from_bytes, to_bytes
from nas.nn.scaling import BINS, CLIP, HOLD_MARGIN, Scaler


def _skewed(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return np.c_[rng.lognormal(0, 2, n), rng.integers(0, 4, n), rng.normal(5, 3, n)]


def test_quantile_map_standardizes_one_hot_columns_instead_of_sending_them_to_the_tails():
    rng = np.random.default_rng(0)
    X = np.c_[rng.lognormal(size=300), rng.random(300) < 0.1]  # a skewed number, a rare level
    Z = Scaler.fit(X, "quantile").transform(X, np.float64)
    np.testing.assert_allclose(Z[:, 1], (X[:, 1] - X[:, 1].mean()) / X[:, 1].std())
    assert abs(Z[:, 0].mean()) < 0.05 and abs(Z[:, 0].std() - 1) < 0.1


def test_quantile_map_equals_scikit_learns_on_seen_and_unseen_values():
    X = _skewed()
    ours = Scaler.fit(X, "quantile")
    theirs = QuantileTransformer(n_quantiles=len(X), output_distribution="normal").fit(X)
    rows = np.r_[X, [[1e6, 9, -100], [-1, -1, 5]], _skewed(50, seed=1)]  # ties, beyond range
    np.testing.assert_allclose(ours.transform(rows, np.float64), theirs.transform(rows), atol=1e-9)


def test_robust_map_centres_on_the_median_and_bounds_outliers_smoothly():
    X = _skewed()
    Z = Scaler.fit(X, "robust").transform(np.r_[X, [[1e9, 1e9, -1e9]]], np.float64)
    assert np.all(np.abs(Z) <= CLIP)  # an outlier a billion out stays within the knee
    assert np.abs(np.median(Z[:-1], axis=0)).max() < 1e-12
    order = np.argsort(X[:, 0])  # the map keeps the order of values
    assert np.all(np.diff(Z[order, 0]) >= 0)


def test_a_constant_feature_maps_to_zero_under_every_scaling():
    X = np.c_[np.ones(30), np.arange(30.0)]
    for kind in ("minmax", "standard", "robust", "quantile"):
        Z = Scaler.fit(X, kind).transform(np.r_[X, [[5.0, 3.0]]], np.float64)
        assert np.isfinite(Z).all(), kind
        assert np.all(Z[:-1, 0] == Z[0, 0]), kind


def test_log_target_scaling_inverts_and_takes_negative_targets():
    y = np.r_[np.random.default_rng(0).lognormal(8, 1.5, 200), -3.0, 0.0][:, None]
    s = Scaler.fit(y, "log")
    np.testing.assert_allclose(
        s.inverse_transform(s.transform(y, np.float64)), y, rtol=1e-9, atol=1e-12
    )


def test_a_log_target_prediction_stays_near_the_training_targets_range():
    y = np.random.default_rng(0).lognormal(8, 1.5, 200)[:, None]
    s = Scaler.fit(y, "log")
    wild = s.inverse_transform(np.array([[40.0], [-40.0]]))  # a diverged network's outputs
    top, bottom = np.log1p(y.max()), np.log1p(y.min())
    margin = (top - bottom) / 10
    np.testing.assert_allclose(wild[:, 0], np.expm1([top + margin, bottom - margin]))


@pytest.mark.parametrize("scaling", ["robust", "quantile", "piecewise"])
def test_a_model_with_a_nonlinear_input_map_predicts_the_same_after_loading(scaling):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((8,), scaling=scaling, max_iter=20, random_state=0).fit(X, y)
    again = from_bytes(to_bytes(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_a_log_target_regressor_predicts_in_the_targets_units_after_loading():
    X, y = load_diabetes(return_X_y=True)
    y = np.exp(y / 60)  # positive and right-skewed, as prices are
    reg = MLPRegressor((16,), target_scaling="log", max_iter=100, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.2  # in log units the predictions would score far below 0
    assert 0.5 < np.median(reg.predict(X)) / np.median(y) < 2
    again = from_bytes(to_bytes(reg))
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    assert again.get_params()["target_scaling"] == "log"


def test_an_unknown_scaling_names_the_parameter_and_its_choices():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="scaling.*quantile"):
        MLPClassifier(scaling="rank").fit(X, y)
    with pytest.raises(ValueError, match="target_scaling.*log"):
        MLPRegressor(target_scaling="sqrt").fit(X, y.astype(float))


def test_label_smoothing_softens_the_targets_but_not_the_choice():
    X, y = load_iris(return_X_y=True)
    kw = {"hidden_layer_sizes": (16,), "max_iter": 200, "random_state": 0}
    sharp = MLPClassifier(**kw).fit(X, y)
    smooth = MLPClassifier(**kw, label_smoothing=0.2).fit(X, y)
    # its training targets are 0.2 / 3 and 1 - 0.2 + 0.2 / 3: no output is pushed to 1
    assert smooth.predict_proba(X).max() < sharp.predict_proba(X).max()
    assert smooth.predict_proba(X).max() < 0.95
    assert smooth.score(X, y) > 0.9


def test_label_smoothing_is_refused_for_a_regressor_and_out_of_range():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="label_smoothing is for classifiers"):
        MLPRegressor(label_smoothing=0.1).fit(X, y)
    Xi, yi = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="label_smoothing"):
        MLPClassifier(label_smoothing=1.0).fit(Xi, yi)


@pytest.mark.parametrize("scaling", ["standard", "minmax"])
def test_an_input_beyond_the_training_range_is_held_at_its_edge(scaling):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] ** 2 + X[:, 1]
    held = MLPRegressor((32,), scaling=scaling, max_iter=30, random_state=0).fit(X, y)
    free = MLPRegressor((32,), scaling=scaling, clip_inputs=False, max_iter=30, random_state=0)
    free.fit(X, y)
    edge = np.array([[X[:, 0].max() + HOLD_MARGIN * np.ptp(X[:, 0]), 0.0, 0.0]])
    far = np.array([[50.0, 0.0, 0.0]])  # 50 standard deviations out, as diamonds' z = 31.8
    assert held.predict(far) == pytest.approx(held.predict(edge))
    assert abs(free.predict(far)[0] - free.predict(edge)[0]) > 1.0  # it extrapolates
    np.testing.assert_allclose(held.predict(X), free.predict(X), rtol=1e-5)  # same fit inside
    loaded = from_bytes(to_bytes(held))
    np.testing.assert_array_equal(loaded.predict(far), held.predict(far))


def test_held_inputs_of_a_sparse_matrix_are_held_as_the_dense_ones():
    import scipy.sparse as sp

    X = np.abs(_skewed())
    scaler = Scaler.fit(X, "standard", hold=True)
    rows = np.r_[X[:5], [[1e6, 0, 0]]]
    dense = scaler.transform(rows, np.float64)
    np.testing.assert_allclose(scaler.transform(sp.csr_array(rows), np.float64), dense)
    assert dense[-1, 0] == pytest.approx(scaler.limits[1, 0]) and dense.max() <= scaler.limits.max()


def test_piecewise_encodes_each_feature_by_its_place_in_its_quantile_pieces():
    X = _skewed()  # lognormal, four levels, normal
    X = np.c_[X, np.arange(len(X)) % 2]  # and a two-valued column
    scaler = Scaler.fit(X, "piecewise")
    assert scaler.width(4) == BINS + 3 + BINS + 1  # 4 levels: a piece between neighbours
    Z = scaler.transform(X, np.float64)
    assert Z.shape == (len(X), scaler.width(4)) and np.abs(Z).max() <= 1
    np.testing.assert_allclose(Z[:, -1], (X[:, 3] - 0.5) / 0.5)  # two values: standardized
    order = np.argsort(X[:, 0])  # the sum over a feature's pieces rises with its value
    assert np.all(np.diff(Z[order, :BINS].sum(axis=1)) >= 0)
    levels = Scaler.fit(X, "piecewise").transform(np.array([[1, 0, 5, 0], [1, 2, 5, 0]]), float)
    np.testing.assert_allclose(levels[:, BINS : BINS + 3], [[-1, -1, -1], [1, 1, -1]])
    beyond = scaler.transform(np.array([[1e9, 9, -1e9, 0]]), np.float64)  # held at the ends
    np.testing.assert_array_equal(beyond[0, :BINS], 1)
    np.testing.assert_array_equal(beyond[0, BINS + 3 : 2 * BINS + 3], -1)


def test_a_piecewise_network_takes_the_wider_input_and_learns_a_step_sooner():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(1200, 2))
    y = np.where(X[:, 0] > 0.5, 10.0, 0.0) + X[:, 1]  # a jump, where a tree would cut
    scores = {}
    for scaling in ("standard", "piecewise"):
        reg = MLPRegressor((16,), scaling=scaling, max_iter=60, random_state=0)
        scores[scaling] = reg.fit(X[:600], y[:600]).score(X[600:], y[600:])
    assert reg.coefs_[0].shape == (2 * BINS, 16)
    assert scores["piecewise"] > scores["standard"] + 0.1  # 0.87 against 0.71
