"""Scoring a model on MNIST: test accuracy, the confusion matrix, and robustness to how people draw.

Robustness re-draws every test digit the way a person might (moved, smaller or larger, tilted, with a
thinner or thicker pen) on a roomy 56x56 canvas, then frames it with the same `ink_to_mnist` step the
page and `/predict/image` apply, and scores the model on the result. The `*_uncentred` variants skip
that framing step, to show what the centring is worth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.nn.augment import affine_source_coordinates, bilinear_sample, dilate, erode
from backend.nn.metrics import accuracy, confusion_matrix, predict_labels
from backend.nn.model import Model
from backend.nn.shapes import IMAGE_SIDE, N_INPUTS
from backend.recognition.preprocess import EmptyImageError, ink_to_mnist

CANVAS = 56  # room around the digit so that moving or growing it loses no ink


@dataclass(frozen=True)
class Distortion:
    name: str
    shift: tuple[float, float] = (0.0, 0.0)  # pixels (down, right)
    scale: float = 1.0
    rotation_deg: float = 0.0
    stroke: str = ""  # "thinner", "thicker" or ""
    recentre: bool = True


DISTORTIONS = (
    Distortion("shifted_4px", shift=(4.0, -4.0)),
    Distortion("shifted_4px_uncentred", shift=(4.0, -4.0), recentre=False),
    Distortion("scaled_0.6", scale=0.6),
    Distortion("scaled_1.3", scale=1.3),
    Distortion("rotated_+15", rotation_deg=15.0),
    Distortion("rotated_-15", rotation_deg=-15.0),
    Distortion("thinner_stroke", stroke="thinner"),
    Distortion("thicker_stroke", stroke="thicker"),
)


def score_test_set(model: Model, images: np.ndarray, labels: np.ndarray) -> dict:
    """{'accuracy', 'n', 'confusion'} for images (N, 784) and labels (N,)."""
    predicted = predict_labels(model.predict_proba, images)
    return {
        "accuracy": accuracy(labels, predicted),
        "n": int(len(labels)),
        "confusion": confusion_matrix(labels, predicted).tolist(),
    }


def robustness_report(model: Model, images: np.ndarray, labels: np.ndarray, distortions=DISTORTIONS) -> dict[str, float]:
    """Accuracy on each distorted copy of the test set, keyed by distortion name."""
    return {d.name: accuracy(labels, predict_labels(model.predict_proba, distort(images, d))) for d in distortions}


def distort(images: np.ndarray, d: Distortion) -> np.ndarray:
    """Images (N, 784) -> distorted and (unless d.recentre is False) re-framed images (N, 784)."""
    n = len(images)
    canvas = np.zeros((n, CANVAS, CANVAS), dtype=np.float32)
    offset = (CANVAS - IMAGE_SIDE) // 2
    field = slice(offset, offset + IMAGE_SIDE)
    canvas[:, field, field] = images.reshape(n, IMAGE_SIDE, IMAGE_SIDE)
    canvas = _affine(canvas, d)
    if d.stroke == "thinner":
        canvas = erode(canvas)
    elif d.stroke == "thicker":
        canvas = dilate(canvas)
    if not d.recentre:
        return canvas[:, field, field].reshape(n, N_INPUTS)
    return np.stack([_frame(img) for img in canvas])


def _frame(ink: np.ndarray) -> np.ndarray:
    try:
        return ink_to_mnist(ink)
    except EmptyImageError:  # a stroke thinned away to nothing: the model sees an empty field
        return np.zeros(N_INPUTS, dtype=np.float32)


def _affine(canvas: np.ndarray, d: Distortion) -> np.ndarray:
    """Rotate and scale about the canvas centre, then shift; bilinear resampling."""
    same = np.ones(len(canvas), dtype=np.float32)
    rows, cols = affine_source_coordinates(
        CANVAS,
        same * np.float32(np.deg2rad(d.rotation_deg)),
        same * d.scale,
        same * d.scale,
        same * 0,
        same * d.shift[0],
        same * d.shift[1],
    )
    return bilinear_sample(canvas, rows, cols)
