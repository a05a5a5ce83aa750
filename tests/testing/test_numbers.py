"""backend/testing/numbers.py: how a reading of a number missed (miss_kind), which the evaluation counts, and
numbers composed with a non-digit mark among their digits (compose_number's MARK), numbers drawn in every
pen style (drawn_number), and numbers written as strokes on the pad (pad_number) and drawn as pictures (pad_picture)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.shapes import IMAGE_SIDE, N_INPUTS
from backend.recognition.preprocess import INK_THRESHOLD
from backend.recognition.segment import connected_components
from backend.testing.numbers import MARK, MISS_KINDS, compose_number, drawn_number, miss_kind, pad_number, pad_picture


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


def columns_of(number, k: int) -> tuple[float, float]:
    xs = [x for stroke, owner in zip(number.strokes, number.owner) if owner == k for x, _ in stroke]
    return min(xs), max(xs)


@pytest.mark.parametrize("aspect", [1.0, 2.5])
def test_a_pad_number_is_reproducible_on_the_pad_and_its_digits_left_to_right(aspect: float) -> None:
    for seed in range(20):
        number = pad_number("31415926", np.random.default_rng(seed), aspect)
        again = pad_number("31415926", np.random.default_rng(seed), aspect)
        assert number.strokes == again.strokes and number.owner == again.owner
        assert number.label == "31415926" and len(number.strokes) == len(number.owner)
        assert sorted(set(number.owner)) == list(range(8)) and number.owner == sorted(number.owner)  # written left to right
        points = np.concatenate([np.asarray(stroke) for stroke in number.strokes])
        assert points[:, 0].min() >= 0 and points[:, 0].max() <= aspect and points[:, 1].min() >= 0 and points[:, 1].max() <= 1
        columns = [columns_of(number, k) for k in range(8)]
        assert [(a[0] + a[1]) < (b[0] + b[1]) for a, b in zip(columns, columns[1:])] == [True] * 7
        assert number.touching == [a[1] > b[0] for a, b in zip(columns, columns[1:])]


def test_pad_numbers_lean_touch_and_vary_in_size() -> None:
    numbers = [pad_number("11", np.random.default_rng(seed)) for seed in range(60)]
    assert 0 < sum(n.touching[0] for n in numbers) < 30  # about a tenth of the pairs share columns
    leans = [(s[-1][0] - s[0][0]) / (s[-1][1] - s[0][1]) for n in numbers for s in n.strokes if abs(s[-1][1] - s[0][1]) > 0.05]
    assert min(leans) < -0.2 and max(leans) > 0.2  # upright strokes lean either way
    heights = [max(y for s in n.strokes for _, y in s) - min(y for s in n.strokes for _, y in s) for n in numbers]
    assert max(heights) > 1.4 * min(heights)


def test_a_pad_picture_draws_each_digit_where_its_strokes_are_and_tells_which_inks_meet() -> None:
    met = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        number = pad_number("4711", rng)
        picture = pad_picture(number, rng)
        assert picture.label == "4711" and len(picture.touching) == 3
        assert picture.ink.min() >= 0 and picture.ink.max() == 1.0
        _, blobs = connected_components(picture.ink > INK_THRESHOLD)
        digit_tall = [blob for blob in blobs if blob.height > 0.5 * max(b.height for b in blobs)]
        assert 25 <= max(blob.height for blob in blobs) <= 140  # a digit 30 to 90 px tall, a slanted pair or the pen's width more
        if not any(picture.touching):
            assert len(digit_tall) >= 4  # inks apart: each digit its own blob (a 4 may be two)
        met += any(picture.touching)
    assert 0 < met < 30
