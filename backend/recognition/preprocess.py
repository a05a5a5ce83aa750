"""From a picture of one digit to the network's 784 inputs, the way MNIST itself was made.

MNIST digits were scaled to fit a 20x20 box (aspect ratio kept, anti-aliased to grey levels) and then
placed in a 28x28 field so that their centre of mass sits at the centre. `ink_to_mnist` repeats that
recipe exactly, step by step:

  1. crop to the bounding box of the pixels with ink > INK_THRESHOLD;
  2. scale the longer side to 20 px with area averaging (each output pixel is the mean of the source
     area it covers, fractional pixels weighted by their overlap);
  3. paste into 28x28 at the whole-pixel offset that brings the intensity-weighted centre of mass
     closest to (14, 14) (where MNIST's own centres lie), kept inside the field.

The page's `frontend/js/preprocess.js` is a line-by-line port of this module; a parity test feeds both
the same drawings. `gray_to_ink` is the extra step for photos and scans: it finds which of dark or
light is the ink and stretches the contrast. Pure NumPy; decoding image files is the caller's job.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from backend.nn.shapes import IMAGE_SIDE

SIDE = IMAGE_SIDE  # the MNIST field
BOX = 20  # the longer side of the digit after scaling
CENTRE = 14.0  # where MNIST's centres of mass lie, in pixel-index coordinates
# A symmetric shape (a dot, a uniform bar) has its centre of mass exactly on a half pixel, where the
# last bits of the two implementations' sums (NumPy's matrix products, the page's loops) would round
# to different neighbours; a nudge far above those bits and far below a pixel makes both go the same way.
HALF_PIXEL_NUDGE = 1e-9
INK_THRESHOLD = 0.1  # ink below this does not count toward the bounding box
PAPER_NOISE = 0.2  # in photos, contrast below this share of the strongest ink is paper, not ink
SHARED_WEIGHTS_UP_TO = 512  # area weights for sides up to this are shared; 256 such matrices hold at most 256*20*512*8 B = 21 MB


class EmptyImageError(ValueError):
    """The picture has no ink: nothing to recognise."""


def ink_to_mnist(ink: np.ndarray) -> np.ndarray:
    """Ink intensities (H, W) in [0, 1] (0 = background) -> the MNIST-framed digit as (784,) float32."""
    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2 or ink.size == 0:
        raise ValueError(f"expected a 2-D image, got shape {ink.shape}")
    if not np.isfinite(ink).all():
        raise ValueError("image holds NaN or infinite values")
    ink = np.clip(ink, 0.0, 1.0)
    top, bottom, left, right = ink_bounding_box(ink)
    crop = ink[top:bottom, left:right]
    height, width = crop.shape
    scale = BOX / max(height, width)
    out_h = max(1, round_half_up(height * scale))
    out_w = max(1, round_half_up(width * scale))
    small = area_weights(height, out_h) @ crop @ area_weights(width, out_w).T  # (h',h)@(h,w)@(w,w') -> (h',w')
    cy, cx = centre_of_mass(small)
    row = min(max(round_half_up(CENTRE - cy + HALF_PIXEL_NUDGE), 0), SIDE - out_h)
    col = min(max(round_half_up(CENTRE - cx + HALF_PIXEL_NUDGE), 0), SIDE - out_w)
    field = np.zeros((SIDE, SIDE))
    field[row : row + out_h, col : col + out_w] = small
    return np.clip(field, 0.0, 1.0).astype(np.float32).reshape(SIDE * SIDE)


def ink_bounding_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), half-open, around the pixels with ink > INK_THRESHOLD."""
    mask = ink > INK_THRESHOLD
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise EmptyImageError("the image has no ink: draw or photograph a digit")
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """R (n_out, n_in): R[i, k] = share of output cell i covered by input pixel k (rows sum to 1); read-only.

    Segmenting one number frames hundreds of cut pieces that share a few sizes, so the weights for sides up
    to SHARED_WEIGHTS_UP_TO pixels are made once and shared (bounded: a hostile picture's huge sides are not kept).
    """
    if n_in <= SHARED_WEIGHTS_UP_TO:
        return _shared_area_weights(n_in, n_out)
    return _area_weights(n_in, n_out)


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    cell = n_in / n_out  # input pixels per output pixel
    starts = np.arange(n_out)[:, None] * cell
    pixel = np.arange(n_in)[None, :]
    overlap = np.minimum(starts + cell, pixel + 1) - np.maximum(starts, pixel)
    weights = np.maximum(overlap, 0.0) / cell
    weights.flags.writeable = False  # shared between callers: nobody may change another's framing
    return weights


_shared_area_weights = functools.lru_cache(maxsize=256)(_area_weights)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean (row, col) in pixel-index coordinates."""
    mass = image.sum()
    rows = np.arange(image.shape[0]) @ image.sum(axis=1) / mass
    cols = np.arange(image.shape[1]) @ image.sum(axis=0) / mass
    return float(rows), float(cols)


def round_half_up(x: float) -> int:
    """floor(x + 0.5): the same in Python and JavaScript (Python's round() rounds half to even)."""
    return int(math.floor(x + 0.5))


def gray_to_ink(gray: np.ndarray) -> np.ndarray:
    """Grey levels (H, W) in [0, 1] of a photo or scan -> ink (H, W) in [0, 1], 0 = paper.

    The paper is whatever covers the border of the picture (its median); ink is the contrast against
    it, dark-on-light or light-on-dark alike, stretched so the strongest ink is 1 and faint texture
    below PAPER_NOISE of that is dropped.
    """
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2 or gray.size == 0:
        raise ValueError(f"expected a 2-D image, got shape {gray.shape}")
    if not np.isfinite(gray).all():
        raise ValueError("image holds NaN or infinite values")
    gray = np.clip(gray, 0.0, 1.0)  # outside [0, 1] is not a grey level (and 1e308 - -1e308 overflows)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    contrast = np.abs(gray - paper)
    strongest = float(contrast.max())
    if strongest < 0.05:
        raise EmptyImageError("the image has no ink: it is one flat colour")
    ink = (contrast / strongest - PAPER_NOISE) / (1.0 - PAPER_NOISE)
    return np.clip(ink, 0.0, 1.0)
