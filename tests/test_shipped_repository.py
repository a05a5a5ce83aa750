"""The committed model repository (model_weights/): the named models it must hold, each what its card
says and fit to be swapped in (it passes the reload smoke test), and all of it under 25 MB."""

import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.evaluation import score_test_set
from backend.recognition.smoke import smoke_test
from backend.service.repository import find_models

MODELS = find_models(MODEL_DIR, "mnist")


def test_the_repository_holds_the_default_and_the_named_models():
    assert list(MODELS)[0] == "mnist" and MODELS["mnist"] == MODEL_DIR
    assert {"classic", "fast"} <= set(MODELS)


def test_the_repository_stays_under_25_mb():
    assert sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file()) < 25_000_000


@pytest.mark.parametrize("name", sorted(set(MODELS) - {"mnist"}))
def test_each_named_model_scores_what_its_card_says_and_passes_the_smoke_test(mnist_data, name):
    model, card = load_model(MODELS[name])
    report = score_test_set(model, mnist_data.test.images, mnist_data.test.labels)
    assert abs(report["accuracy"] - card["test_accuracy"]) <= 0.001
    assert smoke_test(model, card["validation_accuracy"]).passed
    assert card["command"].startswith("python scripts/train.py --preset")
