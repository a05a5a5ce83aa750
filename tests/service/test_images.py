"""Decoding uploads: formats, polarity, transparency, orientation, 16-bit, size limits, broken files."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from backend.recognition.preprocess import gray_to_ink, ink_to_mnist
from backend.service.images import (
    WORKING_SIDE,
    EmptyImageError,
    ImageTooLargeError,
    InvalidImageError,
    decode_gray,
    image_to_pixels,
)
from backend.testing.service import ONE, SEVEN, stroke_digit_png

LIMIT = 40_000_000


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_pixels_are_the_shared_preprocessing_of_the_grey_levels():
    data = stroke_digit_png(SEVEN)
    gray = np.asarray(Image.open(io.BytesIO(data)), dtype=np.float64) / 255.0
    assert np.array_equal(image_to_pixels(data, LIMIT), ink_to_mnist(gray_to_ink(gray)))


def test_png_and_jpeg_give_nearly_the_same_digit():
    png = image_to_pixels(stroke_digit_png(SEVEN), LIMIT)
    jpeg = image_to_pixels(stroke_digit_png(SEVEN, fmt="JPEG"), LIMIT)
    assert png.shape == jpeg.shape == (784,)
    assert np.abs(png - jpeg).max() < 0.1


def test_transparent_png_with_dark_or_light_strokes_is_read_either_way():
    opaque = image_to_pixels(stroke_digit_png(ONE), LIMIT)
    for ink in (0, 255):
        image = Image.new("RGBA", (300, 400), (0, 0, 0, 0))
        strokes = Image.open(io.BytesIO(stroke_digit_png(ONE, ink=255, paper=0))).convert("L")  # stroke mask
        image.paste(Image.new("RGBA", image.size, (ink, ink, ink, 255)), mask=strokes)
        assert np.abs(image_to_pixels(encode(image), LIMIT) - opaque).max() < 0.05


def test_sixteen_bit_png_is_scaled_not_clipped():
    eight_bit = Image.open(io.BytesIO(stroke_digit_png(SEVEN)))
    sixteen_bit = Image.fromarray(np.asarray(eight_bit).astype(np.uint16) * 257)
    assert sixteen_bit.mode.startswith("I")
    assert np.allclose(image_to_pixels(encode(sixteen_bit), LIMIT), image_to_pixels(stroke_digit_png(SEVEN), LIMIT), atol=1e-6)


def test_exif_orientation_is_applied():
    upright = Image.open(io.BytesIO(stroke_digit_png(SEVEN, fmt="JPEG")))
    stored_sideways = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone stores a rotated shot
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    tagged = encode(stored_sideways, "JPEG", exif=exif, quality=95)
    assert np.abs(image_to_pixels(tagged, LIMIT) - image_to_pixels(stroke_digit_png(SEVEN, fmt="JPEG"), LIMIT)).max() < 0.15


def test_a_huge_photo_is_worked_on_at_a_bounded_size():
    big = Image.new("L", (6000, 4500), 255)
    big.paste(0, (2500, 1000, 3000, 3500))  # a thick vertical bar: a "1"
    gray = decode_gray(encode(big, "JPEG"), LIMIT)
    assert max(gray.shape) <= WORKING_SIDE
    pixels = image_to_pixels(encode(big, "JPEG"), LIMIT)
    assert pixels.reshape(28, 28)[14, 14] > 0.9


def test_more_pixels_than_the_limit_is_refused_before_decoding():
    header_says_huge = encode(Image.new("1", (5000, 5000), 1))  # a few kB on disk, 25 MP once decoded
    with pytest.raises(ImageTooLargeError, match="25.0 megapixels"):
        decode_gray(header_says_huge, max_pixels=10_000_000)


def test_decompression_bombs_past_pillows_own_limit_are_refused():
    bomb = encode(Image.new("1", (20000, 20000), 1))  # 400 MP, over twice Pillow's MAX_IMAGE_PIXELS
    with pytest.raises(ImageTooLargeError, match=f"more than {Image.MAX_IMAGE_PIXELS / 1e6:g} megapixels"):
        decode_gray(bomb, max_pixels=10**12)  # the message names the limit that refused it, not the setting


@pytest.mark.parametrize(
    "data, error",
    [
        (b"", InvalidImageError),
        (b"GIF89a not really", InvalidImageError),
        (encode(Image.new("L", (10, 10)), "GIF"), InvalidImageError),
        (encode(Image.new("L", (10, 10)), "BMP"), InvalidImageError),
        (stroke_digit_png(ONE)[:-200], InvalidImageError),
        (stroke_digit_png([], size=(80, 80)), EmptyImageError),
        (encode(Image.new("RGBA", (40, 40), (0, 0, 0, 0))), EmptyImageError),
    ],
    ids=["empty", "garbage", "gif", "bmp", "truncated", "blank", "fully-transparent"],
)
def test_unreadable_or_empty_images_raise_a_clear_error(data, error):
    with pytest.raises(error) as raised:
        image_to_pixels(data, LIMIT)
    assert str(raised.value)
