"""Drawings that are not digits (and drawn digits), made the way the page and /predict/image see them.

Every picture is drawn at a random size on a blank canvas, then framed by the same
`preprocess.ink_to_mnist` step the page and /predict/image apply, so the model meets non-digits in the
form it will meet them when served. The kinds (each a `Kind`):

  stroke_letters  letters and signs of sketches.LETTERS drawn as pen strokes
  font_letters    letters rendered from a font file (handwriting fonts among them), tilted and thickened
  shapes          sketches.SHAPES: polygons, stars, hearts, arrows, smileys, houses, doodles...
  doodles         doodles.FAMILIES, each drawing new from random parameters (irregular polygons, lumpy
                  blobs, zigzags, spirals, hatching, faces...): train and validation only, so the report
                  split stays the set it was (its shapes test how the families generalise)
  scribbles       smooth random curves with many turns, and bundles of random straight strokes
  digit_pairs     two MNIST digits side by side or overlapping (one picture, two digits: not "a digit")

Each stroke figure is re-drawn every time: a random slant, rotation, aspect, wobble of every point,
pen width (a share of the drawing's size, as the page's pen follows the drawing) and canvas size.
Positives drawn the same way (`drawn_digits`: sketches.DIGITS and font digits) keep the model from
learning "pen-drawn means not a digit".

Outside the report split, font letters and font digits also vary more (size, weight, slant, width:
`render_glyph(varied=True)`); the report split draws exactly as before.

Splits: "train" fits the rejector, "validation" chooses its thresholds (training fonts and shapes,
other seeds), "report" is the held-out set the README's figures come from: fonts (HELD_OUT_FONTS) and
shapes (HELD_OUT_SHAPES) never used in the other two, and its own seeds.
What this module leaves out: the model (openset.py) and MNIST's digits themselves (backend.nn.mnist).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from backend.nn.shapes import IMAGE_SIDE, N_INPUTS
from backend.recognition.doodles import FAMILIES
from backend.recognition.preprocess import EmptyImageError, ink_to_mnist
from backend.recognition.sketches import DIGITS, LETTERS, SHAPES, Figure

FONT_DIRS = (Path("/usr/share/fonts"),)
# Debian packages: fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-urw-base35 fonts-comic-neue
# fonts-dkg-handwriting fonts-breip fonts-kristi fonts-sjfonts (training); fonts-humor-sans
# fonts-femkeklaver fonts-rufscript (held out, with other files of fonts-sjfonts and fonts-urw-base35)
TRAIN_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSansMono.ttf",
    "LiberationSans-Regular.ttf",
    "LiberationSerif-Italic.ttf",
    "FreeSans.ttf",
    "FreeSerifBoldItalic.ttf",
    "NimbusRoman-Italic.otf",
    "URWGothic-Book.otf",
    "C059-Roman.otf",
    "Z003-MediumItalic.otf",
    "ComicNeue-Regular.otf",
    "dkg.ttf",
    "Breip.ttf",
    "Kristi.ttf",
    "SteveHand.ttf",
)
HELD_OUT_FONTS = (
    "Humor-Sans.ttf",
    "femkeklaver.ttf",
    "Rufscript010.ttf",
    "Delphine.ttf",
    "URWBookman-LightItalic.otf",
    "P052-Italic.otf",
    "NimbusSansNarrow-Regular.otf",
    "FreeMono.ttf",
)
HELD_OUT_SHAPES = ("fish", "cloud", "stick_figure", "envelope", "tictactoe", "lightning", "cat_face", "eye", "hexagon", "umbrella")
TRAIN_SHAPES = tuple(name for name in SHAPES if name not in HELD_OUT_SHAPES)
SPLITS = ("train", "validation", "report")
SPLIT_SEED = {"train": 1_000, "validation": 2_000, "report": 3_000}  # seeds never shared between splits


class FontsMissingError(RuntimeError):
    """None of a split's font files is installed; the message names the Debian packages."""


@functools.cache
def font_path(name: str) -> Path | None:
    """The installed file called `name` under FONT_DIRS, or None."""
    for root in FONT_DIRS:
        found = sorted(root.rglob(name)) if root.is_dir() else []
        if found:
            return found[0]
    return None


def fonts_for(split: str) -> list[Path]:
    names = HELD_OUT_FONTS if split == "report" else TRAIN_FONTS
    paths = [p for p in (font_path(n) for n in names) if p is not None]
    if not paths:
        raise FontsMissingError(f"none of the {split} fonts {names} is installed under {FONT_DIRS}: see negatives.py for the packages")
    return paths


# --- drawing strokes ----------------------------------------------------------------------------------


def jitter(figure: Figure, rng: np.random.Generator, wobble: float = 0.025) -> Figure:
    """The figure re-drawn by an unsteady hand: an overall slant/rotation/aspect, each point wobbling.

    Strokes are resampled to about 40 points per unit of length first, so the wobble is a smooth curve
    (a running mean of random steps) rather than noise on a few corners.
    """
    angle = math.radians(rng.normal(0, 9))
    shear = rng.uniform(-0.35, 0.35)
    sx, sy = np.exp(rng.normal(0, 0.18, size=2))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    affine = rot @ np.array([[sx, shear], [0.0, sy]])  # (2,2): slant, then aspect, then rotation
    amplitude = rng.uniform(0, wobble)
    out = []
    for stroke in figure:
        points = _resample(np.asarray(stroke, dtype=np.float64))  # (n, 2)
        if len(points) > 2:
            steps = rng.normal(0, 1, size=points.shape)
            width = max(3, len(points) // 4)
            kernel = np.ones(width) / width
            smooth = np.stack([np.convolve(np.cumsum(steps[:, k]), kernel, mode="same") for k in range(2)], axis=1)
            smooth -= smooth.mean(axis=0)
            scale = np.abs(smooth).max() or 1.0
            points = points + amplitude * smooth / scale
        points = points + rng.normal(0, wobble * 0.6, size=2)  # each stroke lands a little off
        out.append([tuple(p) for p in (points - 0.5) @ affine.T + 0.5])
    return out


def _resample(points: np.ndarray, per_unit: float = 40.0) -> np.ndarray:
    if len(points) < 2:
        return points
    seg = np.hypot(*np.diff(points, axis=0).T)
    arclen = np.concatenate([[0.0], np.cumsum(seg)])
    if arclen[-1] == 0:
        return points[:1]
    n = max(2, int(arclen[-1] * per_unit))
    t = np.linspace(0, arclen[-1], n)
    return np.stack([np.interp(t, arclen, points[:, 0]), np.interp(t, arclen, points[:, 1])], axis=1)


def render_strokes(figure: Figure, rng: np.random.Generator, pen_share: float | None = None, side: int | None = None) -> np.ndarray:
    """Ink (S, S) in [0, 1] of the figure drawn on a canvas of side S (random in [40, 140) if None) with a round pen.

    The pen is `pen_share` of the drawing's longer side (random in [0.05, 0.22] if None; the page's own
    pen is 0.16 of it); drawn at twice the size and box-averaged down, for anti-aliased edges.
    """
    points = np.concatenate([np.asarray(s, dtype=np.float64) for s in figure])
    low, high = points.min(axis=0), points.max(axis=0)
    extent = float(max(high - low)) or 1.0
    side = int(rng.integers(40, 140)) if side is None else side
    pen_share = rng.uniform(0.05, 0.22) if pen_share is None else pen_share
    pen = max(1.0, pen_share * side * 0.75)
    scale = (side - pen - 4) * 0.75 / extent  # the drawing's longer side fills ~3/4 of the canvas
    offset = (side - (high - low) * scale) / 2 - low * scale
    return draw_strokes([[np.asarray(p) * scale + offset for p in stroke] for stroke in figure], (side, side), pen)


def draw_strokes(strokes: list[list[np.ndarray]], shape: tuple[int, int], pen: float, big: int = 2) -> np.ndarray:
    """Ink (H, W) in [0, 1]: strokes of (x, y) points in pixels drawn with a round pen `pen` px wide, at `big`
    times the size and box-averaged down, for anti-aliased edges."""
    height, width = shape
    image = Image.new("L", (width * big, height * big), 0)
    draw = ImageDraw.Draw(image)
    line_width = max(1, int(round(pen * big)))
    r = line_width / 2
    for stroke in strokes:
        xy = [tuple(float(v) for v in np.asarray(p) * big) for p in stroke]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=line_width, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round caps (and a tap's dot)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image, dtype=np.float64).reshape(height, big, width, big).mean(axis=(1, 3)) / 255.0


# --- fonts --------------------------------------------------------------------------------------------


@functools.cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def render_glyph(text: str, font: Path, rng: np.random.Generator, varied: bool = False) -> np.ndarray:
    """Ink (H, W) in [0, 1] of `text` in the font, at a random size, tilt and stroke weight.

    varied: wider ranges (heavier weights, more slant) and a random width (squeezed or stretched
    sideways), drawn from further numbers of rng; False draws exactly what it always drew.
    """
    size = int(rng.integers(28, 72))
    face = _font(font, size)
    side = size * 2
    image = Image.new("L", (side, side), 0)
    weight = int(rng.choice([0, 0, 1, 2])) if size > 40 else int(rng.choice([0, 0, 1]))
    if varied:
        weight = int(rng.integers(0, 2 + size // 16))
    ImageDraw.Draw(image).text((side / 2, side / 2), text, fill=255, font=face, anchor="mm", stroke_width=weight, stroke_fill=255)
    shear = rng.uniform(-0.3, 0.3)
    width = 1.0
    if varied:
        shear, width = rng.uniform(-0.5, 0.5), float(np.exp(rng.normal(0, 0.25)))
    # output (x, y) reads source ((x - side / 2) / width + shear * (y - side / 2) + side / 2, y)
    matrix = (1 / width, shear, side / 2 - side / 2 / width - shear * side / 2, 0, 1, 0)
    image = image.transform(image.size, Image.Transform.AFFINE, matrix, resample=Image.Resampling.BILINEAR)
    image = image.rotate(rng.normal(0, 8), resample=Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float64) / 255.0


# --- the kinds ----------------------------------------------------------------------------------------


def frame(ink: np.ndarray) -> np.ndarray | None:
    """ink_to_mnist, or None for a picture that lost all its ink (a glyph the font lacks)."""
    try:
        return ink_to_mnist(ink)
    except EmptyImageError:
        return None


def stroke_letter(rng: np.random.Generator, split: str) -> tuple[np.ndarray | None, str]:
    name = str(rng.choice(sorted(LETTERS)))
    return frame(render_strokes(jitter(LETTERS[name], rng), rng)), f"stroke_letters/{name}"


def font_letter(rng: np.random.Generator, split: str) -> tuple[np.ndarray | None, str]:
    fonts = fonts_for(split)
    font = fonts[int(rng.integers(len(fonts)))]
    name = str(rng.choice(sorted(LETTERS)))
    return frame(render_glyph(name, font, rng, varied=split != "report")), f"font_letters/{font.stem}"


def shape(rng: np.random.Generator, split: str) -> tuple[np.ndarray | None, str]:
    names = HELD_OUT_SHAPES if split == "report" else TRAIN_SHAPES
    name = str(rng.choice(names))
    return frame(render_strokes(jitter(SHAPES[name], rng, wobble=0.035), rng)), f"shapes/{name}"


def doodle(rng: np.random.Generator, split: str) -> tuple[np.ndarray | None, str]:
    assert split != "report", "the report split has no doodles: its shapes are the held-out test of them"
    name = str(rng.choice(sorted(FAMILIES)))
    return frame(render_strokes(jitter(FAMILIES[name](rng), rng, wobble=0.035), rng)), f"doodles/{name}"


def scribble(rng: np.random.Generator, split: str) -> tuple[np.ndarray | None, str]:
    if rng.random() < 0.5:
        # a smooth curve with many turns: a random walk whose heading drifts, 5 to 12 turns' worth
        n = int(rng.integers(60, 160))
        turn = np.cumsum(rng.normal(0, 0.35, n)) + rng.uniform(0, 2 * math.pi)
        steps = np.stack([np.cos(turn), np.sin(turn)], axis=1) * 0.04
        points = np.cumsum(steps, axis=0)
        figure: Figure = [[tuple(p) for p in points]]
        kind = "scribbles/curve"
    else:
        # a bundle of 3 to 7 straight strokes at random
        figure = [[tuple(rng.uniform(0, 1, 2)), tuple(rng.uniform(0, 1, 2))] for _ in range(int(rng.integers(3, 8)))]
        kind = "scribbles/strokes"
    return frame(render_strokes(jitter(figure, rng, wobble=0.01), rng)), kind


def digit_pair(rng: np.random.Generator, split: str, digits: np.ndarray | None = None) -> tuple[np.ndarray | None, str]:
    """Two of `digits` (N, 784) side by side, touching or overlapping a little."""
    assert digits is not None and len(digits) >= 2, "digit_pairs needs MNIST digits of the split"
    i, j = rng.choice(len(digits), size=2, replace=False)
    a, b = (digits[k].reshape(IMAGE_SIDE, IMAGE_SIDE) for k in (i, j))
    gap = int(rng.integers(-8, 3))  # negative: the second digit overlaps the first
    drop = int(rng.integers(-4, 5))
    canvas = np.zeros((IMAGE_SIDE + 8, 2 * IMAGE_SIDE + 4))
    canvas[4 : 4 + IMAGE_SIDE, :IMAGE_SIDE] = a
    left = IMAGE_SIDE - 4 + gap
    patch = canvas[4 + drop : 4 + drop + IMAGE_SIDE, left : left + IMAGE_SIDE]
    np.maximum(patch, b, out=patch)
    return frame(canvas), "digit_pairs"


@dataclass(frozen=True)
class Kind:
    name: str
    make: Callable[..., tuple[np.ndarray | None, str]]
    share: float  # of a generated set
    in_report: bool = True  # drawn in the report split too


KINDS = (
    Kind("stroke_letters", stroke_letter, 0.3),
    Kind("font_letters", font_letter, 0.25),
    Kind("shapes", shape, 0.2),
    Kind("scribbles", scribble, 0.15),
    Kind("digit_pairs", digit_pair, 0.1),
    Kind("doodles", doodle, 0.25, in_report=False),
)


@dataclass(frozen=True)
class DrawnSet:
    """images (N, 784) float32 framed like MNIST; labels[i] names what image i is ("shapes/heart", ...)."""

    images: np.ndarray
    labels: list[str]

    def kind_of(self, level: int = 1) -> np.ndarray:
        """Each image's label cut to `level` parts: 1 -> "shapes", 2 -> "shapes/heart"."""
        return np.array(["/".join(label.split("/")[:level]) for label in self.labels])


def make_negatives(n: int, split: str, seed: int = 0, digits: np.ndarray | None = None) -> DrawnSet:
    """n non-digit drawings of `split` (see the module docstring), reproducible from (split, seed).

    `digits` (M, 784): the MNIST digits the digit pairs are made of (use the split's own digits).
    """
    assert split in SPLITS, f"split must be one of {SPLITS}"
    rng = np.random.default_rng([SPLIT_SEED[split], seed])
    kinds = [k for k in KINDS if k.in_report or split != "report"]
    counts = _counts(n, [k.share for k in kinds])
    images, labels = [], []
    for kind, count in zip(kinds, counts):
        made = 0
        while made < count:
            extra = {"digits": digits} if kind.make is digit_pair else {}
            image, label = kind.make(rng, split, **extra)
            if image is not None:
                images.append(image)
                labels.append(label)
                made += 1
    return DrawnSet(np.stack(images).astype(np.float32) if images else np.zeros((0, N_INPUTS), np.float32), labels)


def make_drawn_digits(n: int, split: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n digits drawn as pen strokes (sketches.DIGITS, jittered) or in a font: images (n, 784), digits (n,)."""
    images, labels, _ = make_drawn_digits_by_source(n, split, seed)
    return images, labels


def make_drawn_digits_by_source(n: int, split: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """make_drawn_digits's digits (the same ones) and how each was made: "strokes" or "font/<font file's stem>" (n,)."""
    assert split in SPLITS, f"split must be one of {SPLITS}"
    rng = np.random.default_rng([SPLIT_SEED[split], seed, 7])
    fonts = fonts_for(split)
    images, labels, sources = [], [], []
    while len(images) < n:
        digit = int(rng.integers(10))
        if rng.random() < 0.7:
            variants = DIGITS[digit]
            image = frame(render_strokes(jitter(variants[int(rng.integers(len(variants)))], rng, wobble=0.02), rng))
            source = "strokes"
        else:
            font = fonts[int(rng.integers(len(fonts)))]
            image = frame(render_glyph(str(digit), font, rng, varied=split != "report"))
            source = f"font/{font.stem}"
        if image is not None:
            images.append(image)
            labels.append(digit)
            sources.append(source)
    return np.stack(images).astype(np.float32), np.array(labels), np.array(sources)


def _counts(n: int, shares: list[float]) -> list[int]:
    counts = [int(n * s / sum(shares)) for s in shares]
    counts[0] += n - sum(counts)
    return counts
