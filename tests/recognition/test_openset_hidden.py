"""A rejector that reads the digit model's own evidence (openset.INPUTS "hidden", "hidden+pixels"): its
features, its serving forward pass, the card's "inputs" and the checks on loading it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backend.nn.model import Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.shapes import N_INPUTS
from backend.nn.weights import WeightsError
from backend.recognition.openset import CARD_FILE, HIDDEN, HIDDEN_AND_PIXELS, PIXELS, OpenSet, hidden_width, load_open_set, save_open_set
from backend.recognition.openset_training import RejectorRecipe, features_of, train_rejector

H = 12  # the tiny digit model's hidden width: two members of 5 and 7 last hidden units


def digit_model(seed: int = 0) -> Model:
    rng = np.random.default_rng(seed)
    return Model([Network.initialise(NetworkConfig((N_INPUTS, 9, n, 10)), rng) for n in (5, 7)])


def reading(inputs: str, seed: int = 0) -> OpenSet:
    rng = np.random.default_rng(seed)
    width = {HIDDEN: H, HIDDEN_AND_PIXELS: H + N_INPUTS}[inputs]
    net = Network.initialise(NetworkConfig((width, 8, 2)), rng)
    for b in net.biases:
        b[...] = rng.normal(0, 0.5, b.shape)
    return OpenSet(1.2, net, 0.4, 0.2, min_ink=3.0, inputs=inputs)


def sparse_images(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, N_INPUTS)) * (rng.random((n, N_INPUTS)) > 0.8)).astype(np.float32)


def test_the_hidden_width_is_the_sum_of_the_members_last_hidden_layers():
    assert hidden_width(digit_model()) == H


@pytest.mark.parametrize("inputs", [HIDDEN, HIDDEN_AND_PIXELS])
def test_scores_are_the_rejectors_own_on_the_models_hidden_layers(inputs):
    model, open_set = digit_model(), reading(inputs, 3)
    images = sparse_images(5, 4)
    _, hidden = model.predict_proba_and_hidden(images)
    features = features_of(inputs, model, images)
    expected_features = hidden if inputs == HIDDEN else np.concatenate([hidden, images], axis=1)
    np.testing.assert_allclose(features, expected_features, rtol=1e-6)
    expected = open_set.rejector.predict_proba(features)[:, 0]
    np.testing.assert_allclose(open_set.digit_scores(images, hidden), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(open_set.digit_scores(images[:1], hidden[:1]), expected[:1], rtol=1e-5, atol=1e-6)  # one image
    assert open_set.needs_hidden and not OpenSet(1.0, open_set.rejector, 0.5, 0.5).needs_hidden


def test_a_rejector_reading_hidden_layers_without_them_says_so():
    with pytest.raises(ValueError, match="hidden layers"):
        reading(HIDDEN).digit_scores(sparse_images(2, 1))


def test_save_and_load_keep_what_the_rejector_reads(tmp_path):
    model, open_set = digit_model(), reading(HIDDEN_AND_PIXELS)
    save_open_set(open_set, tmp_path, {"digit_model_id": "mlp-abc"})
    assert json.loads((tmp_path / CARD_FILE).read_text())["inputs"] == HIDDEN_AND_PIXELS
    loaded = load_open_set(tmp_path, digit_model_id="mlp-abc", hidden_width=H)
    images = sparse_images(4, 2)
    probabilities, hidden = model.predict_proba_and_hidden(images)
    assert loaded.inputs == HIDDEN_AND_PIXELS
    np.testing.assert_array_equal(loaded.is_digit(images, probabilities, hidden), open_set.is_digit(images, probabilities, hidden))


def test_a_version_1_card_without_inputs_reads_pixels(tmp_path):
    rng = np.random.default_rng(0)
    save_open_set(OpenSet(1.0, Network.initialise(NetworkConfig((N_INPUTS, 4, 2)), rng), 0.5, 0.5), tmp_path, {"digit_model_id": "m"})
    card = json.loads((tmp_path / CARD_FILE).read_text())
    del card["inputs"]
    card["format_version"] = 1
    (tmp_path / CARD_FILE).write_text(json.dumps(card))
    loaded = load_open_set(tmp_path, hidden_width=H)
    assert loaded.inputs == PIXELS and not loaded.needs_hidden
    assert loaded.digit_scores(sparse_images(2, 3)).shape == (2,)


def test_a_rejector_for_another_hidden_width_is_refused_naming_the_file(tmp_path):
    save_open_set(reading(HIDDEN), tmp_path, {"digit_model_id": "mlp-abc"})
    with pytest.raises(WeightsError, match=rf"takes {H + 1} inputs here") as caught:
        load_open_set(tmp_path, hidden_width=H + 1)
    assert str(tmp_path) in str(caught.value)


@pytest.mark.parametrize("field, value, words", [("inputs", "logits", "not one of"), ("format_version", 3, "format_version 3")])
def test_a_card_with_unknown_inputs_or_version_is_refused_naming_the_file(tmp_path, field, value, words):
    save_open_set(reading(HIDDEN), tmp_path, {"digit_model_id": "mlp-abc"})
    card = json.loads((tmp_path / CARD_FILE).read_text())
    card[field] = value
    (tmp_path / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(WeightsError, match=words) as caught:
        load_open_set(tmp_path, hidden_width=H)
    assert str(tmp_path) in str(caught.value)


def halves(n: int, top: bool, seed: int) -> np.ndarray:
    """Images (n, 784) inked only in the top (or bottom) 10 rows: an easy two-class task."""
    images = sparse_images(n, seed).reshape(n, 28, 28)
    images[:, 10:] = 0.0 if top else images[:, 10:]
    images[:, :18] = images[:, :18] if top else 0.0
    return images.reshape(n, N_INPUTS)


@pytest.mark.parametrize("inputs", [PIXELS, HIDDEN, HIDDEN_AND_PIXELS])
def test_a_trained_rejector_reads_raw_features_and_separates_the_classes(inputs):
    rng = np.random.default_rng(1)
    members = [Network.initialise(NetworkConfig((N_INPUTS, 48, n, 10)), rng) for n in (24, 40)]  # wide enough to tell the halves apart
    for net in members:
        net.weights[1] *= 40.0  # hidden units far from the pixels' [0, 1]: training must scale them, and the rejector undo it
    model = Model(members)
    recipe = RejectorRecipe(inputs=inputs, hidden=(16,), epochs=6, per_class=512, batch_size=64, learning_rate=3e-3, dropout=0.0)
    net = train_rejector(recipe, halves(600, True, 1), halves(600, False, 2), model=model)
    assert net.config.layer_sizes[0] == {PIXELS: N_INPUTS, HIDDEN: 64, HIDDEN_AND_PIXELS: 64 + N_INPUTS}[inputs]
    # fresh pictures, raw features (the training scale is folded into W(1)): P(digit) high on the first class only
    scores_top = net.predict_proba(features_of(inputs, model, halves(200, True, 3)))[:, 0]
    scores_bottom = net.predict_proba(features_of(inputs, model, halves(200, False, 4)))[:, 0]
    assert ((scores_top > 0.5).mean() + (scores_bottom < 0.5).mean()) / 2 >= 0.8
    # and as sure as training made it, no surer: raw features read through an unscaled W(1) would be far too sure
    log_likelihood = np.log(np.concatenate([scores_top, 1 - scores_bottom]) + 1e-12).mean()
    assert -log_likelihood < 0.5
