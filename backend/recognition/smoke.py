"""A smoke test for new weights: a small built-in sample of MNIST digits that a model must still score.

Before the service swaps in new weights (hot reload, backend/service/repository.py) it checks that the
network still recognises digits, not just that the file loads: on SMOKE_FILE, 300 digits of MNIST's
validation split stored as uint8 (about 60 kB), it must score at least its card's validation accuracy
minus SMOKE_MARGIN. The sample comes from the validation split, as model checks here always do (the
test set is for reporting only); `make_smoke_sample` rebuilds it. What this module leaves out: loading
the weights and their own checks (backend/nn/weights.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.nn.mnist import Split
from backend.nn.model import Model
from backend.nn.shapes import N_INPUTS

SMOKE_FILE = Path(__file__).with_name("smoke_digits.npz")
SMOKE_SIZE = 300
# 300 digits estimate an accuracy near 0.95 to within about 1.3 points (one standard error), so a
# model as good as its card stays clear of a 5-point margin, while a broken or wrong one falls far below
SMOKE_MARGIN = 0.05


@dataclass(frozen=True)
class SmokeResult:
    accuracy: float
    required: float

    @property
    def passed(self) -> bool:
        return self.accuracy >= self.required


def make_smoke_sample(validation: Split, size: int = SMOKE_SIZE, seed: int = 0) -> dict[str, np.ndarray]:
    """`size` digits drawn at random from the validation split: images (size, 784) uint8 0-255, labels (size,) uint8."""
    rows = np.random.default_rng(seed).choice(len(validation), size=size, replace=False)
    images = np.round(validation.images[rows] * 255).astype(np.uint8)
    return {"images": images, "labels": validation.labels[rows].astype(np.uint8)}


def load_smoke_sample(path: Path = SMOKE_FILE) -> tuple[np.ndarray, np.ndarray]:
    """The sample as images (N, 784) float32 in [0, 1] and labels (N,) int64."""
    with np.load(path, allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
    assert images.ndim == 2 and images.shape[1] == N_INPUTS and len(labels) == len(images), f"{path}: unexpected shapes"
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)


def smoke_test(model: Model, card_accuracy: float, sample: tuple[np.ndarray, np.ndarray] | None = None) -> SmokeResult:
    """Score `model` on the sample; it passes at card_accuracy - SMOKE_MARGIN or better."""
    images, labels = sample if sample is not None else load_smoke_sample()
    accuracy = float((model.predict_proba(images).argmax(axis=1) == labels).mean())
    return SmokeResult(accuracy, card_accuracy - SMOKE_MARGIN)
