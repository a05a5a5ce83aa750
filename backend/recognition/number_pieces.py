"""Digits as the number segmenter cuts them out of a number: positives for the rejector.

A digit inside a handwritten number does not reach the network as a clean MNIST digit: the number is
written at its own size and slant, and segment.py frames each piece again with ink_to_mnist. Where
two digits touch, a piece is a column range of their joint blob, so it may keep a sliver of the
neighbour at its left or right edge, lose the end of a stroke to the cut, or come out narrower or
wider than the digit was. The rejector must call such pieces digits, or whole numbers read "?".

`number_pieces` makes them: it writes one MNIST digit beside one or two neighbours (scaled to one
height, slanted, on a drifting baseline, touching or close), finds the ink's blobs and cut pieces with
segment.py's own Candidate, connected_components and cut rules, and keeps the piece that holds most of
the digit and little else (at least MIN_COVERAGE of its ink, at most 1 - MIN_SHARE of the piece from
the neighbours). A share ALONE of the pieces are the digit written alone at the number's size and
slant (what a digit with a wide gap to its neighbours is framed as).
What this module leaves out: which piece the segmenter finally chooses (that needs the model) and
pieces that hold half a digit or two (not labelled digits here).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from backend.nn.shapes import IMAGE_SIDE, N_INPUTS
from backend.recognition.preprocess import INK_THRESHOLD, ink_to_mnist
from backend.recognition.segment import SPECK_SHARE, Candidate, connected_components, digit_height

MIN_COVERAGE = 0.85  # the piece holds at least this share of its digit's ink...
MIN_SHARE = 0.8  # ...and at least this share of the piece's ink is that digit's
ALONE = 0.3  # share of pieces that are the digit written alone (no neighbour in its blob)
TOUCHING = 0.75  # of the rest: the neighbours' inks overlap (one blob); else a close gap (own blobs, maybe leaning in)


def number_pieces(images: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n pieces (n, 784) float32 framed like segment.py frames them, cut from numbers written with
    `images` (N, 784) in [0, 1], and their digits (n,) (the digit each piece mostly holds)."""
    out, out_labels = [], []
    while len(out) < n:
        target = int(rng.integers(len(images)))
        piece = _piece(images, target, rng)
        if piece is not None:
            out.append(piece)
            out_labels.append(int(labels[target]))
    if not out:
        return np.zeros((0, N_INPUTS), np.float32), np.zeros(0, np.int64)
    return np.stack(out).astype(np.float32), np.array(out_labels)


def _piece(images: np.ndarray, target: int, rng: np.random.Generator) -> np.ndarray | None:
    height = rng.uniform(28, 90)
    slant = rng.uniform(-0.3, 0.3)
    if rng.random() < ALONE:
        return ink_to_mnist(written_digit(images[target], height, slant, rng))
    left_n = int(rng.integers(0, 2)) if rng.random() < 0.5 else 1
    right_n = 1 if left_n == 0 else int(rng.integers(0, 2))
    order = [int(i) for i in rng.integers(len(images), size=left_n)] + [target] + [int(i) for i in rng.integers(len(images), size=right_n)]
    at = left_n
    inks = [written_digit(images[i], height, slant, rng) for i in order]
    touching = rng.random() < TOUCHING
    layers = _lay_out(inks, height, touching, rng)
    ink = np.max(layers, axis=0)
    label_grid, blobs = connected_components(ink > INK_THRESHOLD)
    largest = max(blob.area for blob in blobs)
    kept = [i for i, blob in enumerate(blobs) if blob.area >= SPECK_SHARE * largest]
    mine = layers[at] > INK_THRESHOLD
    # the blob holding most of the target's ink; a digit written in two strokes keeps only its main part here
    counts = [int(np.count_nonzero(mine & (label_grid == i + 1))) for i in kept]
    main = kept[int(np.argmax(counts))]
    whole = Candidate.of(ink, label_grid, blobs, [main], (0, 1))
    blob = blobs[main]
    own = layers[at][blob.top : blob.bottom, blob.left : blob.right]
    others = np.max(np.delete(layers, at, axis=0), axis=0)[blob.top : blob.bottom, blob.left : blob.right]
    own_ink = float(np.where(own > INK_THRESHOLD, own, 0).sum())
    if own_ink == 0:
        return None
    options = [(whole, 0, whole.width)]
    options += [(p, p.cut[0], p.cut[1]) for p in whole.pieces(max(blob.height, 0.7 * digit_height([blobs[i] for i in kept])))]
    good = []
    for candidate, start, end in options:
        in_own = float(np.where(own[:, start:end] > INK_THRESHOLD, own[:, start:end], 0).sum())
        from_others = float(np.where(others[:, start:end] > own[:, start:end], others[:, start:end], 0).sum())
        if in_own >= MIN_COVERAGE * own_ink and in_own >= MIN_SHARE * (in_own + from_others):
            good.append(candidate)
    if not good:
        return None
    return good[int(rng.integers(len(good)))].pixels


def written_digit(image: np.ndarray, height: float, slant: float, rng: np.random.Generator) -> np.ndarray:
    """A digit (784,) cropped to its ink, scaled to about `height` px tall (+-15%) and leaned by `slant`
    (+-0.08; top to the right when positive): ink (h, w) in [0, 1], as a hand writes it within a number.
    Also what backend/testing/numbers.py composes its numbers from."""
    grid = image.reshape(IMAGE_SIDE, IMAGE_SIDE)
    rows = np.flatnonzero((grid > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((grid > INK_THRESHOLD).any(axis=0))
    crop = grid[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = height * rng.uniform(0.85, 1.15) / crop.shape[0]
    lean_by = slant + rng.uniform(-0.08, 0.08)
    out_h = max(1, round(crop.shape[0] * scale))
    lean = lean_by * out_h
    out_w = max(1, round(crop.shape[1] * scale + abs(lean))) + 1
    shift = -lean if lean < 0 else 0.0
    # output (x, y) reads source ((x - lean_by * (out_h - y) - shift) / scale, y / scale)
    coefficients = (1 / scale, lean_by / scale, (-lean - shift) / scale, 0.0, 1 / scale, 0.0)
    warped = Image.fromarray(crop.astype(np.float32), "F").transform(
        (out_w, out_h), Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR
    )
    return np.clip(np.asarray(warped, dtype=np.float64), 0.0, 1.0)


def _lay_out(inks: list[np.ndarray], height: float, touching: bool, rng: np.random.Generator) -> np.ndarray:
    """Each ink on its own layer (K, H, W) of one canvas, left to right, baselines drifting a little."""
    margin = int(0.3 * height) + 2
    placed, x, drift = [], margin, 0.0
    for ink in inks:
        cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
        left = max(0, x - int(cols[0]))
        placed.append((left, drift, ink))
        gap = rng.uniform(-0.12, -0.01) if touching else rng.uniform(0.0, 0.12)
        x = left + int(cols[-1]) + 1 + int(round(gap * height))
        drift = float(np.clip(drift + rng.normal(0, 0.08 * height), -0.2 * height, 0.2 * height))
    lowest = min(y for _, y, _ in placed)
    canvas_h = int(np.ceil(max(y for _, y, _ in placed) - lowest + 1.2 * height)) + 2 * margin
    canvas_w = max(left + ink.shape[1] for left, _, ink in placed) + margin
    layers = np.zeros((len(inks), canvas_h, canvas_w))
    for k, (left, y, ink) in enumerate(placed):
        row = max(0, margin + int(round(y - lowest + 1.2 * height)) - ink.shape[0])
        layers[k, row : row + ink.shape[0], left : left + ink.shape[1]] = ink
    return layers
