"""segment_number with the open-set rejector's P(digit): touching digits that read as one digit are split."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.openset import PieceReader, load_open_set
from backend.recognition.segment import segment_number
from backend.testing.numbers import written_number
from backend.testing.strokes import DIGITS, rasterise


@pytest.fixture(scope="module")
def parts():
    return load_model(MODEL_DIR)[0], load_open_set(MODEL_DIR)


def read(ink: np.ndarray, model, open_set) -> str:
    """The number segment_number reads in ink, scoring pieces with open_set's rejector (None: without one)."""
    reader = PieceReader(model, open_set)
    found = segment_number(ink, reader.classify, reader.digit_score if open_set is not None else None)
    return "".join(str(int(p.argmax())) for p in model.predict_proba(np.stack([d.pixels for d in found])))


@pytest.mark.parametrize("label", ["77", "83", "88"])
def test_touching_digits_read_as_one_are_split_when_the_rejector_scores_the_pieces(parts, label) -> None:
    model, open_set = parts
    ink = written_number(label, shape=(200, 300), gap=-12)  # the second digit's ink runs into the first's
    assert len(read(ink, model, None)) == 1  # confidence alone keeps the pair as one digit
    assert read(ink, model, open_set) == label


@pytest.mark.parametrize("digit", [0, 8])
def test_one_wide_digit_is_not_cut_in_two_by_the_rejector(parts, digit) -> None:
    model, open_set = parts
    ink = rasterise(DIGITS[digit], 200, 300, (40, 30, 150, 130), 7)  # wider than its height's usual digit
    assert read(ink, model, open_set) == str(digit)


@pytest.mark.parametrize(("label", "gap"), [("56", -20), ("21", -16)])
def test_a_deeply_touching_pair_the_network_reads_as_one_digit_is_split_by_the_rejector(parts, label, gap) -> None:
    # run far into each other, the pair reads as one fairly confident digit (an 8, a 2): only P(digit),
    # weighed well above the confidence, tells that the whole is no digit and its pieces are
    model, open_set = parts
    ink = written_number(label, shape=(200, 300), gap=gap)
    assert len(read(ink, model, None)) == 1
    assert read(ink, model, open_set) == label
