"""backend/testing/numbers.py: how a reading of a number missed (miss_kind), which the evaluation counts, and
numbers composed with a non-digit mark among their digits (compose_number's MARK), and numbers drawn in every
pen style (drawn_number)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.shapes import IMAGE_SIDE, N_INPUTS
from backend.recognition.preprocess import INK_THRESHOLD
from backend.recognition.segment import connected_components
from backend.testing.numbers import MARK, MISS_KINDS, compose_number, drawn_number, miss_kind


def test_a_right_reading_is_no_miss() -> None:
    assert miss_kind("2026", "2026", "2026") is None


@pytest.mark.parametrize(
    ("read", "guess", "kind"),
    [
        ("2?26", "2026", "unknown"),  # the only fault: a "?" on a digit the network guessed right
        ("2?26", "2826", "wrong digit"),  # a "?" whose guess is wrong too
        ("2086", "2086", "wrong digit"),
        ("20?26", "20126", "too many"),  # a digit cut in two, or a broken digit left as two
        ("226", "226", "too few"),  # touching digits read as one
        ("", "", "too few"),  # the picture refused
    ],
)
def test_each_kind_of_miss_is_told_apart(read: str, guess: str, kind: str) -> None:
    assert kind in MISS_KINDS
    assert miss_kind("2026", read, guess) == kind


def square(side: int) -> np.ndarray:
    """(784,) an outlined square of `side` pixels in the 28x28 grid: ink that no label says is a digit."""
    grid = np.zeros((IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32)
    top = (IMAGE_SIDE - side) // 2
    grid[top : top + side, top : top + side] = 1.0
    grid[top + 2 : top + side - 2, top + 2 : top + side - 2] = 0.0
    return grid.reshape(N_INPUTS)


def test_a_mark_among_the_digits_stands_as_a_question_mark_in_the_label() -> None:
    images = np.stack([square(20), square(16), square(12)])
    number = compose_number(images, np.array([7, MARK, 3]), np.random.default_rng(0))
    assert number.label == "7?3"
    assert number.ink.max() > 0.5 and len(number.touching) == 2


def test_without_a_mark_the_label_is_the_digits() -> None:
    images = np.stack([square(20), square(16)])
    number = compose_number(images, np.array([0, 9], dtype=np.uint8), np.random.default_rng(0))
    assert number.label == "09"


def test_a_drawn_number_is_reproducible_and_its_digits_stand_one_height_tall() -> None:
    # wide gaps by luck of the seed are not needed: only blobs as tall as a digit are looked at
    number = drawn_number("2047", np.random.default_rng(5))
    assert number.label == "2047" and len(number.touching) == 3
    assert number.ink.min() >= 0 and number.ink.max() <= 1
    assert np.array_equal(number.ink, drawn_number("2047", np.random.default_rng(5)).ink)
    _, blobs = connected_components(number.ink > INK_THRESHOLD)
    tall = [blob.height for blob in blobs if blob.height > 0.5 * max(b.height for b in blobs)]
    assert max(tall) <= 1.5 * min(tall)  # one size per number: each digit within +-15% of it, a 4's stem aside


def test_drawn_numbers_use_more_than_one_way_of_writing_a_digit() -> None:
    ones = [drawn_number("1", np.random.default_rng(seed)).ink for seed in range(12)]
    widths = [
        np.flatnonzero((ink > INK_THRESHOLD).any(axis=0)).size / np.flatnonzero((ink > INK_THRESHOLD).any(axis=1)).size for ink in ones
    ]
    assert max(widths) > 2 * min(widths)  # a bare stroke beside a 1 with a flag or a foot
