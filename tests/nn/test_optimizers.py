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


def test_the_cosine_schedule_warms_up_then_anneals_towards_zero():
    from nas.nn.optimizers import schedule_factor

    f = schedule_factor(np.arange(60), 50)
    np.testing.assert_allclose(f[:5], [0.2, 0.4, 0.6, 0.8, 1.0])  # a tenth of 50 epochs
    assert np.all(np.diff(f[4:50]) < 0) and f[49] < 0.01  # down along half a cosine
    np.testing.assert_array_equal(f[50:], f[49])  # held at the last epoch's beyond it
    np.testing.assert_array_equal(schedule_factor(np.arange(3), 1), 1.0)


def test_scheduled_steps_take_the_rate_of_their_epoch():
    """Two steps an epoch over four epochs: SGD moves by lr f(e) g, Adam by the paper's
    step at lr f(e), in a lone optimizer and in a stacked row beside an unscheduled one."""
    from nas.nn.layout import Placement
    from nas.nn.optimizers import schedule_factor

    rng = np.random.default_rng(0)
    dt, size = np.dtype(np.float64), 5
    grads = rng.standard_normal((8, size))
    for cls in (SGD, Adam):
        lone = cls(size, dt, lr=0.1)
        lone.schedule(4)
        plain = cls(size, dt, lr=0.1)
        place = Placement.of(np.arange(size))
        stack = cls.stacked([lone, plain], [place, place], size, np)
        w, rows = np.zeros(size), np.zeros((2, size))
        ref, m, v = np.zeros(size), np.zeros(size), np.zeros(size)
        for t, g in enumerate(grads, 1):
            if t % 2 == 1:
                lone.begin_epoch()
                stack.begin_epoch()
            lr = 0.1 * float(schedule_factor((t - 1) // 2, 4))
            lone.step(w, g)
            stack.step(rows, np.stack([g, g]))
            if cls is SGD:
                ref -= lr * g
            else:
                m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
                ref -= lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(w, ref, rtol=1e-10)
        np.testing.assert_allclose(rows[0], ref, rtol=1e-10)
        assert not np.allclose(rows[1], ref)  # the unscheduled row kept lr = 0.1


def test_a_cosine_fit_differs_from_a_constant_one_and_is_refused_a_bad_horizon():
    from sklearn.datasets import load_diabetes

    from nas.nn import MLPRegressor

    X, y = load_diabetes(return_X_y=True)
    fits = [
        MLPRegressor((8,), learning_rate=s, max_iter=5, random_state=0).fit(X, y).coefs_[0]
        for s in ("constant", "cosine")
    ]
    assert not np.allclose(*fits)
    with pytest.raises(ValueError, match="schedule_epochs"):
        MLPRegressor(learning_rate="cosine", schedule_epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate"):
        MLPRegressor(learning_rate="adaptive").fit(X, y)
