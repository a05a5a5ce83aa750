"""Open-set parts (openset.py): temperature scaling, calibration error, the decision, and checked loading."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backend.nn.network import Network, NetworkConfig
from backend.nn.weights import WeightsError
from backend.recognition.openset import (
    CARD_FILE,
    WEIGHTS_FILE,
    OpenSet,
    apply_temperature,
    fit_temperature,
    load_open_set,
    reliability,
    save_open_set,
)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_temperature_keeps_the_answer_and_changes_only_the_certainty():
    p = softmax(np.random.default_rng(0).normal(0, 3, (50, 10)))
    for t in (0.5, 1.0, 2.0):
        q = apply_temperature(p, t)
        np.testing.assert_array_equal(q.argmax(axis=1), p.argmax(axis=1))
        np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(apply_temperature(p, 1.0), p, atol=1e-6)
    assert (apply_temperature(p, 2.0).max(axis=1) <= p.max(axis=1) + 1e-6).all()


def test_fit_temperature_recovers_an_overconfident_models_temperature():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (20_000, 10))
    labels = np.array([rng.choice(10, p=row) for row in softmax(logits)])  # labels drawn from softmax(z)
    overconfident = softmax(logits * 2.5)  # a model 2.5 times too sure
    assert fit_temperature(overconfident, labels) == pytest.approx(2.5, rel=0.05)


def test_reliability_measures_the_gap_between_confidence_and_accuracy():
    always_right_at_90 = reliability(np.full(100, 0.9), np.ones(100, bool))
    assert always_right_at_90["ece"] == pytest.approx(0.1)
    assert sum(always_right_at_90["count"]) == 100 and len(always_right_at_90["count"]) == 15
    honest = reliability(np.full(1000, 0.7), np.arange(1000) % 10 < 7)
    assert honest["ece"] == pytest.approx(0.0, abs=1e-9)


def tiny_open_set(seed: int = 0) -> OpenSet:
    rng = np.random.default_rng(seed)
    net = Network.initialise(NetworkConfig((784, 8, 6, 2)), rng)
    for b in net.biases:
        b[...] = rng.normal(0, 0.5, b.shape)  # non-zero biases, so every term of the forward pass is checked
    return OpenSet(1.3, net, 0.4, 0.2, min_ink=9.5)


def test_the_serving_forward_pass_gives_the_networks_own_p_digit():
    open_set = tiny_open_set(3)
    images = np.random.default_rng(4).random((5, 784)).astype(np.float32) * (np.random.default_rng(5).random((5, 784)) > 0.8)
    expected = open_set.rejector.predict_proba(images)[:, 0]
    np.testing.assert_allclose(open_set.digit_scores(images), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(open_set.digit_scores(images[:1]), expected[:1], rtol=1e-5, atol=1e-6)  # one image: sparse path


def test_a_blank_picture_or_a_speck_is_never_a_digit():
    open_set = OpenSet(1.0, tiny_open_set().rejector, 0.0, 0.0, min_ink=10.0)  # thresholds that accept any drawing
    images = np.zeros((3, 784), np.float32)
    images[1, 300:309] = 1.0  # 9 pixels of ink: less than min_ink
    images[2, 300:310] = 1.0  # 10: enough
    calibrated = np.full((3, 10), 0.1, np.float32)
    assert open_set.is_digit(images, calibrated).tolist() == [False, False, True]


def test_save_and_load_give_the_same_decisions(tmp_path):
    open_set = tiny_open_set()
    save_open_set(open_set, tmp_path, {"digit_model_id": "mlp-abc"})
    loaded = load_open_set(tmp_path, digit_model_id="mlp-abc")
    images = np.random.default_rng(2).random((5, 784)).astype(np.float32)
    np.testing.assert_allclose(loaded.digit_scores(images), open_set.digit_scores(images), rtol=1e-6)
    assert (loaded.temperature, loaded.threshold, loaded.min_confidence, loaded.min_ink) == (1.3, 0.4, 0.2, 9.5)
    assert not list(tmp_path.glob("*.tmp"))  # written atomically: no temporary left behind


def corrupt(tmp_path, how: str) -> None:
    card_path, weights_path = tmp_path / CARD_FILE, tmp_path / WEIGHTS_FILE
    card = json.loads(card_path.read_text())
    if how == "hash":
        weights_path.write_bytes(weights_path.read_bytes()[:-10])
    elif how == "json":
        card_path.write_text("{not json")
    elif how == "missing-field":
        del card["threshold"]
        card_path.write_text(json.dumps(card))
    elif how == "bad-threshold":
        card["threshold"] = 3.0
        card_path.write_text(json.dumps(card))
    elif how == "shape":
        card["rejector"]["layer_sizes"] = [784, 9, 6, 2]
        card_path.write_text(json.dumps(card))
    elif how == "no-weights":
        weights_path.unlink()


@pytest.mark.parametrize(
    "how, words",
    [
        ("hash", "SHA-256"),
        ("json", "not valid JSON"),
        ("missing-field", "lacks"),
        ("bad-threshold", "thresholds"),
        ("shape", r"implies float32\(9, 784\)"),
        ("no-weights", "not found"),
    ],
)
def test_a_broken_rejector_is_refused_naming_the_file(tmp_path, how, words):
    save_open_set(tiny_open_set(), tmp_path, {"digit_model_id": "mlp-abc"})
    corrupt(tmp_path, how)
    with pytest.raises(WeightsError, match=words) as caught:
        load_open_set(tmp_path, digit_model_id="mlp-abc")
    assert str(tmp_path) in str(caught.value)


def test_a_rejector_fitted_for_another_digit_model_is_refused(tmp_path):
    save_open_set(tiny_open_set(), tmp_path, {"digit_model_id": "mlp-abc"})
    with pytest.raises(WeightsError, match="mlp-abc"):
        load_open_set(tmp_path, digit_model_id="mlp-other")


def test_nan_weights_are_refused(tmp_path):
    open_set = tiny_open_set()
    open_set.rejector.weights[0][0, 0] = np.nan
    save_open_set(open_set, tmp_path, {"digit_model_id": "mlp-abc"})
    with pytest.raises(WeightsError, match="NaN"):
        load_open_set(tmp_path)
