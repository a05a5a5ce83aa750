"""The MNIST recipe in backend/recognition/preprocess.py: crop, area-average to 20 px, centre of mass at (14, 14)."""

import numpy as np
import pytest

from backend.recognition.preprocess import (
    SHARED_WEIGHTS_UP_TO,
    EmptyImageError,
    area_weights,
    centre_of_mass,
    gray_to_ink,
    ink_to_mnist,
)


def disc(size, centre, radius):
    rows, cols = np.mgrid[:size, :size]
    return ((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2).astype(float)


def test_output_is_784_values_in_unit_range():
    out = ink_to_mnist(disc(200, (50, 60), 30))
    assert out.shape == (784,) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


def test_digit_anywhere_and_any_size_lands_in_the_same_place():
    small_corner = ink_to_mnist(disc(300, (30, 260), 12))
    big_centre = ink_to_mnist(disc(300, (150, 150), 120))
    for out in (small_corner, big_centre):
        grid = out.reshape(28, 28)
        cy, cx = centre_of_mass(grid)
        assert abs(cy - 14) <= 0.51 and abs(cx - 14) <= 0.51  # whole-pixel placement
        rows = np.flatnonzero(grid.max(axis=1) > 0.1)
        assert rows[-1] - rows[0] + 1 == 20  # longer side scaled to the 20-pixel box
    assert np.abs(small_corner - big_centre).mean() < 0.05


def test_aspect_ratio_is_kept_for_a_one():
    ink = np.zeros((280, 280))
    ink[40:240, 130:150] = 1.0  # a tall bar, 10:1
    grid = ink_to_mnist(ink).reshape(28, 28)
    rows = np.flatnonzero(grid.max(axis=1) > 0.1)
    cols = np.flatnonzero(grid.max(axis=0) > 0.1)
    assert len(rows) == 20 and len(cols) == 2


def test_mnist_digits_are_nearly_unchanged_by_reframing(mnist_data):
    images = mnist_data.test.images[:300]
    reframed = np.stack([ink_to_mnist(i.reshape(28, 28)) for i in images])
    assert np.mean(np.abs(reframed - images).max(axis=1) < 1e-6) > 0.75


def test_area_weights_average_and_conserve_mass():
    r = area_weights(5, 2)  # each output cell covers 2.5 input pixels
    np.testing.assert_allclose(r.sum(axis=1), 1.0)
    np.testing.assert_allclose(r[0], [0.4, 0.4, 0.2, 0, 0])


def test_area_weights_are_shared_read_only_so_no_caller_can_change_another_framing():
    shared = area_weights(60, 20)
    assert area_weights(60, 20) is shared  # made once for the many pieces of a number
    with pytest.raises(ValueError, match="read-only"):
        shared[0, 0] = 1.0
    huge = area_weights(SHARED_WEIGHTS_UP_TO + 1, 20)  # a hostile picture's side is not kept
    assert huge is not area_weights(SHARED_WEIGHTS_UP_TO + 1, 20)
    assert not huge.flags.writeable
    np.testing.assert_allclose(huge.sum(axis=1), 1.0)


def test_empty_and_malformed_images_are_refused():
    with pytest.raises(EmptyImageError, match="no ink"):
        ink_to_mnist(np.zeros((50, 50)))
    with pytest.raises(ValueError, match="2-D image"):
        ink_to_mnist(np.zeros(784))
    with pytest.raises(ValueError, match="NaN"):
        ink_to_mnist(np.full((5, 5), np.nan))


@pytest.mark.parametrize("dark_ink", [True, False])
def test_gray_to_ink_finds_the_ink_either_way(dark_ink):
    shape = disc(100, (50, 50), 20)
    paper, ink_level = (0.9, 0.1) if dark_ink else (0.1, 0.9)
    gray = np.where(shape > 0, ink_level, paper) + np.random.default_rng(0).normal(0, 0.02, shape.shape)
    ink = gray_to_ink(np.clip(gray, 0, 1))
    assert ink[50, 50] > 0.8 and ink[5, 5] == 0.0


def test_gray_to_ink_refuses_a_flat_picture():
    with pytest.raises(EmptyImageError, match="flat"):
        gray_to_ink(np.full((30, 30), 0.5))


def test_gray_to_ink_refuses_malformed_arrays():
    for bad in (np.float64(0.5), np.zeros((0, 4)), np.zeros((3, 3, 3))):
        with pytest.raises(ValueError, match="2-D image"):
            gray_to_ink(bad)
    with pytest.raises(ValueError, match="NaN"):
        gray_to_ink(np.full((4, 4), np.inf))
