"""The lecture's worked examples, reached through the public estimators."""

import numpy as np
import pytest

from nas.nn import MLPClassifier


def test_forward_propagation_of_the_2_2_1_example():
    # x = (3, 4); hidden units 3 and 4, output unit 5, all logistic.
    clf = MLPClassifier((2,), activation="logistic", scaling=None, random_state=0)
    clf.partial_fit([[3.0, 4.0]], [1], classes=[0, 1])
    clf.coefs_ = [
        np.array([[1.0, -4.0], [-2.0, 2.0]]),
        np.array([[4.0], [2.0]]),
    ]  # w13 w14 / w23 w24; w35 w45
    clf.intercepts_ = [np.array([5.0, 3.0]), np.array([-1.0])]  # w03 w04; w05
    assert clf.predict_proba([[3.0, 4.0]])[0, 1] == pytest.approx(0.8232, abs=1e-4)


def test_one_sgd_step_of_a_logistic_unit_with_squared_loss():
    unit = MLPClassifier(
        (),
        loss="squared",
        solver="sgd",
        learning_rate_init=0.5,
        momentum=0.0,
        alpha=0.0,
        scaling=None,
        shuffle=False,
        random_state=0,
    )
    x, y = [[0.4, 0.5]], [1]
    unit.partial_fit(x, y, classes=[0, 1])
    unit.coefs_ = [np.full((2, 1), 0.1)]
    unit.intercepts_ = [np.array([0.1])]
    unit.partial_fit(x, y)
    assert unit.intercepts_[0][0] == pytest.approx(0.2121, abs=1e-4)  # w0
    assert unit.coefs_[0][:, 0] == pytest.approx([0.1449, 0.1561], abs=1e-4)  # w1, w2
    assert unit.predict_proba(x)[0, 1] == pytest.approx(0.5862, abs=1e-4)
