import numpy as np
from sklearn.datasets import load_iris

from nas.nn import Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def test_learns_linearly_separable_and_and_converges():
    p = Perceptron(random_state=0).fit(X, [0, 0, 0, 1])
    assert p.converged_ and list(p.predict(X)) == [0, 0, 0, 1]


def test_never_settles_on_xor():
    p = Perceptron(max_iter=50, random_state=0).fit(X, [0, 1, 1, 0])
    assert not p.converged_ and p.n_iter_ == 50 and p.score(X, [0, 1, 1, 0]) < 1


def test_one_vs_rest_on_iris_setosa_is_separable():
    Xi, y = load_iris(return_X_y=True)
    p = Perceptron(max_iter=200, random_state=0).fit(Xi, np.where(y == 0, "setosa", "other"))
    assert p.converged_ and p.score(Xi, np.where(y == 0, "setosa", "other")) == 1.0
    multi = Perceptron(max_iter=20, random_state=0).fit(Xi, y)
    assert multi.decision_function(Xi).shape == (150, 3) and multi.score(Xi, y) > 0.6
