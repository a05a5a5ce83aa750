"""The "how it learned" data: figures copied from the cards, mistakes as the model makes them, and the
committed page data in step with the committed cards."""

import base64
import json

import numpy as np
import pytest

from backend.nn.model import Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.weights import load_model
from backend.recognition.learning import LEARNED_JSON, PRESET_FOLDERS, SHIPPED_PRESET, how_it_learned, mistakes, preset_summary


def test_a_summary_copies_the_cards_figures_and_history():
    card = {
        "name": "mnist-mlp-fast",
        "preset": "fast",
        "members": [{"layer_sizes": [784, 50, 10], "activation": "relu", "output_activation": "softmax"}],
        "training": {
            "cost": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "epochs": 2,
            "augment": {"rotation_deg": 8.0},
        },
        "validation_accuracy": 0.97,
        "test_accuracy": 0.965,
        "history": [{"member": 0, "epoch": 1, "train_loss": 0.3}],
    }
    summary = preset_summary(card)
    assert (summary["layer_sizes"], summary["optimizer"], summary["learning_rate"]) == ([784, 50, 10], "sgd", 0.1)
    assert (summary["validation_accuracy"], summary["test_accuracy"], summary["augmented"]) == (0.97, 0.965, True)
    assert summary["history"] == card["history"]


def test_a_card_without_history_says_none_rather_than_inventing_one():
    summary = preset_summary({"name": "old", "members": [{}]})
    assert summary["history"] is None and summary["test_accuracy"] is None and summary["epochs"] is None
    assert summary["parent"] is None  # not a fine-tune


def test_a_fine_tunes_summary_names_what_it_started_from():
    parent = {"model_id": "mlp-0123456789ab", "command": "python scripts/train.py", "epochs": 250, "training_wall_time_s": 6423.2}
    summary = preset_summary({"name": "tuned", "members": [{}], "training": {"epochs": 8}, "parent": parent})
    assert summary["epochs"] == 8  # the fine-tune's own
    assert summary["parent"]["model_id"] == "mlp-0123456789ab" and summary["parent"]["epochs"] == 250
    assert summary["parent"]["training_wall_time_s"] == 6423.2 and "command" not in summary["parent"]


def test_a_mixed_ensembles_summary_gives_each_members_origin():
    tuned = {
        "seed": 11,
        "epochs": 8,
        "learning_rate": 0.001,
        "command": "python scripts/train.py --init-from x",
        "drawn_digits": {"trained_on": 6000},
    }
    tuned["parent"] = {"model_id": "mlp-0123456789ab", "epochs": 250, "command": "python scripts/train.py"}
    joint = {"seed": 22, "epochs": 200, "parent": None, "drawn_digits": {"trained_on": 6000}, "number_pieces": {"trained_on": 15000}}
    summary = preset_summary({"name": "mixed", "members": [{}, {}], "training": {"epochs": 8}, "members_from": [tuned, joint]})
    first, second = summary["members_from"]
    assert (first["seed"], first["epochs"], first["learning_rate"], first["parent"]["epochs"]) == (11, 8, 0.001, 250)
    assert (first["drawn_digits"], first["number_pieces"]) == (True, False)
    assert (second["seed"], second["epochs"], second["parent"], second["number_pieces"]) == (22, 200, None, True)
    assert "command" not in first and summary["parent"] is None
    assert preset_summary({"name": "plain", "members": [{}]})["members_from"] is None


def test_mistakes_are_the_wrong_answers_most_confident_first(mnist_data):
    net = Network.initialise(NetworkConfig((784, 16, 10)), np.random.default_rng(1))
    model = Model([net])
    images, labels = mnist_data.test.images[:200], mnist_data.test.labels[:200]
    found = mistakes(model, images, labels)
    proba = model.predict_proba(images)
    assert sorted(m["index"] for m in found) == np.flatnonzero(proba.argmax(axis=1) != labels).tolist()
    confidences = [m["confidence"] for m in found]
    assert confidences == sorted(confidences, reverse=True)
    first = found[0]
    assert first["answer"] == int(proba[first["index"]].argmax()) != first["truth"] == int(labels[first["index"]])
    pixels = np.frombuffer(base64.b64decode(first["pixels"]), dtype=np.uint8)
    np.testing.assert_array_equal(pixels, np.round(images[first["index"]] * 255).astype(np.uint8))


def test_the_shipped_preset_is_required(mnist_data):
    with pytest.raises(ValueError, match="the 'best' preset \\(the shipped model\\) is needed"):
        how_it_learned(mnist_data.test.images[:10], mnist_data.test.labels[:10], {"classic": PRESET_FOLDERS["classic"]})


def test_the_committed_page_data_matches_the_committed_cards():
    data = json.loads(LEARNED_JSON.read_text())
    assert [p["preset"] for p in data["presets"]] == list(PRESET_FOLDERS)
    for preset in data["presets"]:
        _, card = load_model(PRESET_FOLDERS[preset["preset"]])
        assert {k: v for k, v in preset.items() if k != "folder"} == preset_summary(card)
    _, shipped = load_model(PRESET_FOLDERS[SHIPPED_PRESET])
    assert data["test_confusion"] == shipped["test_confusion"]
    wrong = sum(count for t, row in enumerate(shipped["test_confusion"]) for a, count in enumerate(row) if t != a)
    assert len(data["mistakes"]) == wrong and data["test_images"] == 10000
    # classic and fast were retrained with a history; best joins networks of two trainings, each with its own rows
    assert [p["history"] is not None for p in data["presets"]] == [True, True, True]
    assert [p["members_from"] is not None for p in data["presets"]] == [False, False, True]
