"""Fitting the rejector (openset_training): positives made afresh each epoch, and how the confidence floor is
chosen on validation digits (confidence_floor): the lowest floor that reaches the accuracy target on the
accepted digits, unless that turns away too many."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.shapes import N_INPUTS
from backend.recognition.openset import PIXELS
from backend.recognition.openset_training import RejectorRecipe, confidence_floor, train_rejector


def calibrated_rows(confidences: list[float], predicted: list[int]) -> np.ndarray:
    """(M, 10) probabilities whose max is each confidence, at each predicted digit."""
    rows = np.zeros((len(confidences), 10))
    for i, (c, d) in enumerate(zip(confidences, predicted)):
        rows[i] = (1 - c) / 9
        rows[i, d] = c
    return rows


# ten digits, all labelled 0: the two least confident are read wrong (as 1)
CONFIDENCES = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99]
PREDICTED = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
LABELS = np.zeros(10, dtype=int)


def test_the_floor_is_the_lowest_confidence_that_reaches_the_accuracy_target():
    floor = confidence_floor(np.ones(10, bool), calibrated_rows(CONFIDENCES, PREDICTED), LABELS, accuracy_target=1.0, accept_target=0.5)
    assert floor == pytest.approx(0.6)
    assert confidence_floor(np.ones(10, bool), calibrated_rows(CONFIDENCES, PREDICTED), LABELS, 0.85, 0.5) == pytest.approx(0.5)


def test_the_floor_never_turns_away_more_than_the_acceptance_target_allows():
    # 100% right needs the floor at 0.6 (80% accepted); at least 90% must be accepted, so it stops at 0.5
    floor = confidence_floor(np.ones(10, bool), calibrated_rows(CONFIDENCES, PREDICTED), LABELS, accuracy_target=1.0, accept_target=0.9)
    assert floor == pytest.approx(0.5)


def test_digits_the_rejector_already_turned_away_count_against_acceptance():
    passed = np.array([True] * 9 + [False])  # 90% pass the rejector: a floor above the lowest confidence would refuse more
    floor = confidence_floor(passed, calibrated_rows(CONFIDENCES, PREDICTED), LABELS, accuracy_target=1.0, accept_target=0.9)
    assert floor == pytest.approx(0.4)
    assert confidence_floor(passed, calibrated_rows(CONFIDENCES, PREDICTED), LABELS, accuracy_target=1.0, accept_target=0.95) == 0.0


def test_fresh_positives_are_made_every_epoch_and_learned_as_digits():
    """train_rejector asks fresh_positives for fresh_share of each epoch's positives, and they count as digits:
    the pool holds only top-half pictures, the fresh ones only bottom-half ones, so the rejector must accept both."""
    rng = np.random.default_rng(0)

    def half(n: int, top: bool, seed: int) -> np.ndarray:
        images = (np.random.default_rng(seed).random((n, N_INPUTS)) > 0.8).astype(np.float32).reshape(n, 28, 28)
        images[:, 10:] = 0.0 if top else images[:, 10:]
        images[:, :18] = images[:, :18] if top else 0.0
        return images.reshape(n, N_INPUTS)

    asked: list[int] = []

    def fresh(n: int, epoch_rng: np.random.Generator) -> np.ndarray:
        asked.append(n)
        return half(n, False, int(epoch_rng.integers(1_000)))

    negatives = (rng.random((600, N_INPUTS)) > 0.97).astype(np.float32)  # sparse dots all over: neither half
    recipe = RejectorRecipe(
        inputs=PIXELS, hidden=(16,), epochs=4, per_class=400, batch_size=50, learning_rate=3e-3, dropout=0.0, fresh_share=0.5
    )
    net = train_rejector(recipe, half(600, True, 1), negatives, fresh_positives=fresh)
    assert asked == [200] * 4
    scores = net.predict_proba(np.concatenate([half(100, False, 5), half(100, True, 6)]))[:, 0]
    assert (scores > 0.5).mean() >= 0.9
    assert (net.predict_proba((rng.random((100, N_INPUTS)) > 0.97).astype(np.float32))[:, 0] < 0.5).mean() >= 0.9
