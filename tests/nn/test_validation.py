"""Bad input is refused with a ValueError that names the problem, and changes nothing."""

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
        (lambda: MLPClassifier().fit(_with(np.nan, (3, 1)), y), "X contains NaN or inf"),
        (lambda: MLPClassifier().fit(_with(np.inf, (0, 0)), y), "X contains NaN or inf"),
        (lambda: MLPRegressor().fit(X, np.where(y == 1, np.nan, y)), "y contains NaN or inf"),
        (lambda: MLPClassifier().fit(X, np.zeros(150)), "single class"),
        (lambda: MLPClassifier().fit(np.empty((0, 4)), []), "X is empty"),
        (lambda: MLPClassifier().fit(X, y[:-1]), "y has 149 rows but X has 150"),
        (lambda: MLPClassifier().fit(X[:, 0], y), "must be 2-D"),
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
    ],
)
def test_bad_input_names_the_problem(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_feature_count_at_predict():
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but the model was fitted with 4"):
        clf.predict(X[:, :3])


def test_a_refused_refit_leaves_the_fitted_model_unchanged():
    clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError):
        clf.fit(X, np.zeros(150))
    with pytest.raises(ValueError):
        clf.fit(_with(np.nan, (0, 0)), y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_unfitted_model_says_so():
    with pytest.raises(AttributeError, match="not fitted yet"):
        MLPClassifier().predict(X)
