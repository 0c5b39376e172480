"""Optimizers against their textbook update rules, across cache-chunk boundaries."""

import numpy as np
import pytest

from nas.nn.optimizers import CHUNK, SGD, Adam

SIZES = [7, CHUNK + 5]  # one chunk, and several


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_the_rule(size, momentum, nesterov):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(size)
    ref_w, ref_v = w.copy(), np.zeros(size)
    opt = SGD(size, np.dtype(np.float64), lr=0.1, momentum=momentum, nesterov=nesterov)
    for _ in range(3):
        g = rng.standard_normal(size)
        opt.step(w, g)
        ref_v = momentum * ref_v - 0.1 * g
        ref_w += (momentum * ref_v - 0.1 * g) if nesterov else ref_v
    np.testing.assert_allclose(w, ref_w, rtol=1e-12)


@pytest.mark.parametrize("size", SIZES)
def test_adam_matches_the_paper(size):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(size)
    ref, m, v = w.copy(), np.zeros(size), np.zeros(size)
    opt = Adam(size, np.dtype(np.float64), lr=0.01)
    for t in range(1, 4):
        g = rng.standard_normal(size)
        opt.step(w, g)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        lr_t = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        ref -= lr_t * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(w, ref, rtol=1e-10)


@pytest.mark.parametrize("size", SIZES)
def test_stacked_rows_take_the_steps_their_lone_optimizers_take(size):
    """One optimizer for K rows with settings per row: each row moves as alone (SGD bit for
    bit, a row without momentum among rows with it too; Adam up to the last bit of its
    step size, whose powers NumPy and Python round alike or within an ulp)."""
    from nas.nn.layout import Placement

    rng = np.random.default_rng(0)
    dt = np.dtype(np.float64)
    lone = {
        "sgd": [SGD(size, dt, 0.1, 0.9), SGD(size, dt, 0.05, 0.0), SGD(size, dt, 0.2, 0.5)],
        "adam": [Adam(size, dt, 0.01), Adam(size, dt, 0.001, 0.8, 0.99, 1e-6)],
    }
    for name, opts in lone.items():
        K, same = len(opts), Placement.of(np.arange(size))
        stacked = type(opts[0]).stacked(opts, [same] * K, size, np)
        w = rng.standard_normal((K, size))
        rows = [w[k].copy() for k in range(K)]
        for _ in range(3):
            g = rng.standard_normal((K, size))
            stacked.step(w, g)
            for k, opt in enumerate(opts):
                opt.step(rows[k], g[k])
        for k in range(K):
            if name == "sgd":
                np.testing.assert_array_equal(w[k], rows[k])
            else:
                np.testing.assert_allclose(w[k], rows[k], rtol=1e-15, atol=1e-15)
