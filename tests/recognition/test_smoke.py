"""The smoke test for new weights: its built-in sample is what it says, a good model passes, a broken one fails."""

from __future__ import annotations

import numpy as np

from backend.nn.mnist import load_mnist
from backend.nn.shapes import N_INPUTS
from backend.nn.weights import load_model, save_model
from backend.paths import MODEL_DIR
from backend.recognition.smoke import SMOKE_FILE, SMOKE_MARGIN, SMOKE_SIZE, load_smoke_sample, make_smoke_sample, smoke_test


def test_the_shipped_sample_is_the_validation_digits_make_smoke_sample_draws():
    images, labels = load_smoke_sample()
    assert images.shape == (SMOKE_SIZE, N_INPUTS) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert set(labels.tolist()) == set(range(10))
    rebuilt = make_smoke_sample(load_mnist().validation)
    with np.load(SMOKE_FILE, allow_pickle=False) as shipped:
        np.testing.assert_array_equal(shipped["images"], rebuilt["images"])
        np.testing.assert_array_equal(shipped["labels"], rebuilt["labels"])


def test_a_model_as_good_as_its_card_passes_and_a_scrambled_one_fails(tmp_path):
    model, card = load_model(MODEL_DIR / "classic")
    result = smoke_test(model, card["validation_accuracy"])
    assert result.passed and result.required == card["validation_accuracy"] - SMOKE_MARGIN
    assert result.accuracy > 0.9
    rng = np.random.default_rng(1)
    for net in model.members:
        net.weights = [rng.permutation(w.ravel()).reshape(w.shape) for w in net.weights]
    save_model(model, tmp_path, {"validation_accuracy": card["validation_accuracy"]})  # the model caches derived arrays: reload it
    scrambled, _ = load_model(tmp_path)
    broken = smoke_test(scrambled, card["validation_accuracy"])
    assert not broken.passed and broken.accuracy < 0.5
