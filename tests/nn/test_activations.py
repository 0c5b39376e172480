"""Activations: the fused forward-and-slope kernels and the column-folding softmax."""

import numpy as np
import pytest

from nas.nn.activations import ACTIVATIONS, softmax


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_prime_equals_forward_then_derivative(name, dtype):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((64, 33)).astype(dtype) * 3
    z[0, :4] = [0.0, -0.0, 1e-30, -1e-30]  # at and around relu's kink
    act = ACTIVATIONS[name]
    a_ref, prime_ref = np.empty_like(z), np.empty_like(z)
    act.forward(z, a_ref)
    a, prime = z.copy(), np.empty_like(z)
    act.forward_prime(a, a, prime)  # in place, as a layer calls it
    np.testing.assert_array_equal(a, a_ref)
    if act.hidden_only:  # its slope is not a function of a: the fused kernel's alone
        with pytest.raises(ValueError, match="hidden layers only"):
            act.derivative(a_ref, prime_ref)
        return
    act.derivative(a_ref, prime_ref)
    np.testing.assert_array_equal(prime, prime_ref)


@pytest.mark.parametrize("name", ["gelu", "selu", "mish"])
def test_modern_activations_match_pytorch(name):
    torch = pytest.importorskip("torch")  # bench extra; finite differences always run
    z = np.linspace(-8, 8, 4001)
    z[2000] = 1e-9  # beside selu's kink, on its right
    t = torch.tensor(z, requires_grad=True)
    fn = {
        "gelu": lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
        "selu": torch.selu,
        "mish": torch.nn.functional.mish,
    }[name]
    out = fn(t)
    out.sum().backward()
    a, prime = z.copy(), np.empty_like(z)
    ACTIVATIONS[name].forward_prime(a, a, prime)
    np.testing.assert_allclose(a, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(prime, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 2), (128, 10), (3, 40, 10), (7, 64)])
def test_softmax_matches_the_textbook_formula(shape):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape) * 20
    expected = np.exp(z - z.max(axis=-1, keepdims=True))
    expected /= expected.sum(axis=-1, keepdims=True)
    out = np.empty_like(z)
    softmax(z, out)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-13)


def test_softmax_does_not_overflow():
    z = np.array([[1000.0, 999.0, -1000.0]])
    out = np.empty_like(z)
    softmax(z, out)
    assert np.isfinite(out).all() and out[0, 0] > out[0, 1] > out[0, 2] >= 0
