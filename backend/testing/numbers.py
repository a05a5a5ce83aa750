"""Handwritten numbers for tests and evaluation, made from single handwritten digits or from strokes.

`compose_number` lays MNIST digits side by side the way people write numbers: one size per number with
each digit a little bigger or smaller, one slant per number with a little jitter, a baseline that
drifts, and gaps from touching (inks overlapping by a few pixels) to wide. `stroke_number` does the
same with the stroke digits of strokes.py, drawn with a round pen (what the page sends, as a picture),
and `drawn_number` with every pen style of recognition/sketches.py, each digit jittered, one pen per number.
All report which neighbouring digits touch (their inks meet), so scores can be split by it. `pad_number`
writes a number as strokes on the page's pad instead (pad units, every pen style, slanted, touching to
wide, drifting), with which digit each stroke belongs to, for the page's own grouping of strokes, and
`pad_picture` draws such a number as a picture.
`png` encodes an ink array as a picture, dark on light by default. `NumberScore` tallies readings
against what was written, and `miss_kind` says how a miss went wrong (a "?", a wrong digit, a digit
split in two or two read as one), so segmentation errors can be counted apart from the rejector's.
Leaves out anything about HTTP (the evaluation script sends the pictures).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from backend.recognition.negatives import draw_strokes, jitter, render_strokes
from backend.recognition.number_pieces import written_digit
from backend.recognition.preprocess import INK_THRESHOLD, ink_bounding_box
from backend.recognition.sketches import DIGITS as DIGIT_STYLES
from backend.testing.strokes import DIGITS, Stroke, rasterise

GAPS = {"touching": (-0.08, -0.01), "close": (0.02, 0.12), "wide": (0.15, 0.6)}  # in digit heights
GAP_SHARES = {"touching": 0.1, "close": 0.4, "wide": 0.5}
MARK = -1  # compose_number's label for a picture that is no digit (a doodle in a row of digits): "?" in the number's label


@dataclass(frozen=True)
class ComposedNumber:
    """ink (H, W) in [0, 1]; label, e.g. "2026"; touching[i]: do digits i and i + 1 meet."""

    ink: np.ndarray
    label: str
    touching: list[bool]


def compose_number(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> ComposedNumber:
    """MNIST digits images (N, 784) in [0, 1] with their labels (N,) -> one handwritten-looking number.

    A label MARK says its image is no digit (it stands as "?" in the number's label)."""
    height = rng.uniform(28, 90)  # ink height of a digit, in px
    slant = rng.uniform(-0.3, 0.3)  # shear: x moves by slant * height over a digit's height
    digits = [written_digit(image, height, slant, rng) for image in images]
    return _lay_out(digits, "".join("?" if d == MARK else str(int(d)) for d in labels), height, rng)


def stroke_number(label: str, rng: np.random.Generator) -> ComposedNumber:
    """The digits of `label` drawn from strokes.py's shapes with a round pen, at random size, spacing and drift."""
    height = rng.uniform(30, 90)
    digits = []
    for char in label:
        h = height * rng.uniform(0.85, 1.15)
        w = h * rng.uniform(0.45, 0.7) * (0.35 if char == "1" else 1.0)
        radius = max(1.0, h * rng.uniform(0.04, 0.08))
        pad = int(radius) + 2
        shape = (int(h) + 2 * pad, int(w) + 2 * pad)
        digits.append(rasterise(DIGITS[int(char)], shape[0], shape[1], (pad, pad, w, h), radius))
    return _lay_out(digits, label, height, rng)


def drawn_number(label: str, rng: np.random.Generator) -> ComposedNumber:
    """The digits of `label` in the pen styles of sketches.DIGITS (several ways to write each: a 1 with a flag
    or a foot, a 7 with a bar, an open 4...), each re-drawn by an unsteady hand (negatives.jitter), the whole
    number with one pen, at random size, spacing and drift."""
    height = rng.uniform(30, 90)
    pen_share = rng.uniform(0.05, 0.22)  # of a digit's longer side: one pen for the whole number, as a person writes
    digits = []
    for char in label:
        styles = DIGIT_STYLES[int(char)]
        figure = jitter(styles[int(rng.integers(len(styles)))], rng, wobble=0.02)
        # render_strokes fills 3/4 of its canvas with the drawing's longer side (for a digit, its height)
        side = int(height * rng.uniform(0.85, 1.15) / 0.75) + 8
        digits.append(_cropped(render_strokes(figure, rng, pen_share, side)))
    return _lay_out(digits, label, height, rng)


@dataclass(frozen=True)
class PadNumber:
    """A number written on the pad: strokes in pad units (x right, y down, the pad's height is 1), in the
    order they were drawn; owner[i]: which digit (0 = leftmost) stroke i belongs to; touching[i]: do the
    column ranges of digits i and i + 1 overlap (on the pad it is columns, not ink, that group strokes)."""

    strokes: list[Stroke]
    owner: list[int]
    label: str
    touching: list[bool]


def pad_number(label: str, rng: np.random.Generator, aspect: float = 1.0) -> PadNumber:
    """The digits of `label` written left to right on a pad `aspect` times as wide as high, as strokes: each
    digit in one of the ways of writing it (strokes.py's, and every pen style of sketches.py) re-drawn by an
    unsteady hand, one slant and one size per number (each digit a little bigger or smaller), gaps from
    touching to wide, a drifting baseline; shrunk to fit the pad when long."""
    slant = rng.uniform(-0.3, 0.3)  # x moves by slant * height over a digit's height, top to the right when > 0
    height = min(0.6, 0.9 * aspect / (0.75 * len(label))) * rng.uniform(0.6, 1.0)  # in pad heights
    kinds = rng.choice(list(GAP_SHARES), size=len(label), p=list(GAP_SHARES.values()))
    strokes: list[np.ndarray] = []
    owner: list[int] = []
    columns: list[tuple[float, float]] = []
    x, drift = 0.0, 0.0
    for k, (char, kind) in enumerate(zip(label, kinds)):
        styles = [DIGITS[int(char)], *DIGIT_STYLES[int(char)]]
        figure = [np.asarray(stroke, dtype=np.float64) for stroke in jitter(styles[int(rng.integers(len(styles)))], rng, wobble=0.02)]
        h = height * rng.uniform(0.85, 1.15)
        points = np.concatenate(figure)  # (n, 2)
        low = points.min(axis=0)
        tall = max(float(points[:, 1].max() - low[1]), 1e-3)
        placed = [(stroke - low) * (h / tall) for stroke in figure]  # (n, 2) each: the digit h tall, its own aspect
        for stroke in placed:
            stroke[:, 0] += slant * (h - stroke[:, 1])
        left = min(float(stroke[:, 0].min()) for stroke in placed)
        for stroke in placed:
            stroke += (x - left, drift + height - h)  # its bottom on the drifted baseline
        strokes.extend(placed)
        owner.extend([k] * len(placed))
        right = max(float(stroke[:, 0].max()) for stroke in placed)
        columns.append((x, right))
        x = right + rng.uniform(*GAPS[kind]) * height
        drift = float(np.clip(drift + rng.normal(0, 0.1 * height), -0.3 * height, 0.3 * height))
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    fit = min(1.0, 0.94 * aspect / max(float(high[0] - low[0]), 1e-3), 0.94 / max(float(high[1] - low[1]), 1e-3))
    width, tall = (high - low) * fit
    corner = (0.03 * aspect + rng.uniform(0, 0.5) * (0.94 * aspect - width), rng.uniform(0.03, 0.97 - tall))  # of the ink's box
    on_pad = [[(float(px), float(py)) for px, py in (stroke - low) * fit + corner] for stroke in strokes]
    touching = [a[1] > b[0] for a, b in zip(columns, columns[1:])]
    return PadNumber(on_pad, owner, label, touching)


def pad_picture(number: PadNumber, rng: np.random.Generator) -> ComposedNumber:
    """A pad number as a picture (a drawing exported or photographed), for /predict/number: its strokes drawn
    with one round pen (5% to 15% of a digit's height wide) at a random size (a digit 30 to 90 px tall),
    anti-aliased; touching[i]: do the inks of digits i and i + 1 meet (gaps were measured between the pen's
    centre lines, so a close pair may touch)."""
    digit_height = max(max(y for _, y in stroke) - min(y for _, y in stroke) for stroke in number.strokes)  # pad units
    scale = rng.uniform(30, 90) / max(digit_height, 1e-3)  # px per pad unit
    pen = max(1.0, rng.uniform(0.05, 0.15) * digit_height * scale)
    points = np.concatenate([np.asarray(stroke) for stroke in number.strokes])
    origin = points.min(axis=0) - (pen + 8) / scale
    width, height = (np.ceil((points.max(axis=0) - origin) * scale + pen + 8)).astype(int)
    layers = []
    for k in range(len(number.label)):
        mine = [stroke for stroke, owner in zip(number.strokes, number.owner) if owner == k]
        layers.append(draw_strokes([[(np.asarray(p) - origin) * scale for p in stroke] for stroke in mine], (height, width), pen))
    masks = [layer > INK_THRESHOLD for layer in layers]
    touching = [bool((a & _dilate(b)).any()) for a, b in zip(masks, masks[1:])]
    return ComposedNumber(np.max(layers, axis=0), number.label, touching)


def _cropped(ink: np.ndarray, pad: int = 2) -> np.ndarray:
    """Ink (H, W) cut down to its inked rows and columns and `pad` blank pixels around them."""
    top, bottom, left, right = ink_bounding_box(ink)
    return np.pad(ink[top:bottom, left:right], pad)


def written_number(label: str, shape: tuple[int, int] = (200, 600), gap: int = 40) -> np.ndarray:
    """Ink (H, W): the digits of `label` side by side with a round pen, the baseline stepping up and down
    (about 600 x 200 px for four digits)."""
    ink = np.zeros(shape)
    left = 30
    for k, char in enumerate(label):
        width = 30 if char == "1" else 80
        ink = np.maximum(ink, rasterise(DIGITS[int(char)], *shape, (left, 30 + 12 * (k % 2), width, 130), 7))
        left += width + gap
    return ink


def png(ink: np.ndarray, dark_on_light: bool = True) -> bytes:
    """Ink (H, W) in [0, 1] -> PNG bytes: a grey picture of it."""
    gray = 1.0 - ink if dark_on_light else ink
    buffer = io.BytesIO()
    Image.fromarray(np.round(gray * 255).astype(np.uint8), "L").save(buffer, "PNG")
    return buffer.getvalue()


def _lay_out(digits: list[np.ndarray], label: str, height: float, rng: np.random.Generator) -> ComposedNumber:
    """Place digit inks left to right with random gaps and a drifting baseline on a blank canvas."""
    kinds = rng.choice(list(GAP_SHARES), size=len(digits), p=list(GAP_SHARES.values()))
    margin = int(0.3 * height) + 2
    drift, placed, x = 0.0, [], margin
    for digit, kind in zip(digits, kinds):
        cols = np.flatnonzero((digit > INK_THRESHOLD).any(axis=0))
        left = x - cols[0]
        placed.append((left, drift, digit))
        x = left + cols[-1] + 1 + int(round(rng.uniform(*GAPS[kind]) * height))
        drift = float(np.clip(drift + rng.normal(0, 0.1 * height), -0.3 * height, 0.3 * height))
    shift = max(0, -min(left for left, _, _ in placed))  # a leaning digit's blank columns may start left of the margin
    placed = [(left + shift, y, digit) for left, y, digit in placed]
    lowest = min(y for _, y, _ in placed)
    canvas_h = int(math.ceil(max(y for _, y, _ in placed) - lowest + height)) + 2 * margin
    canvas_w = max(left + d.shape[1] for left, _, d in placed) + margin
    ink = np.zeros((canvas_h, canvas_w))
    masks = []
    for left, y, digit in placed:
        row = max(0, margin + int(round(y - lowest + height)) - digit.shape[0])  # its bottom on its drifted baseline
        layer = np.zeros_like(ink)
        layer[row : row + digit.shape[0], left : left + digit.shape[1]] = digit
        ink = np.maximum(ink, layer)
        masks.append(layer > INK_THRESHOLD)
    touching = [bool((a & _dilate(b)).any()) for a, b in zip(masks, masks[1:])]
    return ComposedNumber(ink, label, touching)


def _dilate(mask: np.ndarray) -> np.ndarray:
    """3x3 dilation of a boolean mask: the pixels 8-adjacent to it, and itself."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    wide = out.copy()
    wide[:, 1:] |= out[:, :-1]
    wide[:, :-1] |= out[:, 1:]
    return wide


MISS_KINDS = ("unknown", "wrong digit", "too many", "too few")


def miss_kind(label: str, read: str, guess: str) -> str | None:
    """How a reading missed, or None when right. read has "?" for a piece judged not a digit; guess has
    the network's best digit there instead. "unknown": the only faults are "?" on digits guessed right
    (the rejector's call); "wrong digit": the right count of digits, one read wrong; "too many" / "too few":
    the count is wrong (a digit cut in two, a broken digit left as two / touching digits read as one).
    """
    if read == label:
        return None
    if len(read) != len(label):
        return "too many" if len(read) > len(label) else "too few"
    return "unknown" if guess == label else "wrong digit"


@dataclass
class NumberScore:
    """Tally of numbers read against what was written: exact numbers, digits, and the touching cases apart."""

    numbers: int = 0
    exact: int = 0
    digits: int = 0
    digits_right: int = 0  # position by position; a number read with the wrong count of digits scores none
    touching_numbers: int = 0  # numbers with at least one touching pair
    touching_exact: int = 0
    touching_pairs: int = 0
    touching_pairs_right: int = 0  # both digits of the pair read right, in a number read with the right count

    def add(self, written: ComposedNumber | PadNumber, read: str) -> None:
        self.numbers += 1
        self.exact += read == written.label
        self.digits += len(written.label)
        same_count = len(read) == len(written.label)
        right = [same_count and a == b for a, b in zip(written.label, read.ljust(len(written.label)))]
        self.digits_right += sum(right)
        if any(written.touching):
            self.touching_numbers += 1
            self.touching_exact += read == written.label
        for k, touching in enumerate(written.touching):
            if touching:
                self.touching_pairs += 1
                self.touching_pairs_right += right[k] and right[k + 1]

    def report(self) -> dict[str, float | int]:
        def share(part: int, whole: int) -> float:
            return round(part / whole, 4) if whole else float("nan")

        apart = self.numbers - self.touching_numbers
        return {
            "numbers": self.numbers,
            "exact_accuracy": share(self.exact, self.numbers),
            "digit_accuracy": share(self.digits_right, self.digits),
            "numbers_without_touching": apart,
            "exact_accuracy_without_touching": share(self.exact - self.touching_exact, apart),
            "numbers_with_touching": self.touching_numbers,
            "exact_accuracy_with_touching": share(self.touching_exact, self.touching_numbers),
            "touching_pairs": self.touching_pairs,
            "touching_pair_accuracy": share(self.touching_pairs_right, self.touching_pairs),
        }
