"""Initial weights: the default is Glorot's bound for every activation; each scheme keeps
to its own bound, and biases start at zero except under the lecture's RAND(-eps, eps)."""

import math

import numpy as np
import pytest

from nas.nn import MLPClassifier

X = np.random.default_rng(0).normal(size=(60, 4))
Y = np.arange(60) % 3


def started(**params) -> MLPClassifier:
    """A network after one SGD step of 1e-9: its weights are its initial ones to ~1e-9."""
    clf = MLPClassifier(
        (100,), solver="sgd", learning_rate_init=1e-9, max_iter=1, random_state=0, **params
    )
    return clf.fit(X, Y)


@pytest.mark.parametrize("activation", ["relu", "softplus", "tanh", "logistic"])
def test_auto_is_glorot_for_every_activation(activation):
    clf = started(activation=activation)
    for W, b in zip(clf.coefs_, clf.intercepts_):
        bound = math.sqrt(6 / sum(W.shape))
        assert np.abs(W).max() <= bound + 1e-6
        assert np.abs(W).max() > 0.9 * bound  # spread over the bound, not squeezed inside
        assert np.abs(b).max() < 1e-6
    # four inputs: He's sqrt(6 / 4) would start the first layer five times as wide
    assert np.abs(clf.coefs_[0]).max() < 0.25


def test_he_keeps_its_own_larger_bound():
    W = started(init="he").coefs_[0]
    assert np.abs(W).max() <= math.sqrt(6 / 4) + 1e-6
    assert np.abs(W).max() > math.sqrt(6 / 104)  # beyond what Glorot would allow


def test_uniform_is_the_lectures_rand_minus_eps_eps_biases_too():
    clf = started(init="uniform", init_scale=0.05)
    for W, b in zip(clf.coefs_, clf.intercepts_):
        assert np.abs(W).max() <= 0.05 + 1e-6
        assert 0 < np.abs(b).max() <= 0.05 + 1e-6
