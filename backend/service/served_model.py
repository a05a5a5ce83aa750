"""The served model in memory: the network, its card, its open-set parts, and one predict function over a matrix.

The weights are read and checked by `load_served_model`, at start-up and when the repository
(repository.py) swaps in new weights; a ServedModel never changes once made, so a request keeps the
one it started with. Beside model.npz, rejector.npz/.json (backend/recognition/openset.py) calibrate
the probabilities and say whether each picture is a digit at all; a folder without them serves
uncalibrated probabilities and calls every picture with ink a digit (logged at load). What this module
leaves out: parsing requests (payloads.py, images.py), which models there are (repository.py) and
HTTP (routes/).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.nn.model import Model
from backend.nn.shapes import N_CLASSES, N_INPUTS
from backend.nn.weights import WeightsError, load_model
from backend.recognition.openset import OpenSet, has_open_set, hidden_width, load_open_set
from backend.service.telemetry import COMPUTE, PREDICTIONS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Predictions:
    """One row per image: probabilities (B, 10) float32, digits (B,) int64, confidences (B,) float32,
    is_digit (B,) bool (False: the picture does not look like a digit; digit is then only the best guess)."""

    probabilities: np.ndarray
    digits: np.ndarray
    confidences: np.ndarray
    is_digit: np.ndarray

    def as_dicts(self) -> list[dict[str, Any]]:
        """[{"digit", "confidence", "probabilities", "is_digit"}] per image, ready for orjson.

        Probabilities and confidence stay NumPy float32, which orjson writes in their shortest float32
        form (0.9989974, not 0.9989973902702332), so the confidence reads the same as its probability.
        """
        return [
            {"digit": digit, "confidence": confidence, "probabilities": row, "is_digit": is_digit}
            for digit, confidence, row, is_digit in zip(self.digits.tolist(), self.confidences, self.probabilities, self.is_digit.tolist())
        ]


@dataclass(frozen=True)
class ServedModel:
    model: Model
    card: dict[str, Any]
    open_set: OpenSet | None = None

    @property
    def model_id(self) -> str:
        return str(self.card.get("model_id", "unknown"))

    def predict(self, images: np.ndarray) -> Predictions:
        """Classify images (B, 784) float32 in [0, 1] (how the model goes about it: backend/nn/model.py)."""
        assert images.ndim == 2 and images.shape[1] == N_INPUTS, f"expected (B, {N_INPUTS}), got {images.shape}"
        started = time.thread_time_ns()
        if self.open_set is None:
            probabilities = self.model.predict_proba(images)
            is_digit = images.any(axis=1)
        else:
            # a rejector reading the model's hidden layers gets them from the pass that classifies
            probabilities, hidden = (
                self.model.predict_proba_and_hidden(images) if self.open_set.needs_hidden else (self.model.predict_proba(images), None)
            )
            probabilities = self.open_set.calibrate(probabilities)
            is_digit = self.open_set.is_digit(images, probabilities, hidden, self.model)
        digits = probabilities.argmax(axis=1)
        confidences = probabilities[np.arange(len(digits)), digits]
        COMPUTE.add(self.model_id, time.thread_time_ns() - started, len(images))
        PREDICTIONS.count(digits)
        return Predictions(probabilities, digits, confidences, is_digit)


def load_served_model(model_dir: Path) -> ServedModel:
    """Load and check the weights in `model_dir`; raise WeightsError naming the file if unusable.

    Beyond load_model's own checks (hash, shapes, finite values), one forward pass must give rows of
    10 probabilities summing to 1: a model that loads but computes nonsense is not served either.
    """
    model, card = load_model(model_dir)
    probe = np.zeros((2, N_INPUTS), dtype=np.float32)
    probe[1, ::7] = 1.0
    probabilities = model.predict_proba(probe)
    if (
        probabilities.shape != (2, N_CLASSES)
        or not np.isfinite(probabilities).all()
        or not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)
    ):
        raise WeightsError(f"{Path(model_dir) / 'model.npz'}: the loaded network does not output probabilities")
    logger.info("model %s loaded from %s (%d parameters)", card.get("model_id"), model_dir, model.n_parameters)
    if not has_open_set(model_dir):
        logger.warning("no rejector in %s: probabilities are not calibrated and every picture with ink counts as a digit", model_dir)
        return ServedModel(model, card)
    open_set = load_open_set(model_dir, digit_model_id=card.get("model_id"), hidden_width=hidden_width(model))
    logger.info("open set: temperature %.3f, P(digit) threshold %.4f", open_set.temperature, open_set.threshold)
    return ServedModel(model, card, open_set)
