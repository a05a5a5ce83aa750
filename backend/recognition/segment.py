"""From a picture of a handwritten number to its digits, in reading order, each framed the MNIST way.

    digits = segment_number(ink, classify)      # ink (H, W) in [0, 1], 0 = paper
    [(d.box, d.pixels) for d in digits]          # (x, y, w, h) in the input's pixels, (784,) float32

The steps:

  1. blobs: the 8-connected components of the pixels with ink > INK_THRESHOLD (run-length labelling, so
     the cost grows with the number of ink runs, not of pixels), after box-averaging tall pictures down
     to about WORKING_HEIGHT; specks far smaller than the largest blob are dropped as dirt;
  2. candidates (segmentation by recognition): every run of up to MAX_BLOBS neighbouring blobs that
     could be one digit (a 5 and its lifted flag, a 4 drawn in two strokes, a broken stroke: blobs that
     reach each other, no wider together than their own joined height allows (a stroke too short to be
     a digit, such as a 5's flag written apart, may reach further), and not two digit-tall
     blobs standing side by side), and inside every blob wider
     than a digit, the column ranges between cut candidates (the low points of its column ink profile:
     touching digits). Each is framed with `preprocess.ink_to_mnist` and all are classified in ONE batch;
  3. choice: a dynamic programme keeps the reading whose pieces the network reads most confidently
     (sum of log-confidences, plus DIGITNESS_WEIGHT times log P(digit) when the open-set rejector is
     given: half a digit or two digits in one look like no digit), less a penalty per digit (one digit must read clearly worse than two to
     be split), per stroke a cut goes through, for a piece wider than this number's usual digit, and for
     a stroke too short to be a digit on its own; first over blobs, then over cuts inside a blob. A small
     mark (short, with little ink) that reads as no digit alone or with its neighbours may be left out as
     dirt, for DIRT_PENALTY. A blob wider than a digit may also stay whole as one mark that is no digit, for
     MARK_COST per usual digit width: cut into thin slices, a zigzag or a hatched patch frames as a row of 1s
     that each read surely, so without that option slicing would always win.

`classify` is any callable from pixels (N, 784) float32 to probabilities (N, 10): the served network in
the service, `Model.predict_proba` in scripts and tests. The penalties were tuned on numbers composed
from MNIST's validation split (scripts/evaluate_numbers.py), never on the test set. Pure NumPy; what it
leaves out: decoding files and HTTP (backend/service), several lines of text, and deciding whether a
mark is a digit at all (the caller's model).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from backend.recognition.preprocess import INK_THRESHOLD, EmptyImageError, ink_to_mnist

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 784) float32 -> (N, 10) probabilities
DigitScore = Callable[[np.ndarray], np.ndarray]  # (N, 784) float32 -> (N,) P(digit), the open-set rejector's

SPECK_SHARE = 0.02  # a blob with less ink area than this share of the largest one is dirt
FRAGMENT_HEIGHT = 0.45  # ink shorter than this many digit heights is a stroke of a digit, a digit alone only if nothing else fits
FRAGMENT_PENALTY = 6.0
MAX_BLOBS = 4  # most blobs one digit is read as (a 5 and its flag, a 4 in two strokes, a broken stroke)
TALL = 0.75  # blobs this many digit heights tall may be whole digits...
TALL_OVERLAP = 0.5  # ...and two of them are one digit only if their columns overlap by this share of the narrower
JOIN_GAP = 0.2  # blobs more than this many digit heights apart side by side are never one digit
DIGIT_PENALTY = 0.3  # log-score lost per digit read: one digit must read clearly worse to be read as two
SPLIT_WIDER_THAN = 0.8  # a blob wider than this many digit heights may be touching digits...
SPLIT_WIDER_THAN_USUAL = 0.9  # ...and so may a blob wider than this many times the number's usual digit width
USUAL_ASPECT = 0.8  # a piece as wide as the usual digit counts as this wide for its height, for the penalty
PIECE_MIN_HEIGHT = 0.65  # a piece cut from a blob must be at least this share of the blob's height
MIN_PIECE = 0.12  # narrowest piece a cut may leave, in digit heights (a thin 1)
MAX_PIECE = 1.3  # widest piece a cut may leave, in digit heights
FLAG_SPAN = 2.5  # blobs with a stroke too short to be a digit (a 5's lifted flag reaching right) may join up to this many heights wide
WIDE_FROM = 0.9  # pieces wider than this many of their heights lose WIDE_PENALTY per height beyond
WIDE_PENALTY = 3.0
CUT_PENALTY = 0.3  # log-score lost per stroke a cut goes through...
CUT_EXTRA_PENALTY = 0.6  # ...and more for each stroke beyond the first
MAX_CUTS = 24  # candidate cuts per blob, the lowest points of its column profile (slanted touching digits meet above the lowest)
FEW_CUTS = 6  # ...and per blob of a picture whose wide blobs would give more than CUT_PIECE_BUDGET pieces
CUT_PIECE_BUDGET = 2000  # so many wide blobs is rarely a number: the work stays bounded
MARK_COST = 3.0  # log-score a wide blob kept whole as one mark that is no digit costs per usual digit width
DIRT_AREA = 0.2  # a mark shorter than a fragment with less ink than this share of a usual digit's...
DIRT_PENALTY = 1.0  # ...may be left out as dirt, for this log-score
MAX_MARKS = 64  # more separate blobs than this (after dropping specks) is not a number: refused, it would only be slow
DIGITNESS_WEIGHT = 4.0  # log P(digit) counts this much beside the log-confidence (a fragment or a pair looks "not a digit")
WORKING_HEIGHT = 96  # taller ink is box-averaged down to about this height first: plenty for a 20 px digit


class TooManyMarksError(ValueError):
    """So many separate marks that the picture is not a handwritten number (noise, text, a photo of a scene)."""


@dataclass(frozen=True)
class DigitImage:
    """One digit of the number: where it is and what the network is given.

    box: (x, y, width, height) in the input image's pixels; pixels: (784,) float32, MNIST-framed.
    """

    box: tuple[int, int, int, int]
    pixels: np.ndarray


@dataclass(frozen=True)
class Blob:
    """One connected component: its bounding box (half-open) and ink area in pixels."""

    top: int
    bottom: int
    left: int
    right: int
    area: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


def segment_number(ink: np.ndarray, classify: Classify, digit_score: DigitScore | None = None) -> list[DigitImage]:
    """Ink (H, W) in [0, 1] (0 = paper) -> its digits left to right. Raises EmptyImageError when there is no ink.

    digit_score, when given, is the open-set rejector's P(digit): pieces that look like no digit (half a
    digit, two digits in one) then score lower, so the reading whose pieces each look like a digit wins.
    """
    ink = np.clip(np.asarray(ink, dtype=np.float64), 0.0, 1.0)
    if ink.ndim != 2 or ink.size == 0:
        raise ValueError(f"expected a 2-D image, got shape {ink.shape}")
    if not (ink > INK_THRESHOLD).any():
        raise EmptyImageError("the image has no ink: write or photograph a number")
    ink, factor = reduce_to_working_height(ink)
    labels, all_blobs = connected_components(ink > INK_THRESHOLD)
    largest = max(blob.area for blob in all_blobs)
    ids = sorted((i for i, blob in enumerate(all_blobs) if blob.area >= SPECK_SHARE * largest), key=lambda i: all_blobs[i].centre)
    if len(ids) > MAX_MARKS:
        raise TooManyMarksError(f"the picture holds {len(ids)} separate marks: too many for a number of digits (at most {MAX_MARKS})")
    blobs = [all_blobs[i] for i in ids]
    height = digit_height(blobs)
    width = digit_width(blobs, height)

    # every way of reading the picture, framed and classified in one batch: runs of neighbouring blobs
    # (pieces of one digit) and, inside each wide blob, column ranges between cuts (touching digits)
    candidates: list[Candidate] = []
    for first in range(len(blobs)):
        for last in range(first, min(first + MAX_BLOBS, len(blobs))):
            if last > first and not joinable(blobs[first : last + 1], height):
                break
            candidates.append(Candidate.of(ink, labels, all_blobs, [ids[k] for k in range(first, last + 1)], (first, last + 1)))
    wide = [
        (Candidate.of(ink, labels, all_blobs, [ids[k]], (k, k + 1)), max(blob.height, 0.7 * height))
        for k, blob in enumerate(blobs)
        if blob.width > min(SPLIT_WIDER_THAN * max(blob.height, height), SPLIT_WIDER_THAN_USUAL * width)
    ]
    cut_pieces = [piece for whole, cut_height in wide for piece in whole.pieces(cut_height)]
    if len(cut_pieces) > CUT_PIECE_BUDGET:
        cut_pieces = [piece for whole, cut_height in wide for piece in whole.pieces(cut_height, FEW_CUTS)]
    candidates += cut_pieces
    batch = np.stack([c.pixels for c in candidates]).astype(np.float32)
    probabilities = classify(batch)
    digitness = digit_score(batch) if digit_score is not None else np.ones(len(candidates))
    for candidate, row, p_digit in zip(candidates, probabilities, digitness):
        candidate.confidence = float(row.max())
        candidate.digitness = float(p_digit)

    # first which blobs make each digit, then where to cut the blobs that hold several
    runs = {c.span: c.score(height, width) for c in candidates if c.cut is None}
    # a small mark that reads as no digit on its own or with its neighbours is dirt, and left out
    big = float(np.median([b.area for b in blobs if b.height >= TALL * height] or [max(b.area for b in blobs)]))
    dirt = {(k, k + 1) for k, b in enumerate(blobs) if b.area < DIRT_AREA * big and b.height < FRAGMENT_HEIGHT * height}
    dirt = {span for span in dirt if runs[span] < -DIRT_PENALTY}
    runs.update({span: -DIRT_PENALTY for span in dirt})
    digits = []
    for first, last in best_path(len(blobs), runs):
        if (first, last) in dirt:
            continue
        whole = next(c for c in candidates if c.cut is None and c.span == (first, last))
        pieces = [c for c in candidates if c.cut is not None and c.span == (first, last)]
        chosen = [whole]
        if pieces:
            scores = {c.cut: c.score(height, width) - c.cut_cost() for c in pieces}
            # kept whole, the blob may be one mark that is no digit (read as "?"), at a bounded cost
            scores[(0, whole.width)] = max(whole.score(height, width), -MARK_COST * whole.width / width)
            chosen = [next(c for c in [whole, *pieces] if (c.cut or (0, whole.width)) == cut) for cut in best_path(whole.width, scores)]
        digits += [DigitImage(tuple(int(v * factor) for v in c.box), c.pixels) for c in chosen]
    digits.sort(key=lambda d: d.box[0] + d.box[2] / 2)
    return digits


@dataclass
class Candidate:
    """One way to read part of the picture as a digit: some blobs (span: their run in reading order), or a
    column range (cut) of one blob. ink (h, w) is its own ink, box (x, y, w, h) where it is in the picture."""

    span: tuple[int, int]
    ink: np.ndarray
    origin: tuple[int, int]  # (top, left) of ink in the picture
    cut: tuple[int, int] | None = None
    crossed: int = 0  # strokes the cut on its left goes through
    confidence: float = 0.0
    digitness: float = 1.0  # P(digit) from the rejector; 1 when there is none
    _pixels: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of(cls, ink: np.ndarray, labels: np.ndarray, blobs: list[Blob], blob_ids: list[int], span: tuple[int, int]) -> Candidate:
        """The blobs' own ink (and the faint unlabelled edges around it, but no other blob's ink), cropped."""
        members = [blobs[i] for i in blob_ids]
        top, bottom = min(b.top for b in members), max(b.bottom for b in members)
        left, right = min(b.left for b in members), max(b.right for b in members)
        window = labels[top:bottom, left:right]
        others = (window > 0) & ~np.isin(window, [i + 1 for i in blob_ids])
        return cls(span, np.where(others, 0.0, ink[top:bottom, left:right]), (top, left))

    @property
    def width(self) -> int:
        return self.ink.shape[1]

    @property
    def height(self) -> int:
        rows = np.flatnonzero((self.ink > INK_THRESHOLD).any(axis=1))
        return int(rows[-1] - rows[0] + 1) if rows.size else 0

    @property
    def box(self) -> tuple[int, int, int, int]:
        mask = self.ink > INK_THRESHOLD
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        left = self.origin[1] + (self.cut[0] if self.cut else 0)
        return (left + int(cols[0]), self.origin[0] + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))

    @property
    def pixels(self) -> np.ndarray:
        if self._pixels is None:
            self._pixels = ink_to_mnist(self.ink)
        return self._pixels

    def score(self, height: float, usual_width: float) -> float:
        """log-confidence, less a penalty for being wider than a digit, less the cost of one more digit."""
        aspect = max(self.width / max(self.height, 0.7 * height), self.width / usual_width * USUAL_ASPECT)
        fragment = FRAGMENT_PENALTY if self.height < FRAGMENT_HEIGHT * height else 0.0
        belief = math.log(max(self.confidence, 1e-6)) + DIGITNESS_WEIGHT * math.log(max(self.digitness, 1e-6))
        return belief - WIDE_PENALTY * max(0.0, aspect - WIDE_FROM) - DIGIT_PENALTY - fragment

    def cut_cost(self) -> float:
        """What the cut on this piece's left costs: touching digits meet in one stroke, a cut through a 0 crosses two."""
        if self.cut is None or self.cut[0] == 0:
            return 0.0
        return CUT_PENALTY * self.crossed + CUT_EXTRA_PENALTY * max(0, self.crossed - 1)

    def pieces(self, height: float, max_cuts: int = MAX_CUTS) -> list[Candidate]:
        """Column ranges between cut candidates that could each be one digit (a blob of touching digits)."""
        cuts = [0, *cut_candidates(self.ink, height, max_cuts), self.width]
        mask = self.ink > INK_THRESHOLD
        out = []
        for i in range(len(cuts)):
            for j in range(i + 1, len(cuts)):
                start, end = cuts[i], cuts[j]
                if (i, j) == (0, len(cuts) - 1) or not MIN_PIECE * height <= end - start <= MAX_PIECE * height:
                    continue
                piece = self.ink[:, start:end]
                rows = np.flatnonzero((piece > INK_THRESHOLD).any(axis=1))
                # a piece much shorter than its blob is a stroke of a digit (a 2's foot, a 5's flag), not one
                if rows.size == 0 or rows[-1] - rows[0] + 1 < PIECE_MIN_HEIGHT * self.height:
                    continue
                crossed = int(np.count_nonzero(np.diff(mask[:, start].astype(np.int8)) == 1) + mask[0, start]) if start > 0 else 0
                out.append(Candidate(self.span, piece, self.origin, (start, end), crossed))
        return out


def joinable(blobs: list[Blob], height: float) -> bool:
    """Can these neighbouring blobs (in reading order) be one digit: does each reach the ones before it?"""
    left, right = blobs[0].left, blobs[0].right
    for k, blob in enumerate(blobs[1:], 1):
        if blob.left - right > JOIN_GAP * height:
            return False
        # two digit-tall blobs side by side are two digits (a 1 leaning on a 7), unless one stands inside the other
        for other in blobs[:k]:
            overlap = min(other.right, blob.right) - max(other.left, blob.left)
            if min(other.height, blob.height) >= TALL * height and overlap < TALL_OVERLAP * min(other.width, blob.width):
                return False
        left, right = min(left, blob.left), max(right, blob.right)
    span = max(b.right for b in blobs) - min(b.left for b in blobs)
    # a digit broken across its height (a 3 in two halves) is as tall as its pieces together, not as one piece
    tall = max(b.bottom for b in blobs) - min(b.top for b in blobs)
    # a 5's flag written apart often reaches well past the body: the pair is wider than one digit's piece
    widest = FLAG_SPAN if any(b.height < FRAGMENT_HEIGHT * height for b in blobs) else MAX_PIECE
    return span <= widest * max(height, tall)


def best_path(end: int, edges: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    """The edges (start, stop) chaining 0 to `end` whose scores sum highest (a dynamic programme, stops ascending)."""
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for stop in sorted({s for _, s in edges}):
        options = [(best[a][0] + score, best[a][1] + [(a, b)]) for (a, b), score in edges.items() if b == stop and a in best]
        if options:
            best[stop] = max(options, key=lambda option: option[0])
    return best[end][1]


def reduce_to_working_height(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """Box-average by the integer factor that brings the ink's height near WORKING_HEIGHT; (ink, factor)."""
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    factor = max(1, (rows[-1] - rows[0] + 1) // WORKING_HEIGHT)
    if factor == 1:
        return ink, 1
    height, width = (ink.shape[0] // factor) * factor, (ink.shape[1] // factor) * factor
    return ink[:height, :width].reshape(height // factor, factor, width // factor, factor).mean(axis=(1, 3)), factor


def connected_components(mask: np.ndarray) -> tuple[np.ndarray, list[Blob]]:
    """8-connected components of a boolean mask (H, W): labels (H, W) int32 (0 = none, i + 1 = blobs[i]) and the blobs."""
    steps = np.diff(mask.astype(np.int8), axis=1, prepend=0, append=0)  # (H, W + 1): +1 where a run starts, -1 past its end
    run_rows, run_starts = np.nonzero(steps == 1)
    _, run_ends = np.nonzero(steps == -1)  # same row-major order: the k-th end closes the k-th start
    n = len(run_rows)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # runs of neighbouring rows touch (8-connected) when their column ranges overlap or meet at a corner
    row_first = np.searchsorted(run_rows, np.arange(mask.shape[0] + 1))
    rows, starts, ends = run_rows.tolist(), run_starts.tolist(), run_ends.tolist()
    for i in range(n):
        row = rows[i]
        if row == 0:
            continue
        for j in range(row_first[row - 1], row_first[row]):
            if starts[j] > ends[i]:
                break
            if ends[j] >= starts[i]:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    roots = np.array([find(i) for i in range(n)], dtype=np.int64)
    _, component = np.unique(roots, return_inverse=True)
    count = int(component.max()) + 1 if n else 0

    lengths = run_ends - run_starts
    labels = np.zeros(mask.shape, dtype=np.int32)
    pixel_rows = np.repeat(run_rows, lengths)
    offsets = np.repeat(np.cumsum(lengths) - lengths - run_starts, lengths)
    labels[pixel_rows, np.arange(int(lengths.sum())) - offsets] = np.repeat(component + 1, lengths)

    def per_blob(reduce: np.ufunc, values: np.ndarray, initial: int) -> np.ndarray:
        out = np.full(count, initial, dtype=np.int64)
        reduce.at(out, component, values)
        return out

    tops, bottoms = per_blob(np.minimum, run_rows, mask.shape[0]), per_blob(np.maximum, run_rows + 1, 0)
    lefts, rights = per_blob(np.minimum, run_starts, mask.shape[1]), per_blob(np.maximum, run_ends, 0)
    areas = np.bincount(component, weights=lengths, minlength=count).astype(np.int64)
    blobs = [Blob(*(int(v) for v in values)) for values in zip(tops, bottoms, lefts, rights, areas)]
    return labels, blobs


def digit_width(blobs: list[Blob], height: float) -> float:
    """The usual width of a digit in this picture: the median width of its digit-tall blobs, within sensible bounds."""
    widths = [blob.width for blob in blobs if blob.height >= TALL * height]
    return float(np.clip(np.median(widths), 0.4 * height, 0.85 * height)) if widths else 0.7 * height


def digit_height(blobs: list[Blob]) -> float:
    """The height of one digit: the median height of the blobs at least half as tall as the tallest (not a flag or a dot)."""
    tallest = max(blob.height for blob in blobs)
    return float(np.median([blob.height for blob in blobs if blob.height >= 0.5 * tallest]))


def cut_candidates(group_ink: np.ndarray, height: float, max_cuts: int = MAX_CUTS) -> list[int]:
    """Columns where a cut may go: local minima of the column ink profile, lowest first, at most max_cuts, sorted."""
    profile = group_ink.sum(axis=0)
    width = len(profile)
    margin = max(1, math.ceil(MIN_PIECE * height))
    padded = np.concatenate([[np.inf], profile, [np.inf]])
    is_low = (padded[1:-1] <= padded[:-2]) & (padded[1:-1] <= padded[2:])
    columns = [c for c in np.flatnonzero(is_low) if margin <= c <= width - margin]
    chosen: list[int] = []
    for c in sorted(columns, key=lambda c: profile[c]):
        if all(abs(c - other) > 2 for other in chosen):
            chosen.append(int(c))
        if len(chosen) == max_cuts:
            break
    return sorted(chosen)
