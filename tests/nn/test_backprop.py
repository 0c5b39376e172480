"""Backpropagation against central finite differences in float64."""

import itertools

import numpy as np
import pytest

from nas.nn.activations import ACTIVATIONS
from nas.nn.network import Network

OUTPUTS = [
    ("squared", "identity"),
    ("squared", "logistic"),
    ("squared", "softmax"),
    ("log", "logistic"),
    ("log", "softmax"),
]


def _problem(loss: str, output: str, n_out: int, rng: np.random.Generator):
    X = rng.uniform(-1, 1, (7, 4))
    if output == "identity":
        Y = rng.standard_normal((7, n_out))
    elif output == "logistic":
        Y = rng.integers(0, 2, (7, 1)).astype(float)
    else:
        Y = np.eye(n_out)[rng.integers(0, n_out, 7)]
    return X, Y


def _relative_error(net: Network, X, Y, loss, alpha=0.0, seed=None, h=1e-6) -> float:
    def cost() -> float:
        rng = np.random.default_rng(seed) if seed is not None else None
        return net.loss_and_gradient(X, Y, loss, alpha, rng)  # same dropout mask every call

    w = net.params[0]  # the lone network's row of its (1, P) stack
    cost()
    analytic = net.grads[0].copy()
    numeric = np.empty_like(analytic)
    for i in range(w.size):
        old = w[i]
        w[i] = old + h
        plus = cost()
        w[i] = old - h
        minus = cost()
        w[i] = old
        numeric[i] = (plus - minus) / (2 * h)
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / max(scale, 1e-12))


def _net(activation, output, n_out, **kw) -> Network:
    net = Network([4, 5, 3, n_out], activation, output, dtype=np.float64, **kw)
    net.initialize("uniform", 0.8, np.random.default_rng(1))
    return net


@pytest.mark.parametrize(
    ("activation", "pairing"), list(itertools.product(sorted(ACTIVATIONS), OUTPUTS))
)
def test_gradients_match_finite_differences(activation, pairing):
    loss, output = pairing
    n_out = 1 if output == "logistic" else 3
    X, Y = _problem(loss, output, n_out, np.random.default_rng(0))
    assert _relative_error(_net(activation, output, n_out), X, Y, loss) < 1e-6


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu", "softplus"])
@pytest.mark.parametrize(
    "options",
    [
        {"alpha": 0.1},
        {"dropout": (0.3, 0.5)},
        {"batch_norm": True},
        {"batch_norm": True, "dropout": (0.2, 0.0), "alpha": 0.05},
    ],
    ids=["weight_decay", "dropout", "batch_norm", "all"],
)
def test_gradients_with_regularization(activation, options):
    options = dict(options)
    alpha = options.pop("alpha", 0.0)
    net = _net(activation, "softmax", 3, **options)
    X, Y = _problem("log", "softmax", 3, np.random.default_rng(0))
    if options.get("batch_norm"):
        net.gammas[0][...] = np.random.default_rng(2).uniform(0.5, 1.5, 5)
        net.betas[1][...] = np.random.default_rng(3).uniform(-0.5, 0.5, 3)
    assert _relative_error(net, X, Y, "log", alpha=alpha, seed=7) < 1e-6


def test_weight_decay_adds_lambda_sum_of_squared_weights_to_the_cost():
    net = _net("tanh", "identity", 2)
    X, Y = _problem("squared", "identity", 2, np.random.default_rng(0))
    plain = net.loss_and_gradient(X, Y, "squared", 0.0)
    decayed = net.loss_and_gradient(X, Y, "squared", 0.25)
    weights = np.concatenate([W.ravel() for W in net.coefs])
    assert decayed - plain == pytest.approx(0.25 * np.sum(weights**2), rel=1e-12)


def test_squared_loss_is_the_unhalved_sum_over_outputs():
    net = _net("relu", "identity", 2)
    X, Y = _problem("squared", "identity", 2, np.random.default_rng(0))
    A = net.forward(X).copy()
    assert net.loss_and_gradient(X, Y, "squared") == pytest.approx(
        np.mean(np.sum((Y - A) ** 2, axis=1))
    )


@pytest.mark.parametrize(
    ("activation", "loss"), [("relu", "log"), ("tanh", "squared"), ("softplus", "log")]
)
def test_gradients_match_pytorch_autograd(activation, loss):
    torch = pytest.importorskip("torch")  # bench extra; the finite differences above always run
    output = "softmax" if loss == "log" else "identity"
    net = _net(activation, output, 3, batch_norm=False)
    X, Y = _problem(loss, output, 3, np.random.default_rng(0))
    net.loss_and_gradient(X, Y, loss, 0.01)
    Ws = [torch.tensor(W, requires_grad=True) for W in net.coefs]
    bs = [torch.tensor(b, requires_grad=True) for b in net.intercepts]
    g = {"relu": torch.relu, "tanh": torch.tanh, "softplus": torch.nn.functional.softplus}[
        activation
    ]
    a = torch.tensor(X)
    for W, b in zip(Ws[:-1], bs[:-1]):
        a = g(a @ W + b)
    out = a @ Ws[-1] + bs[-1]
    Yt = torch.tensor(Y)
    if loss == "log":
        J = -(Yt * torch.log_softmax(out, dim=1)).sum(dim=1).mean()
    else:
        J = ((Yt - out) ** 2).sum(dim=1).mean()
    J = J + 0.01 * sum((W**2).sum() for W in Ws)
    J.backward()
    for mine, theirs in zip(net.grad_coefs + net.grad_intercepts, Ws + bs):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def _member(sizes, activation, **kw) -> Network:
    net = Network(sizes, activation, "softmax", dtype=np.float64, **kw)
    net.initialize("uniform", 0.8, np.random.default_rng(sum(sizes)))
    for g, b in zip(net.gammas, net.betas):
        g[...] = np.random.default_rng(5).uniform(0.5, 1.5, g.shape)
        b[...] = np.random.default_rng(6).uniform(-0.5, 0.5, b.shape)
    return net


def test_a_padded_stack_gives_every_member_the_gradient_it_has_alone():
    """One kernel for K networks: narrow members padded into wide ones, different
    activations, batch norm, dropout and weight decay, in one stack. Each member's cost and
    gradient equal its lone network's, whose gradient matches finite differences."""
    from nas.nn.backprop import gradients
    from nas.nn.network import Stack, led_by_ones

    nets = [
        _member([4, 5, 3, 3], "tanh", alpha=0.1),
        _member([4, 7, 2, 3], "relu", dropout=(0.3, 0.0), rng=np.random.default_rng(1)),
        _member([4, 3, 6, 3], "logistic", batch_norm=True, alpha=0.05),
    ]
    X, Y = _problem("log", "softmax", 3, np.random.default_rng(0))
    for k, net in enumerate(nets):
        net.rngs = [np.random.default_rng(11 + k)]  # the dropout member's masks
    st, places = Stack.gather(nets, np)
    J = gradients(st, "log", np.broadcast_to(led_by_ones(X), (3, 7, 5)), np.stack([Y.T] * 3))
    for k, (net, place) in enumerate(zip(nets, places)):
        rng = np.random.default_rng(11 + k)
        alone = net.loss_and_gradient(X, Y, "log", float(net.alpha[0]), rng)
        grad = np.empty_like(net.grads[0])
        place.get(st.grads[k], grad)
        assert J[k] == pytest.approx(alone, rel=1e-12)
        np.testing.assert_allclose(grad, net.grads[0], rtol=1e-10, atol=1e-13)
        if not any(net.dropout[0]):  # the dropout member's mask is drawn anew each call
            assert _relative_error(net, X, Y, "log", alpha=float(net.alpha[0])) < 1e-6
