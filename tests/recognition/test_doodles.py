"""The doodle families (doodles.py): new drawings every call, stroke data in a unit box, none of them a
copy of a held-out shape, and drawn into the train and validation negatives only."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.shapes import N_INPUTS
from backend.recognition.doodles import FAMILIES
from backend.recognition.negatives import HELD_OUT_SHAPES, frame, jitter, render_strokes
from backend.recognition.preprocess import centre_of_mass


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_draws_strokes_in_a_unit_box_and_a_new_one_each_time(name):
    rng = np.random.default_rng(0)
    first, second = FAMILIES[name](rng), FAMILIES[name](rng)
    for figure in (first, second):
        points = np.concatenate([np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in figure])
        assert np.isfinite(points).all()
        assert points.min() > -0.3 and points.max() < 1.3  # about the unit box (a tail or a bulge may stick out)
        assert np.ptp(points, axis=0).max() > 0.3  # a drawing, not a dot
    assert first != second


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_renders_to_a_framed_picture_with_ink(name):
    rng = np.random.default_rng(1)
    image = frame(render_strokes(jitter(FAMILIES[name](rng), rng, wobble=0.035), rng))
    assert image is not None and image.shape == (N_INPUTS,)
    rows, cols = centre_of_mass(image.reshape(28, 28))
    assert abs(rows - 14) < 2.5 and abs(cols - 14) < 2.5


def test_no_family_is_named_after_a_held_out_shape():
    assert not set(FAMILIES) & set(HELD_OUT_SHAPES)


def test_spirals_turn_at_least_twice_so_they_never_trace_a_six():
    rng = np.random.default_rng(2)
    for _ in range(20):
        (stroke,) = FAMILIES["spiral"](rng)
        points = np.asarray(stroke) - 0.5
        turning = np.unwrap(np.arctan2(points[1:, 1], points[1:, 0]))
        assert abs(turning[-1] - turning[0]) >= 2 * 2 * np.pi - 0.2
