"""Accuracy and the confusion matrix, computed in batches so memory stays flat for any N."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .shapes import N_CLASSES


def predict_in_batches(predict_proba: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch: int = 2000) -> np.ndarray:
    """Probabilities (N, 10) for inputs (N, 784)."""
    return np.concatenate([predict_proba(x[i : i + batch]) for i in range(0, len(x), batch)])


def predict_labels(predict_proba: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Most likely digit per row: (N, 784) -> (N,)."""
    return predict_in_batches(predict_proba, x).argmax(axis=1)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """counts[true, predicted], shape (10, 10)."""
    counts = np.zeros((N_CLASSES, N_CLASSES), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(labels == predicted))
