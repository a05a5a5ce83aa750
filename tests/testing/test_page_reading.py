"""backend/testing/page_reading.py: the page's grouping.js run under Node on pad numbers, and a group framed
as the page frames it."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.shapes import N_INPUTS
from backend.testing import page_reading
from backend.testing.numbers import pad_number
from backend.testing.page_reading import NodeMissingError, framed, group_on_page


def test_the_page_groups_pad_numbers_into_their_digits_in_one_run() -> None:
    numbers = [pad_number(label, np.random.default_rng(seed)) for seed, label in enumerate(["2026", "47", "358190", "1111"])]
    read = group_on_page([number.strokes for number in numbers])
    assert len(read) == len(numbers)
    for number, page in zip(numbers, read):
        assert [[number.owner[i] for i in group] for group in page.groups] == [
            [k] * number.owner.count(k) for k in range(len(number.label))
        ], number.label
        assert len(page.fitted) == len(page.groups)


def test_a_fitted_group_is_framed_into_784_pixels_with_ink() -> None:
    (page,) = group_on_page([pad_number("7", np.random.default_rng(3)).strokes])
    pixels = framed(page.fitted[0])
    assert pixels.shape == (N_INPUTS,) and pixels.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 1 and pixels.sum() > 30


def test_without_node_the_page_cannot_be_run_and_says_so(monkeypatch) -> None:
    monkeypatch.setattr(page_reading.shutil, "which", lambda name: None)
    with pytest.raises(NodeMissingError, match="Node.js is needed"):
        group_on_page([[[(0.1, 0.1), (0.1, 0.5)]]])
