"""backend/testing/numbers.py: how a reading of a number missed (miss_kind), which the evaluation counts."""

from __future__ import annotations

import pytest

from backend.testing.numbers import MISS_KINDS, miss_kind


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
