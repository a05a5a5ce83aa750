"""Model.predict_proba_and_hidden: the same probabilities as predict_proba, and each member's last hidden
layer side by side, on both forward paths (one image at a time skipping zeros, and whole batches)."""

import numpy as np
import pytest

from backend.nn import model as model_module
from backend.nn.model import DENSE_FROM_ROWS, Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.shapes import N_INPUTS


def members(sizes=((N_INPUTS, 40, 30, 10), (N_INPUTS, 50, 20, 10)), seed=0):
    rng = np.random.default_rng(seed)
    nets = [Network.initialise(NetworkConfig(s), rng) for s in sizes]
    for net in nets:
        for b in net.biases:
            b[:] = rng.normal(0, 0.1, b.shape)
    return nets


def last_hidden(net, x):
    a = x
    for l in range(len(net.weights) - 1):
        a = net.layer(l, a)
    return a


@pytest.mark.parametrize("n_images", [1, DENSE_FROM_ROWS - 1, DENSE_FROM_ROWS, 33])
@pytest.mark.parametrize("skip_zeros_from", [0, 10**12])
def test_hidden_layers_are_the_members_own_side_by_side(monkeypatch, n_images, skip_zeros_from):
    monkeypatch.setattr(model_module, "SKIP_ZEROS_MIN_WEIGHTS", skip_zeros_from)
    rng = np.random.default_rng(n_images)
    x = rng.random((n_images, N_INPUTS), dtype=np.float32)
    x[rng.random(x.shape) < 0.8] = 0.0
    x[:, :28] = 0.0  # a border no image inks: the batch path leaves those pixels out
    nets = members()
    model = Model(nets)
    probabilities, hidden = model.predict_proba_and_hidden(x)
    assert hidden.shape == (n_images, 30 + 20)
    np.testing.assert_allclose(hidden, np.concatenate([last_hidden(net, x) for net in nets], axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probabilities, model.predict_proba(x), rtol=1e-6, atol=1e-7)


def test_a_single_network_gives_its_own_hidden_layer_and_an_empty_batch_gives_none():
    net = members(sizes=((N_INPUTS, 16, 10),))[0]
    x = np.random.default_rng(1).random((3, N_INPUTS), dtype=np.float32)
    _, hidden = Model([net]).predict_proba_and_hidden(x)
    np.testing.assert_allclose(hidden, last_hidden(net, x), rtol=1e-5, atol=1e-6)
    probabilities, hidden = Model([net]).predict_proba_and_hidden(np.zeros((0, N_INPUTS), np.float32))
    assert probabilities.shape == (0, 10) and hidden.shape == (0, 16)


def test_inputs_of_the_wrong_width_are_refused():
    with pytest.raises(AssertionError, match="expected"):
        Model(members()).predict_proba_and_hidden(np.zeros((2, N_INPUTS - 1), np.float32))
