"""Models round-trip through npz + JSON and predict identically; no pickle anywhere."""

import io

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

from nas.nn import MLPClassifier, MLPRegressor, from_bytes, load, save, to_bytes


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_classifier_with_string_labels_round_trips(tmp_path, dtype):
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier(
        (8, 6), batch_norm=True, dropout=0.1, max_iter=10, dtype=dtype, random_state=0
    ).fit(X, labels)
    path = tmp_path / "model.npz"
    save(clf, path)
    again = load(path)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert again.get_params() == clf.get_params()
    assert again.loss_curve_ == clf.loss_curve_ and again.status_ == clf.status_
    with np.load(path, allow_pickle=False) as data:  # readable without pickle
        assert "params" in data.files


def test_a_numpy_dtype_parameter_is_saved_by_name():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((4,), max_iter=2, dtype=np.float64, random_state=0).fit(X, y)
    again = from_bytes(to_bytes(clf))
    assert again.get_params()["dtype"] == "float64"
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_regressor_round_trips_through_bytes():
    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor((16,), max_iter=5, scaling="minmax", random_state=0).fit(X, y)
    again = from_bytes(to_bytes(reg))
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    assert again.predict(X).shape == (442,)


def test_a_loaded_model_keeps_training():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    again = from_bytes(to_bytes(clf))
    again.partial_fit(X, y)
    assert again.n_iter_ == 4


def test_unknown_format_version_is_refused():
    X, y = load_iris(return_X_y=True)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array('{"format_version": 99}'))
    with pytest.raises(ValueError, match="format_version"):
        from_bytes(buf.getvalue())


def test_the_file_keeps_the_parameter_order_of_format_version_1():
    # [W_1..W_L, b_1..b_L, gamma.., beta..], whatever order the trainer keeps them in
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((8, 6), batch_norm=True, max_iter=2, random_state=0).fit(X, y)
    net = clf._state.net
    order = [*clf.coefs_, *clf.intercepts_, *net.gammas, *net.betas]
    with np.load(io.BytesIO(to_bytes(clf)), allow_pickle=False) as data:
        np.testing.assert_array_equal(data["params"], np.concatenate([a.ravel() for a in order]))
        assert data["running_mean_0"].shape == (8,)
