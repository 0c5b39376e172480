"""Bad input is refused with a ValueError that names the problem, and changes nothing.

Data is checked by scikit-learn (validate_data), so its messages are scikit-learn's;
parameters are checked by nas.nn.validation."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

from nas.nn import MLPClassifier, MLPRegressor, Perceptron

X, y = load_iris(return_X_y=True)


def _with(value, where):
    bad = X.copy()
    bad[where] = value
    return bad


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MLPClassifier().fit(_with(np.nan, (3, 1)), y), "Input X contains NaN"),
        (lambda: MLPClassifier().fit(_with(np.inf, (0, 0)), y), "Input X contains infinity"),
        (lambda: MLPRegressor().fit(X, np.where(y == 1, np.nan, y)), "Input y contains NaN"),
        (lambda: MLPClassifier().fit(X, np.zeros(150)), "one class only"),
        (lambda: MLPClassifier().fit(np.empty((0, 4)), []), r"0 sample\(s\)"),
        (lambda: MLPClassifier().fit(X, y[:-1]), r"inconsistent numbers of samples: \[150, 149\]"),
        (lambda: MLPClassifier().fit(X[:, 0], y), "Expected 2D array, got 1D array"),
        (lambda: MLPClassifier((10, 0)).fit(X, y), "hidden_layer_sizes must be positive"),
        (lambda: MLPClassifier((-3,)).fit(X, y), "hidden_layer_sizes must be positive"),
        (lambda: MLPClassifier(activation="sigmoidal").fit(X, y), "activation must be one of"),
        (
            lambda: MLPClassifier(learning_rate_init=0).fit(X, y),
            r"learning_rate_init must be in \(0",
        ),
        (lambda: MLPClassifier(dropout=1.0).fit(X, y), r"dropout must be in \[0, 1\)"),
        (lambda: MLPClassifier((4, 4), dropout=(0.1,)).fit(X, y), "dropout has 1 rates"),
        (lambda: MLPClassifier(batch_size=0).fit(X, y), "batch_size must be in"),
        (lambda: MLPClassifier(solver="lbfgs").fit(X, y), "solver must be one of"),
        (lambda: MLPRegressor(loss="log").fit(X, y), "loss='log' needs a probability output"),
        (lambda: Perceptron(eta=-1).fit(X, y), "eta must be in"),
        (lambda: MLPClassifier().fit(X, y + 0.5), "Unknown label type: continuous"),
        (lambda: MLPClassifier().fit(X, None), "requires y to be passed"),
        (lambda: MLPClassifier().fit(X.astype(complex), y), "Complex data not supported"),
        (lambda: MLPClassifier(dtype="float16").fit(X, y), "dtype must be float32 or float64"),
        (lambda: MLPClassifier(dtype=np.int32).fit(X, y), "dtype must be float32 or float64"),
    ],
)
def test_bad_input_names_the_problem(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_feature_count_at_predict():
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        clf.predict(X[:, :3])


def test_a_refused_refit_leaves_the_fitted_model_unchanged():
    clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError):
        clf.fit(X, np.zeros(150))
    with pytest.raises(ValueError):
        clf.fit(_with(np.nan, (0, 0)), y)
    with pytest.raises(ValueError):  # X of another width is recorded before y is refused
        clf.fit(X[:, :3], np.zeros(150))
    assert clf.n_features_in_ == 4
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_unfitted_model_says_so():
    with pytest.raises(AttributeError, match="not fitted yet"):
        MLPClassifier().predict(X)
