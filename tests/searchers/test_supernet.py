"""The DARTS supernet: closed-form gradients against central differences, discretization."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nas.searchers.supernet import Supernet, log_softmax


def tiny(loss: str, activation: str, depths: tuple[int, ...] = (1, 2, 3)) -> Supernet:
    rng = np.random.default_rng(0)
    n_out = 3 if loss == "log" else 1
    net = Supernet(4, n_out, [2, 3, 5], depths, activation, loss, rng, dtype=np.float64)
    net.params[...] = rng.normal(0, 0.5, net.params.size)
    net.arch[...] = rng.normal(0, 1.0, net.arch.size)
    return net


def batch(loss: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 4))
    if loss == "log":
        return X, np.eye(3)[rng.integers(3, size=7)]
    return X, rng.normal(size=(7, 1))


def numeric(net: Supernet, flat: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    grad, eps = np.zeros_like(flat), 1e-6
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = net.loss_and_gradients(X, Y)
        flat[i] = keep - eps
        down = net.loss_and_gradients(X, Y)
        flat[i] = keep
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation", ["tanh", "logistic", "softplus"])
@pytest.mark.parametrize("loss", ["log", "squared"])
def test_gradients_match_central_differences(loss: str, activation: str) -> None:
    net = tiny(loss, activation)
    X, Y = batch(loss)
    net.loss_and_gradients(X, Y)
    weights, arch = net.grads.copy(), net.arch_grads.copy()
    np.testing.assert_allclose(weights, numeric(net, net.params, X, Y), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(arch, numeric(net, net.arch, X, Y), rtol=1e-5, atol=1e-8)
    assert np.abs(arch).max() > 1e-3  # the architecture really does get a gradient


def test_one_depth_has_a_flat_depth_gradient() -> None:
    net = tiny("log", "tanh", depths=(2,))
    net.loss_and_gradients(*batch("log"))
    assert net.beta.size == 1 and net.d_beta[0] == pytest.approx(0.0, abs=1e-12)


def test_discretization_picks_the_argmax_then_the_next_most_probable() -> None:
    net = tiny("log", "tanh")
    ranked = net.ranking(k=4)
    best_depth = net.depths[int(np.argmax(net.beta))]
    argmax = tuple(net.widths[int(np.argmax(net.alpha[layer]))] for layer in range(best_depth))
    log_p = [log_softmax(a) - log_softmax(a).max() for a in net.alpha]
    log_q = log_softmax(net.beta)

    def score(t: int, picks: tuple[int, ...]) -> float:
        return log_q[t] + sum(log_p[layer][i] for layer, i in enumerate(picks))

    every = [
        (tuple(net.widths[i] for i in picks), score(t, picks))
        for t, depth in enumerate(net.depths)
        for picks in itertools.product(range(3), repeat=depth)
    ]
    every.sort(key=lambda x: -x[1])
    assert ranked[0][0] == every[0][0] == argmax
    assert [w for w, _ in ranked] == [w for w, _ in every[:4]]


def test_training_lowers_the_validation_loss() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    Y = np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]
    net = Supernet(4, 3, [2, 4, 8], (1, 2), "relu", "log", rng, dtype=np.float64)
    val = (X[200:], Y[200:])
    before = net.loss_and_gradients(*val)
    net.train((X[:200], Y[:200]), val, 15, 32, 1e-2, 1e-2, rng)
    assert net.loss_and_gradients(*val) < 0.7 * before
    assert not np.allclose(net.arch, 0)  # the architecture parameters moved
