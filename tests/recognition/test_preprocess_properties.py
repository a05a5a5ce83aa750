"""Properties of backend.recognition.preprocess over generated images (Hypothesis): any image in, a valid 784-vector or a clear error out.

"Valid" means what the network takes: shape (784,), float32, every value finite and in [0, 1], with
ink in it. "A clear error" means EmptyImageError (no ink) or another ValueError, with a message;
never an IndexError, ZeroDivisionError, a NaN in the output or any other surprise. The examples cover
any finite values (negative, huge, tiny), any dtype a decoder hands over (float32/64, uint8, bool),
long thin and one-pixel pictures, and wrong shapes (0-D, 1-D, 3-D, empty).

What this leaves out: whether the framing is MNIST's (tests/recognition/test_preprocess.py checks the recipe).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backend.recognition.preprocess import (
    INK_THRESHOLD,
    EmptyImageError,
    gray_to_ink,
    ink_to_mnist,
)

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sides = st.integers(min_value=1, max_value=60)
long_side = st.integers(min_value=1, max_value=1500)
shapes_2d = st.one_of(
    st.tuples(sides, sides), st.tuples(st.just(1), long_side), st.tuples(long_side, st.just(1)), st.tuples(sides, long_side)
)
FLOAT_DTYPES = (np.float64, np.float32)


def any_finite(dtype: type) -> st.SearchStrategy[float]:
    """Any finite value the dtype holds: negative, huge, subnormal."""
    return st.floats(allow_nan=False, allow_infinity=False, width=np.finfo(dtype).bits)


def unit(dtype: type) -> st.SearchStrategy[float]:
    return st.floats(min_value=0.0, max_value=1.0, width=np.finfo(dtype).bits)


def images(elements, shape: st.SearchStrategy[tuple[int, ...]] = shapes_2d) -> st.SearchStrategy[np.ndarray]:
    """Images in float64 or float32 whose pixels come from elements(dtype), often mostly blank like ink on paper."""
    return st.sampled_from(FLOAT_DTYPES).flatmap(
        lambda dtype: hnp.arrays(dtype, shape, elements=elements(dtype), fill=st.one_of(st.just(0.0), elements(dtype)))
    )


decoded = st.one_of(
    hnp.arrays(np.uint8, shapes_2d),  # what an 8-bit greyscale decoder gives before scaling
    hnp.arrays(np.bool_, shapes_2d),
)
wrong_shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6).filter(lambda s: len(s) != 2 or 0 in s)


def has_ink(image: np.ndarray) -> bool:
    """Any pixel over the threshold, compared in float64 (float32's 0.1 is 0.10000000149, above 0.1)."""
    return bool((np.clip(image.astype(np.float64), 0.0, 1.0) > INK_THRESHOLD).any())


def assert_valid_input(vector: np.ndarray) -> None:
    assert vector.shape == (784,)
    assert vector.dtype == np.float32
    assert np.isfinite(vector).all()
    assert vector.min() >= 0.0 and vector.max() <= 1.0
    assert vector.max() > 0.0, "an image with ink gave an empty field"


def mnist_or_clear_error(function, image: np.ndarray) -> np.ndarray | ValueError:
    """function(image), or the ValueError (EmptyImageError included) it raised, which must carry a message."""
    try:
        return function(image)
    except ValueError as err:
        assert str(err).strip(), f"{type(err).__name__} without a message"
        return err


@EXAMPLES
@given(images(any_finite))
def test_ink_to_mnist_gives_a_valid_vector_or_a_clear_error_for_any_finite_image(image: np.ndarray) -> None:
    outcome = mnist_or_clear_error(ink_to_mnist, image)
    if isinstance(outcome, ValueError):
        assert isinstance(outcome, EmptyImageError), f"a finite 2-D image was refused: {outcome}"
        assert not has_ink(image), "refused as empty, but it has ink"
    else:
        assert_valid_input(outcome)


@EXAMPLES
@given(images(unit))
@example(np.full((3, 5), INK_THRESHOLD, dtype=np.float32))  # float32's 0.1 lies just above the threshold
@example(np.full((3, 5), INK_THRESHOLD, dtype=np.float64))  # exactly at it: no ink
def test_ink_to_mnist_accepts_every_image_with_ink_above_the_threshold(image: np.ndarray) -> None:
    outcome = mnist_or_clear_error(ink_to_mnist, image)
    if has_ink(image):
        assert not isinstance(outcome, ValueError), f"an image with ink was refused: {outcome}"
        assert_valid_input(outcome)
    else:
        assert isinstance(outcome, EmptyImageError)


@EXAMPLES
@given(decoded)
def test_ink_to_mnist_takes_integer_and_boolean_pixels(image: np.ndarray) -> None:
    outcome = mnist_or_clear_error(ink_to_mnist, image)
    if isinstance(outcome, ValueError):
        assert isinstance(outcome, EmptyImageError)
        assert not has_ink(image)
    else:
        assert_valid_input(outcome)


@pytest.mark.parametrize("function", [ink_to_mnist, gray_to_ink], ids=["ink_to_mnist", "gray_to_ink"])
@EXAMPLES
@given(hnp.arrays(np.float64, wrong_shapes, elements=unit(np.float64)))
def test_anything_but_a_non_empty_2d_image_is_refused_with_a_value_error(function, image: np.ndarray) -> None:
    outcome = mnist_or_clear_error(function, image)
    assert isinstance(outcome, ValueError) and not isinstance(outcome, EmptyImageError)
    assert str(image.shape) in str(outcome), "the message should say which shape it got"


@EXAMPLES
@given(images(unit))
def test_gray_to_ink_gives_ink_of_the_same_shape_in_unit_range_or_says_the_picture_is_flat(gray: np.ndarray) -> None:
    outcome = mnist_or_clear_error(gray_to_ink, gray)
    if isinstance(outcome, ValueError):
        assert isinstance(outcome, EmptyImageError)
        # every pixel lies within 0.05 of the paper's level, so the whole picture spans under 0.1
        assert np.ptp(gray) < 0.1, "refused as flat, but it has contrast"
    else:
        assert outcome.shape == gray.shape
        assert np.isfinite(outcome).all() and outcome.min() >= 0.0 and outcome.max() <= 1.0
        assert outcome.max() == 1.0, "the strongest ink is stretched to 1"


@EXAMPLES
@given(images(unit, st.tuples(sides, sides)), unit(np.float64), st.floats(min_value=0.06, max_value=1.0))
def test_gray_to_ink_finds_ink_that_stands_out_from_a_plain_border(interior: np.ndarray, paper: float, contrast: float) -> None:
    picture = np.pad(np.full(interior.shape, paper), 1, constant_values=paper)
    ink_level = paper + contrast if paper + contrast <= 1.0 else paper - contrast
    if ink_level < 0.0:
        return  # no grey level in [0, 1] stands that far from this paper
    picture[1 + interior.shape[0] // 2, 1 + interior.shape[1] // 2] = ink_level
    outcome = mnist_or_clear_error(gray_to_ink, picture)
    assert not isinstance(outcome, ValueError), f"ink {contrast:.3f} off the paper was not found: {outcome}"
    assert outcome.max() == 1.0
    assert outcome[0].max() == 0.0, "the border is paper"


@EXAMPLES
@given(images(any_finite))
def test_a_photo_through_gray_to_ink_and_ink_to_mnist_gives_a_valid_vector_or_a_clear_error(gray: np.ndarray) -> None:
    def photo_to_mnist(image: np.ndarray) -> np.ndarray:
        return ink_to_mnist(gray_to_ink(image))

    outcome = mnist_or_clear_error(photo_to_mnist, gray)
    if not isinstance(outcome, ValueError):
        assert_valid_input(outcome)
