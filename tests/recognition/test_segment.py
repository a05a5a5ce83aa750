"""backend/recognition/segment.py: blobs, pieces of one digit joined, touching digits split, reading order."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.preprocess import EmptyImageError
from backend.recognition.segment import TooManyMarksError, connected_components, segment_number
from backend.testing.strokes import DIGITS, arc, line, rasterise


@pytest.fixture(scope="module")
def classify():
    model = load_model(MODEL_DIR)[0]
    calls = []

    def counted(pixels: np.ndarray) -> np.ndarray:
        calls.append(len(pixels))
        return model.predict_proba(pixels)

    counted.calls = calls
    return counted


def write(placements: list[tuple[int, tuple[float, float, float, float]]], shape=(140, 420), radius=4.0) -> np.ndarray:
    """Ink (H, W): each (digit, box) of strokes.py drawn with a round pen into box = (left, top, width, height)."""
    ink = np.zeros(shape)
    for digit, box in placements:
        ink = np.maximum(ink, rasterise(DIGITS[digit], *shape, box, radius))
    return ink


def read(ink: np.ndarray, classify) -> str:
    found = segment_number(ink, classify)
    return "".join(str(int(p.argmax())) for p in classify(np.stack([d.pixels for d in found])))


def test_connected_components_joins_diagonal_neighbours_and_keeps_apart_what_does_not_touch() -> None:
    mask = np.zeros((6, 8), dtype=bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # a diagonal line: one blob (8-connected)
    mask[0:4, 5:7] = True  # a 4x2 block
    mask[5, 0:3] = True  # a bar, two rows below the diagonal: apart
    labels, blobs = connected_components(mask)
    assert len(blobs) == 3
    assert sorted((b.top, b.bottom, b.left, b.right, b.area) for b in blobs) == [(0, 3, 0, 3, 3), (0, 4, 5, 7, 8), (5, 6, 0, 3, 3)]
    assert set(np.unique(labels)) == {0, 1, 2, 3}
    assert (labels > 0).sum() == mask.sum() and ((labels > 0) == mask).all()


def test_connected_components_of_an_empty_mask_is_nothing() -> None:
    labels, blobs = connected_components(np.zeros((4, 4), dtype=bool))
    assert blobs == [] and not labels.any()


def test_a_number_with_gaps_is_read_left_to_right_with_drifting_baseline(classify) -> None:
    ink = write([(2, (20, 30, 50, 80)), (0, (100, 18, 50, 80)), (2, (180, 40, 50, 80)), (6, (260, 26, 50, 80))])
    assert read(ink, classify) == "2026"


def test_boxes_are_where_the_digits_are_in_the_input_pixels(classify) -> None:
    ink = write([(7, (20, 30, 50, 80)), (3, (120, 20, 50, 80))])
    found = segment_number(ink, classify)
    assert len(found) == 2
    (x0, y0, w0, h0), (x1, y1, w1, h1) = found[0].box, found[1].box
    assert 10 <= x0 <= 30 and 20 <= y0 <= 40 and 40 <= w0 <= 70 and 70 <= h0 <= 95
    assert 110 <= x1 <= 130 and 10 <= y1 <= 30 and x0 + w0 < x1 and 40 <= w1 <= 70 and 70 <= h1 <= 95
    assert all(d.pixels.shape == (784,) and d.pixels.dtype == np.float32 for d in found)


def test_a_big_picture_gives_boxes_in_its_own_pixels(classify) -> None:
    small = write([(4, (20, 30, 50, 80)), (1, (120, 20, 50, 80))])
    big = np.kron(small, np.ones((4, 4)))  # 560 x 1680: worked on at a reduced size, reported at full size
    found = segment_number(big, classify)
    assert [d.box[0] // 40 for d in found] == [d.box[0] // 10 for d in segment_number(small, classify)]
    assert read(big, classify) == "41"


def test_pieces_of_one_digit_are_joined(classify) -> None:
    # a 5 whose flag was lifted off the body, a 4 whose stem's lower half was not pressed on
    five_body, five_flag = DIGITS[5]
    shape = (140, 300)
    ink = np.maximum(rasterise([five_body], *shape, (30, 30, 60, 80), 4), rasterise([five_flag], *shape, (36, 14, 60, 80), 4))
    four_left, _ = DIGITS[4]
    ink = np.maximum(ink, rasterise([four_left, line((0.7, 0.22), (0.7, 0.62))], *shape, (160, 30, 60, 80), 4))
    ink = np.maximum(ink, rasterise([line((0.7, 0.75), (0.68, 0.98))], *shape, (160, 30, 60, 80), 4))
    _, blobs = connected_components(ink > 0.1)
    assert len(blobs) == 4, "the test's digits must be in pieces"
    assert read(ink, classify) == "54"


def test_touching_digits_are_split_by_what_the_network_reads(classify) -> None:
    ink = write([(3, (20, 30, 50, 80)), (8, (66, 30, 50, 80))], shape=(140, 160), radius=5)
    _, blobs = connected_components(ink > 0.1)
    assert len(blobs) == 1, "the test's digits must touch"
    assert read(ink, classify) == "38"


def test_the_whole_picture_is_classified_in_one_batch(classify) -> None:
    classify.calls.clear()
    segment_number(write([(2, (20, 30, 50, 80)), (0, (70, 30, 50, 80)), (9, (180, 30, 50, 80))]), classify)
    assert len(classify.calls) == 1 and classify.calls[0] >= 3


def test_a_single_digit_drawn_large_is_one_digit(classify) -> None:
    ink = write([(8, (40, 10, 220, 300))], shape=(330, 300), radius=14)
    assert read(ink, classify) == "8"


def test_dirt_is_ignored(classify) -> None:
    ink = write([(1, (20, 30, 50, 80)), (7, (120, 30, 50, 80))])
    ink[5, 300] = ink[130, 10] = 1.0  # two specks
    assert read(ink, classify) == "17"


def test_no_ink_is_refused() -> None:
    with pytest.raises(EmptyImageError):
        segment_number(np.zeros((50, 80)), lambda pixels: pixels[:, :10])


def test_noise_is_refused_as_not_a_number(classify) -> None:
    rng = np.random.default_rng(0)
    noise = np.zeros((200, 200))
    noise[::5, ::5] = rng.uniform(0.5, 1.0, (40, 40))  # 1,600 separate dots of equal size
    with pytest.raises(TooManyMarksError, match="separate marks"):
        segment_number(noise, classify)


def test_a_three_dimensional_array_is_refused() -> None:
    with pytest.raises(ValueError, match="2-D"):
        segment_number(np.zeros((4, 4, 3)), lambda pixels: pixels[:, :10])


def test_a_digit_broken_across_its_height_is_joined_when_its_halves_outnumber_the_whole_digits(classify) -> None:
    # a 3 whose halves were lifted apart: three blobs, two of them half-height, so the median blob height
    # is a half's; the joined 3 must still fit as one digit by the halves' own height together
    upper, lower = arc(0.46, 0.27, 0.34, 0.23, 205, 450), arc(0.46, 0.73, 0.4, 0.25, -90, 155)
    shape = (140, 220)
    halves = np.maximum(rasterise([upper], *shape, (90, 16, 84, 80), 4), rasterise([lower], *shape, (90, 28, 84, 80), 4))
    ink = np.maximum(write([(6, (20, 30, 50, 80))], shape=shape), halves)
    _, blobs = connected_components(ink > 0.1)
    assert len(blobs) == 3 and sorted(b.height for b in blobs)[1] < 50, "the test's 3 must be two halves"
    assert read(ink, classify) == "63"


def test_a_small_mark_that_is_no_digit_is_left_out_as_dirt(classify) -> None:
    # a blot well above the specks' size (a few per cent of a digit's ink) between two digits
    ink = write([(2, (20, 30, 50, 80)), (7, (140, 30, 50, 80))])
    rows, cols = np.ogrid[: ink.shape[0], : ink.shape[1]]
    ink = np.maximum(ink, ((rows - 100) ** 2 + (cols - 102) ** 2 <= 5**2).astype(float))
    _, blobs = connected_components(ink > 0.1)
    assert len(blobs) == 3, "the blot must be a mark of its own"
    assert read(ink, classify) == "27"


def test_a_lifted_flag_reaching_far_past_its_five_is_joined_to_it(classify) -> None:
    # a 5 whose flag was written apart and long, reaching well right of the body: together they are
    # wider than any one digit's piece, yet the flag alone is no digit
    five_body, _ = DIGITS[5]
    shape = (140, 320)
    ink = write([(6, (20, 30, 50, 80))], shape=shape)
    ink = np.maximum(ink, rasterise([five_body], *shape, (110, 30, 50, 80), 4))
    ink = np.maximum(ink, rasterise([line((0.0, 0.5), (1.0, 0.45))], *shape, (124, 18, 120, 10), 4))
    _, blobs = connected_components(ink > 0.1)
    assert len(blobs) == 3, "the flag must be apart from the body"
    flag = max(blobs, key=lambda b: b.right)
    assert flag.right - 110 > 1.3 * 90, "the 5 and its flag must be wider than a digit's widest piece"
    assert read(ink, classify) == "65"
