"""The non-digit drawings (negatives.py, sketches.py): framed like MNIST, reproducible, and split so the
report set holds fonts, shapes and seeds the training and validation sets never see."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.shapes import N_INPUTS
from backend.recognition import negatives
from backend.recognition.negatives import (
    HELD_OUT_FONTS,
    HELD_OUT_SHAPES,
    KINDS,
    TRAIN_FONTS,
    TRAIN_SHAPES,
    FontsMissingError,
    fonts_for,
    make_drawn_digits,
    make_drawn_digits_by_source,
    make_negatives,
)
from backend.recognition.preprocess import centre_of_mass
from backend.recognition.sketches import DIGIT_LIKE, LETTERS, SHAPES


@pytest.fixture(scope="module")
def digits(mnist_data) -> np.ndarray:
    return mnist_data.validation.images[:200]


def test_negatives_are_framed_like_mnist_digits(digits):
    drawn = make_negatives(60, "train", seed=1, digits=digits)
    assert drawn.images.shape == (60, N_INPUTS) and drawn.images.dtype == np.float32
    assert drawn.images.min() >= 0 and drawn.images.max() <= 1
    for image in drawn.images:
        field = image.reshape(28, 28)
        assert field.max() > 0.5  # real ink, not a faint smear
        rows, cols = centre_of_mass(field)
        assert abs(rows - 14) < 2.5 and abs(cols - 14) < 2.5  # centred by ink_to_mnist, as the page does


def test_every_kind_is_made_and_named(digits):
    drawn = make_negatives(100, "train", seed=2, digits=digits)
    assert set(drawn.kind_of(1)) == {kind.name for kind in KINDS}
    assert len(drawn.labels) == 100


def test_the_same_seed_draws_the_same_set_and_splits_differ(digits):
    first = make_negatives(30, "validation", seed=3, digits=digits)
    again = make_negatives(30, "validation", seed=3, digits=digits)
    other = make_negatives(30, "train", seed=3, digits=digits)
    np.testing.assert_array_equal(first.images, again.images)
    assert first.labels == again.labels
    assert not np.array_equal(first.images, other.images)


def test_the_report_split_uses_only_held_out_fonts_and_shapes(digits):
    report = make_negatives(200, "report", seed=0, digits=digits)
    train = make_negatives(200, "train", seed=0, digits=digits)
    held_out_fonts = {name.rsplit(".", 1)[0] for name in HELD_OUT_FONTS}
    train_fonts = {name.rsplit(".", 1)[0] for name in TRAIN_FONTS}
    for drawn, fonts, shapes in ((report, held_out_fonts, set(HELD_OUT_SHAPES)), (train, train_fonts, set(TRAIN_SHAPES))):
        details = drawn.kind_of(2)
        assert {d.split("/")[1] for d in details if d.startswith("font_letters/")} <= fonts
        assert {d.split("/")[1] for d in details if d.startswith("shapes/")} <= shapes
    assert not held_out_fonts & train_fonts
    assert not set(HELD_OUT_SHAPES) & set(TRAIN_SHAPES) and set(HELD_OUT_SHAPES) <= set(SHAPES)


def test_letters_that_people_read_as_digits_are_never_negatives():
    assert not DIGIT_LIKE & set(LETTERS)
    assert {"O", "o", "I", "l", "Z", "S"} <= DIGIT_LIKE
    assert {"X", "B", "A"} <= set(LETTERS)


def test_drawn_digits_are_labelled_digits():
    images, labels = make_drawn_digits(40, "train", seed=0)
    assert images.shape == (40, N_INPUTS)
    assert set(labels.tolist()) <= set(range(10)) and len(set(labels.tolist())) > 5


def test_drawn_digits_by_source_are_the_same_digits_with_how_each_was_made():
    images, labels = make_drawn_digits(60, "report", seed=3)
    same_images, same_labels, sources = make_drawn_digits_by_source(60, "report", seed=3)
    np.testing.assert_array_equal(images, same_images)
    np.testing.assert_array_equal(labels, same_labels)
    held_out = {f"font/{font.stem}" for font in fonts_for("report")}
    assert set(sources.tolist()) <= held_out | {"strokes"} and "strokes" in sources and len(set(sources.tolist()) & held_out) > 1


def test_digit_pairs_need_digits_to_pair():
    with pytest.raises(AssertionError, match="MNIST digits"):
        make_negatives(20, "train", seed=0, digits=None)


def test_missing_fonts_are_named_with_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(negatives, "FONT_DIRS", (tmp_path,))
    negatives.font_path.cache_clear()
    try:
        with pytest.raises(FontsMissingError, match="report fonts"):
            negatives.fonts_for("report")
    finally:
        negatives.font_path.cache_clear()


def test_doodles_are_drawn_for_training_and_validation_but_never_into_the_report_split(digits):
    report = make_negatives(120, "report", seed=0, digits=digits)
    validation = make_negatives(120, "validation", seed=0, digits=digits)
    assert "doodles" not in set(report.kind_of(1))
    assert "doodles" in set(validation.kind_of(1))
    with pytest.raises(AssertionError, match="report split has no doodles"):
        negatives.doodle(np.random.default_rng(0), "report")


def test_glyphs_vary_more_outside_the_report_split_and_draw_as_before_in_it():
    font = negatives.fonts_for("train")[0]
    plain = [negatives.render_glyph("A", font, np.random.default_rng(k)) for k in range(6)]
    again = [negatives.render_glyph("A", font, np.random.default_rng(k), varied=False) for k in range(6)]
    varied = [negatives.render_glyph("A", font, np.random.default_rng(k), varied=True) for k in range(6)]
    assert all(np.array_equal(a, b) for a, b in zip(plain, again))
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(plain, varied))


def test_strokes_drawn_on_a_canvas_of_a_chosen_side_fill_three_quarters_of_it():
    figure = [[(0.5, 0.0), (0.5, 1.0)]]  # one upright stroke: a 1
    ink = negatives.render_strokes(figure, np.random.default_rng(0), pen_share=0.1, side=80)
    assert ink.shape == (80, 80)
    rows = np.flatnonzero((ink > 0.5).any(axis=1))
    assert 0.7 * 80 <= rows[-1] - rows[0] + 1 <= 0.85 * 80  # the drawing's longer side, plus the pen's round caps
    random_side = negatives.render_strokes(figure, np.random.default_rng(0), pen_share=0.1)
    assert random_side.shape[0] == random_side.shape[1] and 40 <= random_side.shape[0] < 140
