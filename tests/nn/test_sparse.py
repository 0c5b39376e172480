"""Sparse X (SciPy CSR) trains without being densified: the first layer's products are
sparse ones, scaling divides without centering, and the outcome is the dense one's."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits

from nas.nn import MLPClassifier, MLPRegressor
from nas.nn.population import fit_population

X, y = load_digits(return_X_y=True)  # 1,797 x 64, about half zeros
S = sp.csr_matrix(X)


def _max_diff(a, b):
    return max(float(np.abs(u - v).max()) for u, v in zip(a.coefs_, b.coefs_))


@pytest.mark.parametrize(
    "options",
    [
        {"hidden_layer_sizes": (16,)},
        {"hidden_layer_sizes": ()},  # the output layer is the first
        {"hidden_layer_sizes": (8, 8), "batch_norm": True, "dropout": 0.1},
    ],
)
def test_a_sparse_fit_is_the_dense_fit(options):
    kw = dict(scaling=None, dtype="float64", max_iter=3, batch_size=64, random_state=0)
    dense = MLPClassifier(**options, **kw).fit(X, y)
    sparse = MLPClassifier(**options, **kw).fit(S, y)
    assert _max_diff(dense, sparse) < 1e-12
    np.testing.assert_allclose(sparse.predict_proba(S), dense.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(sparse.predict_proba(X), dense.predict_proba(X), atol=1e-12)


@pytest.mark.parametrize("fmt", ["csr_array", "csc_matrix", "coo_array"])
def test_a_multi_output_regressor_takes_any_sparse_format(fmt):
    kw = dict(hidden_layer_sizes=(8,), scaling=None, dtype="float64", max_iter=2, random_state=0)
    dense = MLPRegressor(**kw).fit(X, X[:, 20:22])
    sparse = MLPRegressor(**kw).fit(getattr(sp, fmt)(X), X[:, 20:22])
    np.testing.assert_allclose(sparse.predict(S), dense.predict(X), atol=1e-10)


@pytest.mark.parametrize(
    ("scaling", "spread"),
    [("minmax", np.abs(X).max(axis=0)), ("standard", X.std(axis=0))],
)
def test_sparse_scaling_divides_without_centering(scaling, spread):
    kw = dict(hidden_layer_sizes=(8,), dtype="float64", max_iter=2, random_state=0)
    sparse = MLPClassifier(scaling=scaling, **kw).fit(S, y)
    divided = MLPClassifier(scaling=None, **kw).fit(X / np.where(spread > 0, spread, 1), y)
    assert _max_diff(sparse, divided) < 1e-12
    scaled = sparse._inputs(S)
    assert sp.issparse(scaled) and scaled.nnz == S.nnz  # never densified


def test_a_dense_fitted_model_predicts_sparse_rows():
    clf = MLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)  # centered scaling
    np.testing.assert_array_equal(clf.predict_proba(S), clf.predict_proba(X))


def test_a_sparse_population_trains_each_member_as_alone():
    def members():
        return [
            MLPClassifier((8 + i,), dtype="float64", max_iter=3, batch_size=50, random_state=i)
            for i in range(3)
        ]

    together = members()
    fit_population(together, S, y, X_val=S[:100], y_val=y[:100])
    for est, alone in zip(together, members()):
        alone.fit(S, y, X_val=S[:100], y_val=y[:100])
        assert _max_diff(est, alone) < 1e-12
        assert est.validation_scores_ == pytest.approx(alone.validation_scores_)


def test_early_stopping_splits_sparse_rows():
    clf = MLPClassifier((8,), early_stopping=True, max_iter=5, random_state=0).fit(S, y)
    assert len(clf.validation_scores_) == clf.n_iter_
