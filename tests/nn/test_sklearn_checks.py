"""The estimators keep scikit-learn's contract in full: every check of check_estimator
passes, they fit sparse one-hot features in a pipeline, and fitted models survive a joblib
round trip."""

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.estimator_checks import parametrize_with_checks

from nas.nn import MLPClassifier, MLPRegressor

# small networks, and epochs enough for check_classifiers_train (accuracy > 0.83) and
# check_regressors_train (R^2 > 0.5): at random_state 0 they reach 0.92 and 0.82
CHECKED = [
    MLPClassifier((8,), learning_rate_init=0.01, max_iter=50, random_state=0),
    MLPRegressor((8,), learning_rate_init=0.01, max_iter=100, random_state=0),
]


@parametrize_with_checks(CHECKED)
def test_scikit_learn_check(estimator, check):
    check(estimator)


def test_a_pipeline_from_sparse_one_hot_features():
    rng = np.random.default_rng(0)
    colours = rng.choice(["red", "green", "blue"], 300)
    sizes = rng.choice(["S", "M", "L", "XL"], 300)
    X = np.column_stack([colours, sizes])
    y = np.where((colours == "red") | (sizes == "XL"), "yes", "no")
    encoder = OneHotEncoder(sparse_output=True, handle_unknown="ignore")
    assert sp.issparse(encoder.fit_transform(X))
    pipe = make_pipeline(encoder, MLPClassifier((8,), max_iter=100, random_state=0))
    pipe.fit(X, y)
    assert pipe.score(X, y) == 1.0
    unseen = np.array([["purple", "XL"], ["purple", "S"]])
    assert list(pipe.predict(unseen)) == ["yes", "no"]


@pytest.mark.parametrize("sparse", [False, True])
def test_a_joblib_round_trip_predicts_identically(tmp_path, sparse):
    X, y = load_iris(return_X_y=True)
    Xr, yr = load_diabetes(return_X_y=True)
    if sparse:
        X, Xr = sp.csr_matrix(X), sp.csr_matrix(Xr)
    fitted = [
        MLPClassifier((8,), batch_norm=True, dropout=0.1, max_iter=5, random_state=0).fit(X, y),
        MLPRegressor((8,), max_iter=5, random_state=0).fit(Xr, yr),
    ]
    for est, data in zip(fitted, (X, Xr)):
        path = tmp_path / f"{type(est).__name__}.joblib"
        joblib.dump(est, path)
        again = joblib.load(path)
        np.testing.assert_array_equal(again.predict(data), est.predict(data))
        if hasattr(est, "predict_proba"):
            np.testing.assert_array_equal(again.predict_proba(data), est.predict_proba(data))
        assert again.get_params() == est.get_params() and again.loss_curve_ == est.loss_curve_
