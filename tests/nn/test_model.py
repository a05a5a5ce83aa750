"""Model: the averaged ensemble gives the members' own numbers, on both of its forward paths."""

import numpy as np
import pytest

from backend.nn import model as model_module
from backend.nn.activations import HIDDEN_ACTIVATIONS
from backend.nn.model import DENSE_FROM_ROWS, Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.shapes import N_INPUTS


@pytest.fixture(autouse=True, params=["skipping-zeros", "whole-layers"])
def layer_reading(request, monkeypatch):
    """Every test twice: the small nets here read the way big ones do (skipping zeros), and whole."""
    monkeypatch.setattr(model_module, "SKIP_ZEROS_MIN_WEIGHTS", 0 if request.param == "skipping-zeros" else 10**12)


def members(activation="relu", output="softmax", n=3, seed=0):
    rng = np.random.default_rng(seed)
    nets = [Network.initialise(NetworkConfig((N_INPUTS, 40, 30, 10), activation, output), rng) for _ in range(n)]
    for net in nets:  # non-zero biases: a unit may be active even where its inputs are all zero
        for b in net.biases:
            b[:] = rng.normal(0, 0.1, b.shape)
    return nets


def digit_like(n, rng):
    """Images with an MNIST-like 80% of exact zeros, the case the one-image path is built for."""
    images = rng.random((n, N_INPUTS), dtype=np.float32)
    images[rng.random((n, N_INPUTS)) < 0.8] = 0.0
    return images


def by_hand(nets, x):
    """The ensemble by definition: the mean of the members' predict_proba, rows normalised."""
    mean = np.mean([net.predict_proba(x) for net in nets], axis=0)
    return mean / mean.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("n_images", [1, DENSE_FROM_ROWS - 1, DENSE_FROM_ROWS, 50])
def test_probabilities_equal_the_mean_of_the_members(activation, output, n_images):
    nets = members(activation, output)
    x = digit_like(n_images, np.random.default_rng(1))
    probabilities = Model(nets).predict_proba(x)
    assert probabilities.shape == (n_images, 10)
    assert np.allclose(probabilities, by_hand(nets, x), atol=1e-6)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "image",
    [np.zeros(N_INPUTS), np.ones(N_INPUTS), np.eye(N_INPUTS)[0], np.eye(N_INPUTS)[-1]],
    ids=["blank", "all-ink", "first-pixel", "last-pixel"],
)
def test_one_image_with_no_or_only_ink_equals_the_dense_pass(image):
    nets = members()
    x = image[np.newaxis, :].astype(np.float32)
    assert np.allclose(Model(nets).predict_proba(x), by_hand(nets, x), atol=1e-6)


def test_a_batch_whose_border_is_blank_everywhere_equals_the_dense_pass():
    # the first layer then reads only the pixels some image uses; one inked corner must still count
    nets = members()
    x = digit_like(20, np.random.default_rng(2))
    x[:, :100] = 0.0
    x[5, 0] = 1.0
    assert np.allclose(Model(nets).predict_proba(x), by_hand(nets, x), atol=1e-6)


def test_predict_is_the_most_likely_digit_of_each_row():
    model = Model(members())
    x = digit_like(12, np.random.default_rng(3))
    assert np.array_equal(model.predict(x), model.predict_proba(x).argmax(axis=1))


def test_an_empty_batch_gives_no_rows():
    assert Model(members()).predict_proba(np.zeros((0, N_INPUTS), np.float32)).shape == (0, 10)


def test_wrong_input_width_is_refused():
    with pytest.raises(AssertionError, match="expected"):
        Model(members()).predict_proba(np.zeros((1, 783), np.float32))


def test_a_member_with_other_than_784_inputs_is_refused():
    net = Network.initialise(NetworkConfig((100, 10)), np.random.default_rng(0))
    with pytest.raises(AssertionError, match="layer sizes"):
        Model([net])
