"""The served model in memory: the network, its card, and one predict function over a matrix.

The weights are read and checked by `load_served_model`, at start-up and when the repository
(repository.py) swaps in new weights; a ServedModel never changes once made, so a request keeps the
one it started with. What this module leaves out: parsing requests (payloads.py, images.py), which
models there are (repository.py) and HTTP (routes/).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.nn.model import Model
from backend.nn.shapes import N_CLASSES, N_INPUTS
from backend.nn.weights import WeightsError, load_model
from backend.service.telemetry import PREDICTIONS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Predictions:
    """One row per image: probabilities (B, 10) float32, digits (B,) int64, confidences (B,) float32."""

    probabilities: np.ndarray
    digits: np.ndarray
    confidences: np.ndarray

    def as_dicts(self) -> list[dict[str, Any]]:
        """[{"digit", "confidence", "probabilities"}] per image, ready for orjson.

        Probabilities and confidence stay NumPy float32, which orjson writes in their shortest float32
        form (0.9989974, not 0.9989973902702332), so the confidence reads the same as its probability.
        """
        return [
            {"digit": digit, "confidence": confidence, "probabilities": row}
            for digit, confidence, row in zip(self.digits.tolist(), self.confidences, self.probabilities)
        ]


@dataclass(frozen=True)
class ServedModel:
    model: Model
    card: dict[str, Any]

    @property
    def model_id(self) -> str:
        return str(self.card.get("model_id", "unknown"))

    def predict(self, images: np.ndarray) -> Predictions:
        """Classify images (B, 784) float32 in [0, 1] (how the model goes about it: backend/nn/model.py)."""
        assert images.ndim == 2 and images.shape[1] == N_INPUTS, f"expected (B, {N_INPUTS}), got {images.shape}"
        probabilities = self.model.predict_proba(images)
        digits = probabilities.argmax(axis=1)
        confidences = probabilities[np.arange(len(digits)), digits]
        PREDICTIONS.count(digits)
        return Predictions(probabilities, digits, confidences)


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
    return ServedModel(model, card)
