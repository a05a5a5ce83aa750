"""How a model learned, for people: each preset's figures and learning curve from its card, and the test
digits the shipped model gets wrong.

Every number comes from a model card (written by scripts/train.py) or from running the model on the
MNIST test set here; nothing is estimated or filled in. A card without a per-epoch history (the shipped
ensemble was trained before the trainer kept one) gives `history: None`, which the page shows as
missing. scripts/evaluate.py --how-it-learned writes the result as JSON for frontend/how.html.
What this module leaves out: plotting (the script) and drawing (the page).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np

from backend.nn.metrics import predict_in_batches
from backend.nn.model import Model
from backend.nn.weights import load_model
from backend.paths import FRONTEND_DIR, MODEL_DIR

# where each preset's trained model lives: the shipped ensemble at the top, the others by name
PRESET_FOLDERS: dict[str, Path] = {"classic": MODEL_DIR / "classic", "fast": MODEL_DIR / "fast", "best": MODEL_DIR}
SHIPPED_PRESET = "best"
LEARNED_JSON = FRONTEND_DIR / "data" / "how-it-learned.json"  # what the page reads


def preset_summary(card: dict[str, Any]) -> dict[str, Any]:
    """The figures the page shows for one model, copied from its card (None where the card has none)."""
    training = card.get("training") or {}
    optimizer = training.get("optimizer") or {}
    first = (card.get("members") or [{}])[0]
    augment = training.get("augment") or {}
    return {
        "name": card.get("name"),
        "preset": card.get("preset"),
        "model_id": card.get("model_id"),
        "layer_sizes": first.get("layer_sizes"),
        "members": len(card.get("members") or []),
        "activation": first.get("activation"),
        "output_activation": first.get("output_activation"),
        "cost": training.get("cost"),
        "optimizer": optimizer.get("name"),
        "learning_rate": optimizer.get("learning_rate"),
        "epochs": training.get("epochs"),
        "batch_size": training.get("batch_size"),
        "dropout": training.get("dropout"),
        "augmented": bool(augment) and any(augment.get(k) for k in ("rotation_deg", "scale", "shear", "shift_px", "elastic_alpha")),
        "n_parameters": card.get("n_parameters"),
        "best_epochs": card.get("best_epochs"),
        "validation_accuracy": card.get("validation_accuracy"),
        "test_accuracy": card.get("test_accuracy"),
        "training_wall_time_s": card.get("training_wall_time_s"),
        "history": card.get("history"),
        "history_measured": card.get("history_measured"),
        "command": card.get("command"),
        "parent": parent_summary(card.get("parent")),
        "members_from": [origin_summary(origin) for origin in card["members_from"]] if card.get("members_from") else None,
    }


def parent_summary(parent: dict[str, Any] | None) -> dict[str, Any] | None:
    """For a fine-tuned model, the training it started from (scripts/train.py --init-from writes `parent`)."""
    if not parent:
        return None
    return {key: parent.get(key) for key in ("model_id", "epochs", "training_wall_time_s", "validation_accuracy", "test_accuracy")}


def origin_summary(origin: dict[str, Any]) -> dict[str, Any]:
    """For one network of an ensemble joined from different trainings (scripts/combine.py --mix writes
    `members_from`): its seed, its own epochs, what it was fine-tuned from, what was mixed into its data."""
    return {
        "seed": origin.get("seed"),
        "epochs": origin.get("epochs"),
        "learning_rate": origin.get("learning_rate"),
        "parent": parent_summary(origin.get("parent")),
        "drawn_digits": bool((origin.get("drawn_digits") or {}).get("trained_on")),
        "number_pieces": bool((origin.get("number_pieces") or {}).get("trained_on")),
        "validation_accuracy": origin.get("validation_accuracy"),
    }


def mistakes(model: Model, images: np.ndarray, labels: np.ndarray) -> list[dict[str, Any]]:
    """The test digits the model gets wrong, most confidently wrong first.

    images (N, 784) in [0, 1], labels (N,). Each: index in the test set, truth, answer, the answer's
    probability, and the 28x28 picture as base64 of 784 bytes (0-255, row by row).
    """
    proba = predict_in_batches(model.predict_proba, images)  # (N, 10)
    answers = proba.argmax(axis=1)
    wrong = np.flatnonzero(answers != labels)
    confidence = proba[wrong, answers[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")]
    return [
        {
            "index": int(i),
            "truth": int(labels[i]),
            "answer": int(answers[i]),
            "confidence": round(float(proba[i, answers[i]]), 4),
            "pixels": base64.b64encode(np.round(images[i] * 255).astype(np.uint8).tobytes()).decode("ascii"),
        }
        for i in order
    ]


def how_it_learned(images: np.ndarray, labels: np.ndarray, folders: dict[str, Path] | None = None) -> dict[str, Any]:
    """The page's data: every preset's summary, the shipped model's test confusion matrix and its mistakes."""
    folders = folders or PRESET_FOLDERS
    presets, shipped = [], None
    for preset, folder in folders.items():
        model, card = load_model(folder)
        presets.append({"folder": _relative(folder), **preset_summary(card)})
        if preset == SHIPPED_PRESET:
            shipped = (model, card)
    if shipped is None:
        raise ValueError(f"the {SHIPPED_PRESET!r} preset (the shipped model) is needed, got {sorted(folders)}")
    model, card = shipped
    return {
        "shipped": SHIPPED_PRESET,
        "presets": presets,
        "test_confusion": card.get("test_confusion"),
        "test_images": len(labels),
        "mistakes": mistakes(model, images, labels),
    }


def _relative(folder: Path) -> str:
    try:
        return str(folder.resolve().relative_to(MODEL_DIR.parent.resolve()))
    except ValueError:
        return str(folder)
