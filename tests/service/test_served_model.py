"""The served model: loaded and checked once, then independent of the files."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from backend.nn.weights import WeightsError
from backend.paths import MODEL_DIR
from backend.service.served_model import load_served_model


def test_predict_gives_digits_confidences_and_rows_summing_to_one():
    served = load_served_model(MODEL_DIR)
    images = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    predictions = served.predict(images)
    assert predictions.probabilities.shape == (5, 10)
    assert np.allclose(predictions.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(predictions.digits, predictions.probabilities.argmax(axis=1))
    assert np.array_equal(predictions.confidences, predictions.probabilities.max(axis=1))
    assert served.model_id == served.card["model_id"]


@pytest.mark.parametrize("rows", [2, 3, 7, 8, 9])
def test_small_batches_computed_row_by_row_match_one_matrix_pass(rows):
    served = load_served_model(MODEL_DIR)
    images = np.random.default_rng(rows).random((rows, 784), dtype=np.float32)
    # the served probabilities are the ensemble's, calibrated by the open-set part beside it
    expected = served.open_set.calibrate(served.model.predict_proba(images))
    assert np.allclose(served.predict(images).probabilities, expected, atol=1e-6)


def test_deleting_the_weights_after_loading_changes_nothing(tmp_path):
    copy = tmp_path / "weights"
    shutil.copytree(MODEL_DIR, copy)
    served = load_served_model(copy)
    image = np.random.default_rng(1).random((1, 784), dtype=np.float32)
    before = served.predict(image).probabilities
    shutil.rmtree(copy)
    assert np.array_equal(served.predict(image).probabilities, before)


@pytest.mark.parametrize(
    "damage, named", [("delete-weights", "model.npz"), ("corrupt-weights", "model.npz"), ("delete-card", "model.json")]
)
def test_unusable_weights_raise_an_error_naming_the_file(tmp_path, damage, named):
    copy = tmp_path / "weights"
    shutil.copytree(MODEL_DIR, copy)
    if damage == "delete-weights":
        (copy / "model.npz").unlink()
    elif damage == "corrupt-weights":
        (copy / "model.npz").write_bytes(b"garbage")
    else:
        (copy / "model.json").unlink()
    with pytest.raises(WeightsError, match=named):
        load_served_model(copy)


def test_the_served_decision_takes_the_second_look_inside_the_band():
    served = load_served_model(MODEL_DIR)
    assert served.open_set is not None and served.open_set.second_look is not None  # the shipped card asks for it
    rng = np.random.default_rng(2)
    images = (rng.random((8, 784)) * (rng.random((8, 784)) > 0.8)).astype(np.float32)
    hidden = served.model.predict_proba_and_hidden(images)[1]
    everywhere = dataclasses.replace(served.open_set, second_look=(0.0, 1.0), min_confidence=0.0, min_ink=0.0)
    plain = everywhere.digit_scores(images, hidden)
    looked = everywhere.judged_scores(images, hidden, served.model)
    changed = int(np.argmax(np.abs(looked - plain)))
    threshold = float((looked[changed] + plain[changed]) / 2)  # between the two: only the second look decides this one right
    judging = dataclasses.replace(served, open_set=dataclasses.replace(everywhere, threshold=threshold))
    is_digit = judging.predict(images).is_digit
    assert is_digit.tolist() == (looked >= threshold).tolist()
    assert is_digit[changed] != (plain[changed] >= threshold)
