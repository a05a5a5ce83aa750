"""The committed rejector (model_weights/rejector.*) belongs to the committed digit model, loads checked,
and does what its card says on data it was never fitted on."""

import json

import numpy as np

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.negatives import make_negatives
from backend.recognition.openset import hidden_width, load_open_set
from backend.recognition.openset_training import judge


def test_the_rejector_card_names_the_shipped_digit_model_and_its_recipe():
    _, card = load_model(MODEL_DIR)
    rejector_card = json.loads((MODEL_DIR / "rejector.json").read_text())
    assert rejector_card["digit_model_id"] == card["model_id"]
    assert rejector_card["command"].startswith("python scripts/train_rejector.py")
    assert rejector_card["recipe"]["seed"] == 0 and rejector_card["negatives"]["held_out_fonts"]
    assert 0 < rejector_card["temperature"] < 5


def test_the_model_folder_stays_under_25_mb():
    assert sum(p.stat().st_size for p in MODEL_DIR.iterdir()) < 25_000_000


def test_test_digits_are_accepted_and_held_out_drawings_turned_away(mnist_data):
    model, card = load_model(MODEL_DIR)
    open_set = load_open_set(MODEL_DIR, digit_model_id=card["model_id"], hidden_width=hidden_width(model))
    digits = judge(model, open_set, mnist_data.test.images)
    assert digits.accepted.mean() >= 0.99
    # 99.49% in the README (the issue's 99.6% is missed there); a rejector that lets digits' misreadings through falls below
    assert (digits.predicted == mnist_data.test.labels)[digits.accepted].mean() >= 0.994
    others = make_negatives(600, "report", seed=5, digits=mnist_data.test.images)
    assert (~judge(model, open_set, others.images).accepted).mean() >= 0.75  # 92.3% on the README's 3,000
    np.testing.assert_allclose(digits.calibrated.sum(axis=1), 1.0, rtol=1e-5)
