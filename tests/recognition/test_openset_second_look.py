"""The second look (openset.py): inside a band of P(digit) around the threshold, the decision takes P(digit)
averaged over the picture and its four one-pixel shifts; the band is chosen on validation
(openset_training.second_look_band) and kept in the card, which refuses a band that makes no sense."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from backend.nn.model import Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.weights import WeightsError
from backend.recognition.openset import CARD_FILE, HIDDEN, SECOND_LOOK_SHIFTS, OpenSet, load_open_set, one_pixel_shifts, save_open_set
from backend.recognition.openset_training import scores_of, second_look_band


def pixel_open_set(band: tuple[float, float] | None, threshold: float = 0.5) -> OpenSet:
    rng = np.random.default_rng(0)
    net = Network.initialise(NetworkConfig((784, 8, 2)), rng)
    for b in net.biases:
        b[...] = rng.normal(0, 0.5, b.shape)
    return OpenSet(1.0, net, threshold, 0.0, second_look=band)


def drawings(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, 784)) * (rng.random((n, 784)) > 0.7)).astype(np.float32)


def test_the_shifts_move_every_pixel_one_step_and_drop_what_falls_off():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 10, 12] = 1.0
    image[0, 0, 5] = 0.5  # on the top edge: gone when moved up
    views = one_pixel_shifts(image.reshape(1, 784)).reshape(len(SECOND_LOOK_SHIFTS), 28, 28)
    up, down, left, right = views
    assert up[9, 12] == 1.0 and up.sum() == 1.0
    assert down[11, 12] == 1.0 and down[1, 5] == 0.5
    assert left[10, 11] == 1.0 and left[0, 4] == 0.5
    assert right[10, 13] == 1.0 and right[0, 6] == 0.5


def test_inside_the_band_p_digit_is_the_mean_over_the_picture_and_its_shifts():
    images = drawings(6)
    one_look = pixel_open_set(None)
    plain = one_look.digit_scores(images)
    looked = pixel_open_set((0.0, 1.0)).judged_scores(images)  # the band holds every score
    views = one_look.digit_scores(one_pixel_shifts(images)).reshape(4, 6)
    np.testing.assert_allclose(looked, (plain + views.sum(axis=0)) / 5, rtol=1e-5)
    assert not np.allclose(looked, plain)  # the shifts do change the scores of random drawings


def test_outside_the_band_or_without_one_the_score_is_the_plain_one():
    images = drawings(6)
    plain = pixel_open_set(None).judged_scores(images)
    np.testing.assert_array_equal(plain, pixel_open_set(None).digit_scores(images))
    middle = float(np.median(plain))
    banded = pixel_open_set((middle, 1.0), threshold=middle).judged_scores(images)
    below = plain < middle
    np.testing.assert_array_equal(banded[below], plain[below])
    assert not np.allclose(banded[~below], plain[~below])


def test_a_hidden_reading_rejector_needs_the_model_for_its_second_look():
    rng = np.random.default_rng(2)
    model = Model([Network.initialise(NetworkConfig((784, 12, 10)), rng)])
    rejector = Network.initialise(NetworkConfig((12, 4, 2)), rng)
    open_set = OpenSet(1.0, rejector, 0.5, 0.0, inputs=HIDDEN, second_look=(0.0, 1.0))
    images = drawings(3)
    hidden = model.predict_proba_and_hidden(images)[1]
    with pytest.raises(ValueError, match="second look needs the digit model"):
        open_set.judged_scores(images, hidden)
    views = one_pixel_shifts(images)
    expected = (
        open_set.digit_scores(images, hidden) + open_set.digit_scores(views, model.predict_proba_and_hidden(views)[1]).reshape(4, 3).sum(0)
    ) / 5
    np.testing.assert_allclose(open_set.judged_scores(images, hidden, model), expected, rtol=1e-5)


def test_one_pass_over_the_pictures_gives_both_the_plain_and_the_second_look_scores(monkeypatch):
    rng = np.random.default_rng(4)
    model = Model([Network.initialise(NetworkConfig((784, 12, 10)), rng)])
    open_set = OpenSet(1.0, Network.initialise(NetworkConfig((12, 4, 2)), rng), 0.5, 0.0, inputs=HIDDEN)
    images = drawings(5)
    hidden = model.predict_proba_and_hidden(images)[1]
    expected_plain = open_set.digit_scores(images, hidden)
    expected_looked = dataclasses.replace(open_set, second_look=(0.0, 1.0)).judged_scores(images, hidden, model)
    passes = []
    forward = model.predict_proba_and_hidden
    monkeypatch.setattr(model, "predict_proba_and_hidden", lambda x: passes.append(len(x)) or forward(x))

    plain, looked = scores_of(open_set, model, images, second_look=True, chunk=3)

    np.testing.assert_allclose(plain, expected_plain, rtol=1e-6)
    np.testing.assert_allclose(looked, expected_looked, rtol=1e-6)
    assert passes == [3, 12, 2, 8]  # per chunk: the pictures once, then their four shifts
    passes.clear()
    plain_again, same = scores_of(open_set, model, images, chunk=3)
    np.testing.assert_array_equal(same, plain_again)
    assert passes == [3, 2]  # one look: no shifts at all
    np.testing.assert_allclose(plain_again, expected_plain, rtol=1e-6)


def test_the_band_gives_every_picture_the_decision_of_the_mean():
    rng = np.random.default_rng(3)
    plain = rng.random(2_000)
    looked = np.clip(plain + rng.normal(0, 0.15, 2_000), 0, 1)
    threshold = 0.4
    low, high = second_look_band(plain, looked, threshold)
    assert low <= threshold <= high
    judged = np.where((plain >= low) & (plain <= high), looked, plain)
    np.testing.assert_array_equal(judged >= threshold, looked >= threshold)
    # and it is the narrowest: a picture sits on each edge whose decision the mean changes
    assert plain[looked >= threshold].min() == low and plain[looked < threshold].max() == high


def test_a_band_that_the_mean_never_crosses_closes_on_the_threshold():
    plain = np.array([0.1, 0.2, 0.8, 0.9])
    assert second_look_band(plain, plain, 0.5) == (0.5, 0.5)  # no second look changes a decision: no picture needs one


def test_the_band_survives_saving_and_loading(tmp_path):
    save_open_set(pixel_open_set((0.2, 0.7)), tmp_path, {"digit_model_id": "mlp-abc"})
    loaded = load_open_set(tmp_path)
    assert loaded.second_look == (0.2, 0.7)
    images = drawings(4)
    np.testing.assert_allclose(loaded.judged_scores(images), pixel_open_set((0.2, 0.7)).judged_scores(images), rtol=1e-6)


def test_a_card_without_a_band_takes_one_look(tmp_path):
    save_open_set(pixel_open_set((0.2, 0.7)), tmp_path, {"digit_model_id": "mlp-abc"})
    card = json.loads((tmp_path / CARD_FILE).read_text())
    del card["second_look"]  # as written before the second look existed
    (tmp_path / CARD_FILE).write_text(json.dumps(card))
    assert load_open_set(tmp_path).second_look is None


@pytest.mark.parametrize("band", [[0.6, 0.7], [0.2, 0.3], [0.2], "wide", [0.2, None], [-0.1, 0.7], [0.2, 1.5], [0.2, True]])
def test_a_band_that_makes_no_sense_is_refused_naming_the_file(tmp_path, band):
    save_open_set(pixel_open_set((0.2, 0.7)), tmp_path, {"digit_model_id": "mlp-abc"})  # threshold 0.5
    card = json.loads((tmp_path / CARD_FILE).read_text())
    card["second_look"] = band
    (tmp_path / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="second_look") as caught:
        load_open_set(tmp_path)
    assert str(tmp_path / CARD_FILE) in str(caught.value)
