"""From an uploaded PNG or JPEG file to the network's 784 inputs.

Pillow decodes; everything after the grey levels is `backend.recognition.preprocess`, the same module (and
recipe) the canvas page mirrors: `gray_to_ink` finds the ink in either polarity, `ink_to_mnist`
crops, scales to 20 px with area averaging and centres by centre of mass.

Guards, in order: only PNG and JPEG are opened (Pillow's other decoders are never reached); the pixel
count from the header is checked against a limit before anything is decoded (decompression bombs);
a JPEG is decoded at a reduced DCT scale when it is much larger than needed; the decoded picture is
box-averaged down (an integer factor, so still area averaging) until its longer side is at most
WORKING_SIDE, which bounds the memory of the float steps whatever the upload. The EXIF orientation
of a phone photo is applied, since a 6 on its side is not a 6. Transparent pixels are laid over a
background opposite to the ink, so a transparent PNG of black or of white strokes both work.

What this module leaves out: HTTP status codes (the route maps each error class to one).
"""

from __future__ import annotations

import io
import math
import time
import warnings
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.recognition.preprocess import EmptyImageError, gray_to_ink, ink_to_mnist

FORMATS = ("PNG", "JPEG")
WORKING_SIDE = 1024  # far more than the 20 px the digit ends up as; bounds memory for huge photos
REDUCIBLE_MODES = ("L", "LA", "RGB", "RGBA", "I")
TINY_READS_AFTER, TINY_READ_BYTES = 10_000, 64  # beyond 10,000 reads, under 64 bytes a read on average: a chunk flood

# Pillow only warns between MAX_IMAGE_PIXELS and twice that; in this service any bomb is an error
warnings.simplefilter("error", Image.DecompressionBombWarning)

__all__ = [
    "Abandoned",
    "DecodeTimeoutError",
    "EmptyImageError",
    "ImageError",
    "ImageTooLargeError",
    "InvalidImageError",
    "image_to_pixels",
    "decode_gray",
]


class ImageError(ValueError):
    """An upload that cannot be turned into a digit; the message says why, for the client."""


class InvalidImageError(ImageError):
    """Not a PNG or JPEG, truncated or otherwise undecodable."""


class ImageTooLargeError(ImageError):
    """More pixels than the configured limit."""


class DecodeTimeoutError(ImageError):
    """Decoding took longer than its budget (e.g. a PNG of millions of empty chunks)."""


class Abandoned(Exception):
    """The work was given up half-way because no one waits for its answer any more (the client hung up)."""


class _GuardedReader(io.BytesIO):
    """The upload as a file that Pillow reads from; each read checks the time budget and whether to stop.

    Pillow's PNG and JPEG readers read their input a chunk or a buffer at a time, so a decode that
    runs past its deadline, or that no one waits for any more, is stopped at its next read. The budget
    is this thread's CPU time, not the wall clock: a busy machine slows a legitimate decode down, but
    does not make it cost more CPU.
    """

    def __init__(self, data: bytes, budget_s: float, should_stop: Callable[[], bool]) -> None:
        super().__init__(data)
        self._deadline, self._should_stop, self._budget_s = time.thread_time() + budget_s, should_stop, budget_s
        self._reads = self._bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        if time.thread_time() > self._deadline:
            raise DecodeTimeoutError(f"the image took more than {self._budget_s:g} s of CPU to decode")
        if self._should_stop():
            raise Abandoned
        data = super().read(size)
        self._reads += 1
        self._bytes += len(data)
        # Pillow reads a PNG chunk in two or three reads; real pictures' chunks hold kilobytes, but
        # millions of empty ones cost a second of CPU per 200,000 while adding nothing: refused early
        if self._reads > TINY_READS_AFTER and self._bytes < TINY_READ_BYTES * self._reads:
            raise InvalidImageError(f"the image is split into more than {self._reads // 2} tiny chunks")
        return data


def never() -> bool:
    return False


def image_to_pixels(data: bytes, max_pixels: int, budget_s: float = math.inf, should_stop: Callable[[], bool] = never) -> np.ndarray:
    """PNG or JPEG bytes -> the MNIST-framed digit as (784,) float32 in [0, 1].

    Raises InvalidImageError, ImageTooLargeError, DecodeTimeoutError (decoding took over budget_s of CPU),
    EmptyImageError when there is no ink, or Abandoned when should_stop() said so between steps.
    """
    gray = decode_gray(data, max_pixels, budget_s, should_stop)
    if should_stop():
        raise Abandoned
    return ink_to_mnist(gray_to_ink(gray))


def decode_gray(data: bytes, max_pixels: int, budget_s: float = math.inf, should_stop: Callable[[], bool] = never) -> np.ndarray:
    """PNG or JPEG bytes -> grey levels (H, W) float64 in [0, 1] (0 = black), H and W <= WORKING_SIDE."""
    if not data:
        raise InvalidImageError("the request body is empty: send the bytes of a PNG or JPEG file")
    source = _GuardedReader(data, budget_s, should_stop)
    try:
        image = Image.open(source, formats=FORMATS)
    except (DecodeTimeoutError, Abandoned, InvalidImageError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError(f"the image has more than {_refusal_limit(max_pixels) / 1e6:g} megapixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidImageError("the body is not a PNG or JPEG image") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the image is {width}x{height} = {width * height / 1e6:.1f} megapixels, over the limit of {max_pixels / 1e6:g}"
        )
    if width == 0 or height == 0:
        raise InvalidImageError("the image has no pixels")
    try:
        if image.format == "JPEG":
            image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))  # DCT scaling: decode at 1/2, 1/4 or 1/8 size
        ImageOps.exif_transpose(image, in_place=True)  # also loads the pixels; in place: no full-size copy
        image.load()
    except (DecodeTimeoutError, Abandoned, InvalidImageError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError(f"the image has more than {_refusal_limit(max_pixels) / 1e6:g} megapixels") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise InvalidImageError(f"the {image.format} image cannot be decoded ({err})") from None
    # reduced first where Pillow can (the usual modes), so no full-size copy in another mode is ever made
    if image.mode in REDUCIBLE_MODES:
        return _gray_levels(_common_mode(_reduce(image)))
    return _gray_levels(_reduce(_common_mode(image)))


def _refusal_limit(max_pixels: int) -> int:
    """Pillow refuses past its own MAX_IMAGE_PIXELS (a backstop kept even when the setting is higher)."""
    return min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)


def _common_mode(image: Image.Image) -> Image.Image:
    """Any decoded mode -> "I" (16-bit grey), "LA" (grey + alpha) or "L" (8-bit grey)."""
    if image.mode.startswith("I;16") or image.mode == "I":
        return image.convert("I")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("LA" if has_alpha else "L")


def _reduce(image: Image.Image) -> Image.Image:
    """Box-average by the smallest integer factor that brings the longer side to <= WORKING_SIDE."""
    factor = math.ceil(max(image.size) / WORKING_SIDE)
    return image.reduce(factor) if factor > 1 else image


def _gray_levels(image: Image.Image) -> np.ndarray:
    if image.mode == "I":
        return np.clip(np.asarray(image, dtype=np.float64) / 65535.0, 0.0, 1.0)
    if image.mode == "L":
        return np.asarray(image, dtype=np.float64) / 255.0
    gray_alpha = np.asarray(image, dtype=np.float64) / 255.0  # (H, W, 2)
    gray, alpha = gray_alpha[..., 0], gray_alpha[..., 1]
    if alpha.sum() == 0:
        raise EmptyImageError("the image is fully transparent: there is no digit to read")
    # strokes drawn dark want a light background behind them, light strokes a dark one
    ink_brightness = float((gray * alpha).sum() / alpha.sum())
    background = 1.0 if ink_brightness < 0.5 else 0.0
    return alpha * gray + (1.0 - alpha) * background
