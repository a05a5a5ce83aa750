"""Backpropagation checked against finite differences, for every activation and both costs."""

import numpy as np
import pytest

from backend.nn.activations import HIDDEN_ACTIVATIONS, get_activation
from backend.nn.costs import get_cost
from backend.nn.network import Network, NetworkConfig

CASES = [(act, "softmax", "cross_entropy") for act in HIDDEN_ACTIVATIONS] + [
    (act, out, "quadratic") for act in HIDDEN_ACTIVATIONS for out in ("softmax", "sigmoid")
]


def small_problem(activation, output, seed=0):
    rng = np.random.default_rng(seed)
    config = NetworkConfig((6, 5, 4, 3), activation=activation, output_activation=output)
    net = Network.initialise(config, rng, dtype=np.float64)
    for b in net.biases:  # non-zero biases so their gradients are exercised too
        b[:] = rng.normal(0, 0.1, b.shape)
    x = rng.normal(0, 1, (7, 6))
    y = np.eye(3)[rng.integers(0, 3, 7)]
    return net, x, y


def analytic_gradients(net, x, y, cost):
    cache = net.forward_train(x)
    return net.backward(cache, get_cost(cost).delta(net.output_activation, cache.output, y))


def numeric_gradient(net, x, y, cost, param, eps=1e-6):
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        old = param[i]
        param[i] = old + eps
        up = get_cost(cost).value(net.predict_proba(x), y)
        param[i] = old - eps
        down = get_cost(cost).value(net.predict_proba(x), y)
        param[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation,output,cost", CASES)
def test_backprop_matches_finite_differences(activation, output, cost):
    net, x, y = small_problem(activation, output)
    grads = analytic_gradients(net, x, y, cost)
    for param, grad in zip(net.parameters, grads):
        numeric = numeric_gradient(net, x, y, cost, param)
        assert grad.shape == param.shape
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


def test_a_wrong_derivative_would_be_caught():
    """The check above has teeth: a sigmoid derivative off by a factor fails it."""
    net, x, y = small_problem("sigmoid", "softmax")
    grads = analytic_gradients(net, x, y, "cross_entropy")
    numeric = numeric_gradient(net, x, y, "cross_entropy", net.weights[0])
    assert not np.allclose(grads[0] * 1.1, numeric, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "softmax"])
def test_activation_backward_matches_finite_differences(name):
    act = get_activation(name)
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, (4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from ReLU's kink
    g = rng.normal(0, 1, (4, 5))
    analytic = act.backward(act.forward(z.copy()), g.copy())
    numeric = np.zeros_like(z)
    eps = 1e-6
    for i in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[i] += eps
        zm[i] -= eps
        numeric[i] = np.sum(g * (act.forward(zp) - act.forward(zm))) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_forward_shapes_and_probabilities():
    net = Network.initialise(NetworkConfig((784, 32, 10)), np.random.default_rng(0))
    x = np.random.default_rng(1).random((5, 784), dtype=np.float32)
    p = net.predict_proba(x)
    assert p.shape == (5, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_forward_is_the_classic_formula():
    """a(l) = sigma(W(l) a(l-1) + b(l)) for one example as a column vector."""
    rng = np.random.default_rng(2)
    net = Network.initialise(NetworkConfig((4, 3, 2), activation="sigmoid", output_activation="sigmoid"), rng, np.float64)
    x = rng.random(4)
    a = x[:, None]
    for w, b in zip(net.weights, net.biases):
        a = 1 / (1 + np.exp(-(w @ a + b[:, None])))
    np.testing.assert_allclose(net.predict_proba(x[None, :])[0], a[:, 0])


def test_sigmoid_is_stable_for_large_inputs():
    z = np.array([[-1000.0, 0.0, 1000.0]])
    np.testing.assert_allclose(get_activation("sigmoid").forward(z), [[0.0, 0.5, 1.0]])


def test_dropout_scales_kept_units_and_zeroes_the_rest():
    net = Network.initialise(NetworkConfig((10, 1000, 10)), np.random.default_rng(0))
    cache = net.forward_train(np.ones((4, 10), np.float32), np.random.default_rng(1), dropout=0.5)
    mask = cache.masks[1]
    assert set(np.unique(mask)) == {0.0, 2.0}
    assert 0.45 < (mask == 0).mean() < 0.55
    assert cache.masks[0] is None and cache.masks[2] is None  # no input dropout asked, none at the output


def test_initialisation_fits_the_activation():
    rng = np.random.default_rng(0)
    he = Network.initialise(NetworkConfig((1000, 500, 10), activation="relu"), rng)
    glorot = Network.initialise(NetworkConfig((1000, 500, 10), activation="tanh"), rng)
    assert he.weights[0].std() == pytest.approx(np.sqrt(2 / 1000), rel=0.05)
    assert glorot.weights[0].std() == pytest.approx(np.sqrt(2 / 1500), rel=0.05)


def test_config_rejects_bad_architectures():
    with pytest.raises(ValueError, match="at least two"):
        NetworkConfig((784,))
    with pytest.raises(ValueError, match="hidden activation"):
        NetworkConfig((784, 10), activation="swish")
    with pytest.raises(ValueError, match="cross-entropy cost needs a softmax"):
        net, x, y = small_problem("relu", "sigmoid")
        get_cost("cross_entropy").delta(net.output_activation, net.predict_proba(x), y)
