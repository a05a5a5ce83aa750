"""The served model: loaded and checked once, then independent of the files."""

from __future__ import annotations

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
