"""The committed model in model_weights/ is what its card says it is."""

import numpy as np

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.evaluation import score_test_set


def test_shipped_weights_reach_the_accuracy_their_card_claims(mnist_data):
    model, card = load_model(MODEL_DIR)
    report = score_test_set(model, mnist_data.test.images, mnist_data.test.labels)
    assert abs(report["accuracy"] - card["test_accuracy"]) <= 0.001
    assert report["confusion"] == card["test_confusion"]
    assert card["test_accuracy"] >= 0.98


def test_shipped_card_describes_a_reproducible_recipe():
    model, card = load_model(MODEL_DIR)
    assert card["training"]["seed"] == card["seed"]
    assert card["validation_accuracy"] > 0.98 and card["data"]["validation_images"] == 5000
    if card["command"].startswith("python scripts/combine.py --mix"):
        # networks of different trainings: each one's own train.py line, and as many origins as networks
        origins = card["members_from"]
        assert len(origins) == len(model.members) == len(card["member_validation_accuracy"])
        assert all(o["command"].startswith("python scripts/train.py") for o in origins)
        assert all(o["parent"]["command"].startswith("python scripts/train.py") for o in origins if o["parent"])
    else:
        assert card["command"].startswith("python scripts/train.py")


def test_shipped_folder_stays_small():
    assert sum(p.stat().st_size for p in MODEL_DIR.iterdir()) < 20_000_000


def test_predictions_are_probabilities(mnist_data):
    model, _ = load_model(MODEL_DIR)
    p = model.predict_proba(mnist_data.test.images[:50])
    assert p.shape == (50, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
