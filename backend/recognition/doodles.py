"""Doodles made from random parameters: whole families of shapes people draw, never the same one twice.

sketches.SHAPES holds one skeleton per named shape; a family here draws a new member each call from
its parameters (how many corners, how lumpy, which way it points), so the rejector learns the family
rather than one drawing of it. Each family is a function rng -> Figure (strokes of (x, y) points, x
right and y down, roughly in a unit box); negatives.py jitters, renders and frames them like the rest.

The families (FAMILIES): irregular polygons with 3 to 9 corners, lumpy and scalloped closed blobs,
star outlines, zigzag and lightning-like polylines, arrows in any direction, spirals of two or more
turns, hatching and cross-hatching, tally marks, faces, houses, concentric rings, windows and rows of
loops. They are generic: none copies a skeleton of negatives.HELD_OUT_SHAPES, though a family may
happen to hold members that look like one (a six-cornered polygon, a scalloped blob, a three-segment
zigzag) - which is what it means for the rejector to generalise.

Kept away from what people read as digits: a closed blob is always clearly lumpy or cornered (a smooth
oval is a 0), spirals turn at least twice (one turn is a 6 or a 9), zigzags have at least three
segments (two make a 7, an L or a V) and nothing is a loop on a stick (a 9, a 6).
What this module leaves out: pixels (negatives.render_strokes) and the fixed skeletons (sketches.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from backend.recognition.sketches import Figure, Stroke, arc, line


def _closed(radius: Callable[[np.ndarray], np.ndarray], start: float, points: int = 90) -> Stroke:
    """A closed curve around (0.5, 0.5): radius(theta) (n,) at `points` angles from `start`, the first point repeated."""
    theta = start + np.linspace(0, 2 * math.pi, points)
    r = radius(theta)
    r = 0.48 * r / r.max()
    return [(0.5 + float(a) * math.cos(t), 0.5 + float(a) * math.sin(t)) for a, t in zip(r, theta)]


def irregular_polygon(rng: np.random.Generator) -> Figure:
    """3 to 9 corners at uneven angles and radii: sides of different lengths, closed in one stroke."""
    n = int(rng.integers(3, 10))
    angles = np.sort((np.arange(n) + rng.uniform(-0.3, 0.3, n)) * 2 * math.pi / n) + rng.uniform(0, 2 * math.pi)
    radii = rng.uniform(0.65, 1.0, n) * 0.48
    corners = [(0.5 + r * math.cos(a), 0.5 + r * math.sin(a)) for r, a in zip(radii, angles)]
    return [line(*corners, corners[0])]


def lumpy_blob(rng: np.random.Generator) -> Figure:
    """A closed outline with 3 to 7 clear bumps (a potato, a puddle): never a smooth oval."""
    k = int(rng.integers(3, 8))
    amplitude = rng.uniform(0.15, 0.3)
    phase = rng.uniform(0, 2 * math.pi)
    second = rng.uniform(0, 0.1)
    return [_closed(lambda t: 1 + amplitude * np.cos(k * t + phase) + second * np.cos((k + 1) * t), rng.uniform(0, 2 * math.pi))]


def scalloped_blob(rng: np.random.Generator) -> Figure:
    """A closed outline of 4 to 9 outward bulges meeting in dents (a bush, a flower's rim)."""
    k = int(rng.integers(4, 10))
    depth = rng.uniform(0.22, 0.4)
    return [_closed(lambda t: 1 - depth + depth * np.abs(np.sin(k * t / 2)), rng.uniform(0, 2 * math.pi), points=20 * k)]


def star_outline(rng: np.random.Generator) -> Figure:
    """A star's outline: 4 to 9 points, the inner corners at 30-70% of the outer radius."""
    n = int(rng.integers(4, 10))
    inner = rng.uniform(0.3, 0.7)
    start = rng.uniform(0, 2 * math.pi)
    corners = [
        (
            0.5 + 0.48 * (1 if k % 2 == 0 else inner) * math.cos(start + math.pi * k / n),
            0.5 + 0.48 * (1 if k % 2 == 0 else inner) * math.sin(start + math.pi * k / n),
        )
        for k in range(2 * n)
    ]
    return [line(*corners, corners[0])]


def zigzag(rng: np.random.Generator) -> Figure:
    """A polyline of 3 to 7 segments turning sharply back and forth along a random direction (a saw, lightning).

    Three segments only run downwards (lightning): lying flat they make a Z, which people read as a 2.
    """
    n = int(rng.integers(3, 8))
    upright = n == 3
    along = np.linspace(0, 1, n + 1) + np.concatenate([[0], rng.uniform(-0.3, 0.3, n - 1) / n, [0]])
    across = np.where(np.arange(n + 1) % 2 == 0, 0.0, 1.0) * rng.uniform(0.25, 0.6) + rng.uniform(-0.08, 0.08, n + 1)
    angle = rng.uniform(0.35, 0.65) * math.pi if upright else rng.uniform(0, 2 * math.pi)  # upright: along runs downwards
    c, s = math.cos(angle), math.sin(angle)
    return [line(*[(0.5 + (a - 0.5) * c - (b - 0.25) * s, 0.5 + (a - 0.5) * s + (b - 0.25) * c) for a, b in zip(along, across)])]


def arrow(rng: np.random.Generator) -> Figure:
    """A straight or bent shaft with an open or closed head, pointing anywhere."""
    bend = rng.uniform(-0.25, 0.25) if rng.random() < 0.4 else 0.0
    shaft = [(x, 0.5 + bend * math.sin(math.pi * x)) for x in np.linspace(0, 1, 12)]
    size = rng.uniform(0.2, 0.35)
    spread = rng.uniform(0.15, 0.3)
    head = line((1 - size, 0.5 - spread), (1.0, 0.5), (1 - size, 0.5 + spread))
    if rng.random() < 0.4:
        head = head + [head[0]]  # a closed triangle
    figure: Figure = [shaft, head]
    if rng.random() < 0.3:  # feathers at the tail
        figure += [line((0.12, 0.5), (0.0, 0.5 - spread * 0.8)), line((0.12, 0.5), (0.0, 0.5 + spread * 0.8))]
    return _rotate(figure, rng.uniform(0, 2 * math.pi))


def spiral(rng: np.random.Generator) -> Figure:
    """2 to 4.5 turns out from the centre, either way round, round or squashed."""
    turns = rng.uniform(2.0, 4.5)
    t = np.linspace(0, 2 * math.pi * turns, int(40 * turns))
    direction = rng.choice([-1.0, 1.0])
    squash = rng.uniform(0.6, 1.0)
    r = 0.48 * t / t[-1]
    return _rotate(
        [[(0.5 + float(a) * math.cos(direction * b), 0.5 + squash * float(a) * math.sin(direction * b)) for a, b in zip(r, t)]],
        rng.uniform(0, 2 * math.pi),
    )


def hatching(rng: np.random.Generator) -> Figure:
    """3 to 8 parallel strokes at a random angle, crossed by a second set half the time."""
    figure: Figure = []
    for _ in range(2 if rng.random() < 0.5 else 1):
        n = int(rng.integers(3, 9))
        angle = rng.uniform(0, math.pi)
        c, s = math.cos(angle), math.sin(angle)
        for k in np.linspace(-0.45, 0.45, n):
            half = rng.uniform(0.3, 0.5)
            figure.append(line((0.5 + k * -s - half * c, 0.5 + k * c - half * s), (0.5 + k * -s + half * c, 0.5 + k * c + half * s)))
    return figure


def tally(rng: np.random.Generator) -> Figure:
    """Tally marks: 2 to 5 upright strokes, the fifth struck across them, sometimes two groups."""
    figure: Figure = []
    groups = 2 if rng.random() < 0.3 else 1
    for g in range(groups):
        n = int(rng.integers(2, 6))
        left = g * 0.55
        xs = left + np.linspace(0, 0.4, n)
        figure += [line((x, 0.0), (x + rng.uniform(-0.05, 0.05), 1.0)) for x in xs]
        if n >= 4 or rng.random() < 0.3:
            figure.append(line((left - 0.08, 0.75), (left + 0.48, 0.25)))
    return figure


def face(rng: np.random.Generator) -> Figure:
    """A round or square head with eyes (dots, circles or dashes), a mouth, and sometimes ears, hair or a nose."""
    head = (
        arc(0.5, 0.5, 0.48, rng.uniform(0.4, 0.5), -90, 270)
        if rng.random() < 0.6
        else line((0.05, 0.05), (0.95, 0.05), (0.95, 0.95), (0.05, 0.95), (0.05, 0.05))
    )
    figure: Figure = [head]
    ey, ex = rng.uniform(0.3, 0.42), rng.uniform(0.15, 0.22)
    style = rng.integers(3)
    for x in (0.5 - ex, 0.5 + ex):
        if style == 0:
            figure.append([(x, ey)])
        elif style == 1:
            figure.append(arc(x, ey, 0.07, 0.07, 0, 360))
        else:
            figure.append(line((x - 0.06, ey), (x + 0.06, ey)))
    mouth = rng.integers(3)
    if mouth == 0:
        figure.append(arc(0.5, 0.6, 0.22, 0.15, 20, 160))
    elif mouth == 1:
        figure.append(arc(0.5, 0.8, 0.2, 0.12, 200, 340))
    else:
        figure.append(line((0.33, 0.72), (0.67, 0.72)))
    if rng.random() < 0.4:
        figure.append(line((0.5, 0.45), (0.45, 0.58), (0.53, 0.58)))
    if rng.random() < 0.3:
        figure += [arc(0.02, 0.5, 0.06, 0.12, 90, 270), arc(0.98, 0.5, 0.06, 0.12, -90, 90)]
    if rng.random() < 0.3:
        figure += [line((x, 0.05), (x + rng.uniform(-0.05, 0.05), -0.1)) for x in np.linspace(0.3, 0.7, int(rng.integers(3, 7)))]
    return figure


def house(rng: np.random.Generator) -> Figure:
    """A box with a pointed or flat roof, a door and windows in varying places; a chimney sometimes."""
    wall_top = rng.uniform(0.35, 0.55)
    width = rng.uniform(0.6, 1.0)
    left, right = 0.5 - width / 2, 0.5 + width / 2
    figure: Figure = [line((left, 1), (left, wall_top), (right, wall_top), (right, 1), (left, 1))]
    peak = rng.uniform(left + 0.2 * width, right - 0.2 * width)
    figure.append(line((left - 0.05, wall_top + 0.03), (peak, 0.0), (right + 0.05, wall_top + 0.03)))
    door = rng.uniform(left + 0.1, right - 0.25)
    figure.append(line((door, 1), (door, 0.75), (door + 0.15, 0.75), (door + 0.15, 1)))
    if rng.random() < 0.7:
        wx = right - 0.22 if door < 0.5 else left + 0.07
        figure.append(
            line(
                (wx, wall_top + 0.1), (wx + 0.15, wall_top + 0.1), (wx + 0.15, wall_top + 0.25), (wx, wall_top + 0.25), (wx, wall_top + 0.1)
            )
        )
    if rng.random() < 0.3:
        cx = right - 0.15 * width
        figure.append(line((cx, wall_top * 0.6), (cx, 0.05), (cx + 0.08, 0.05), (cx + 0.08, wall_top * 0.7)))
    return figure


def rings(rng: np.random.Generator) -> Figure:
    """Two or three concentric rings, or a ring with a dot in the middle (a target, an eye seen front on)."""
    n = int(rng.integers(2, 4))
    figure: Figure = [arc(0.5, 0.5, 0.48 * f, 0.48 * f * rng.uniform(0.85, 1.0), 0, 360) for f in np.linspace(1.0, 0.35, n)]
    if rng.random() < 0.4:
        figure.append([(0.5, 0.5)])
    return figure


def window(rng: np.random.Generator) -> Figure:
    """A rectangle split by one to three lines each way (a window, a table)."""
    h = rng.uniform(0.5, 1.0)
    top, bottom = 0.5 - h / 2, 0.5 + h / 2
    figure: Figure = [line((0, top), (1, top), (1, bottom), (0, bottom), (0, top))]
    figure += [line((x, top), (x, bottom)) for x in np.linspace(0, 1, int(rng.integers(2, 5)) + 1)[1:-1]]
    figure += [line((0, y), (1, y)) for y in np.linspace(top, bottom, int(rng.integers(1, 4)) + 1)[1:-1]]
    return figure


def loops(rng: np.random.Generator) -> Figure:
    """A row of 3 to 6 loops drawn without lifting the pen (a spring, cursive e's)."""
    n = int(rng.integers(3, 7))
    t = np.linspace(0, 2 * math.pi * n, 30 * n)
    size = rng.uniform(0.5, 1.0)
    xs = t / t[-1] + 0.12 * size * np.cos(t + math.pi)
    ys = 0.5 - 0.3 * size * np.sin(t)
    return _rotate([[(float(x), float(y)) for x, y in zip(xs, ys)]], rng.normal(0, 0.3))


def _rotate(figure: Figure, angle: float) -> Figure:
    c, s = math.cos(angle), math.sin(angle)
    return [[(0.5 + (x - 0.5) * c - (y - 0.5) * s, 0.5 + (x - 0.5) * s + (y - 0.5) * c) for x, y in stroke] for stroke in figure]


FAMILIES: dict[str, Callable[[np.random.Generator], Figure]] = {
    "irregular_polygon": irregular_polygon,
    "lumpy_blob": lumpy_blob,
    "scalloped_blob": scalloped_blob,
    "star_outline": star_outline,
    "zigzag": zigzag,
    "arrow": arrow,
    "spiral": spiral,
    "hatching": hatching,
    "tally": tally,
    "face": face,
    "house": house,
    "rings": rings,
    "window": window,
    "loops": loops,
}
