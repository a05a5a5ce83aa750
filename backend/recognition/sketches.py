"""Hand-drawn-looking figures as stroke data: letters, digits, shapes and doodles, in a unit box.

A figure is a list of strokes; a stroke is a list of (x, y) points with x right and y down, both
roughly 0..1, in the order a hand would draw them (as backend/testing/strokes.py has for the page's
tests). `negatives.py` jitters, slants and renders these into pictures; this module only holds the
skeletons, so every one can be drawn anew at any size, pen and wobble.

Which letters count as non-digits: exactly the keys of LETTERS (A-Y capitals and a-y small letters
less DIGIT_LIKE, and the signs # = * &). Letters and signs that people themselves read as digits
(DIGIT_LIKE: O o I l i j | ! Z z S s b G g q ?) are never negatives, so that a drawn "O" or "l" does
not teach the model to turn away a 0 or a 1; such a drawing may be answered either way.
What this module leaves out: randomness and pixels (negatives.py).
"""

from __future__ import annotations

import math

import numpy as np

Point = tuple[float, float]
Stroke = list[Point]
Figure = list[Stroke]

# Read as digits by people (O/o as 0, I/l/i/|/! as 1, Z/z as 2, S/s as 5, b/G as 6, g/q as 9, ? as 2 or 7):
# never used as negatives. "B" stays a negative although it resembles an 8: the left side is straight.
DIGIT_LIKE = frozenset("OoIlij|!ZzSsbGgq?")


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float) -> Stroke:
    """Points along an ellipse from start_deg to end_deg (0 = right, 90 = down, as on a screen)."""
    steps = max(8, int(abs(end_deg - start_deg) / 8))
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(start_deg, end_deg, steps)]


def line(*corners: Point) -> Stroke:
    """A polyline through the corners (rendering joins them; jitter resamples them)."""
    return list(corners)


def polygon(n: int, cx: float = 0.5, cy: float = 0.5, r: float = 0.48, start_deg: float = -90) -> Stroke:
    """A closed regular polygon with n corners, one stroke."""
    return [
        (cx + r * math.cos(math.radians(start_deg + 360 * k / n)), cy + r * math.sin(math.radians(start_deg + 360 * k / n)))
        for k in range(n + 1)
    ]


def star(points: int = 5) -> Stroke:
    """A star drawn in one stroke, skipping every other corner."""
    step = 2 if points % 2 else 3
    order = [(k * step) % points for k in range(points + 1)]
    return [
        (0.5 + 0.5 * math.cos(math.radians(-90 + 360 * k / points)), 0.5 + 0.5 * math.sin(math.radians(-90 + 360 * k / points)))
        for k in order
    ]


LETTERS: dict[str, Figure] = {
    "A": [line((0.1, 1), (0.5, 0), (0.9, 1)), line((0.27, 0.6), (0.73, 0.6))],
    "B": [line((0.2, 1), (0.2, 0)) + arc(0.2, 0.25, 0.5, 0.25, -90, 90)[1:] + arc(0.2, 0.75, 0.62, 0.25, -90, 90)[1:]],
    "C": [arc(0.55, 0.5, 0.45, 0.5, -45, -315)],
    "D": [line((0.15, 0), (0.15, 1)), arc(0.15, 0.5, 0.75, 0.5, -90, 90)],
    "E": [line((0.85, 0), (0.15, 0), (0.15, 1), (0.85, 1)), line((0.15, 0.5), (0.7, 0.5))],
    "F": [line((0.85, 0), (0.15, 0), (0.15, 1)), line((0.15, 0.48), (0.7, 0.48))],
    "H": [line((0.15, 0), (0.15, 1)), line((0.85, 0), (0.85, 1)), line((0.15, 0.5), (0.85, 0.5))],
    "J": [line((0.3, 0), (0.95, 0)), line((0.65, 0), (0.65, 0.72)) + arc(0.4, 0.72, 0.25, 0.28, 0, 170)[1:]],
    "K": [line((0.15, 0), (0.15, 1)), line((0.85, 0), (0.15, 0.55), (0.85, 1))],
    "L": [line((0.15, 0), (0.15, 1), (0.85, 1))],
    "M": [line((0.05, 1), (0.15, 0), (0.5, 0.65), (0.85, 0), (0.95, 1))],
    "N": [line((0.15, 1), (0.15, 0), (0.85, 1), (0.85, 0))],
    "P": [line((0.15, 1), (0.15, 0)) + arc(0.15, 0.27, 0.65, 0.27, -90, 90)[1:]],
    "Q": [arc(0.5, 0.47, 0.42, 0.47, -90, 270), line((0.55, 0.72), (0.95, 1.05))],
    "R": [line((0.15, 1), (0.15, 0)) + arc(0.15, 0.27, 0.6, 0.27, -90, 90)[1:] + line((0.15, 0.54), (0.85, 1))],
    "T": [line((0.05, 0), (0.95, 0)), line((0.5, 0), (0.5, 1))],
    "U": [line((0.15, 0), (0.15, 0.62)) + arc(0.5, 0.62, 0.35, 0.38, 180, 0)[1:] + line((0.85, 0.62), (0.85, 0))],
    "V": [line((0.05, 0), (0.5, 1), (0.95, 0))],
    "W": [line((0, 0), (0.25, 1), (0.5, 0.3), (0.75, 1), (1, 0))],
    "X": [line((0.1, 0), (0.9, 1)), line((0.9, 0), (0.1, 1))],
    "Y": [line((0.1, 0), (0.5, 0.5)), line((0.9, 0), (0.5, 0.5), (0.5, 1))],
    "a": [arc(0.45, 0.6, 0.33, 0.38, -20, -375), line((0.8, 0.2), (0.8, 0.9), (0.9, 1))],
    "c": [arc(0.5, 0.5, 0.4, 0.45, -40, -320)],
    "d": [arc(0.42, 0.7, 0.3, 0.3, -30, -380), line((0.78, 0), (0.78, 1))],
    "e": [line((0.12, 0.5), (0.88, 0.5)) + arc(0.5, 0.5, 0.38, 0.45, 0, -320)[1:]],
    "f": [arc(0.75, 0.18, 0.2, 0.18, -20, -180) + line((0.55, 0.18), (0.55, 1))[1:], line((0.25, 0.45), (0.85, 0.45))],
    "h": [line((0.15, 0), (0.15, 1)), line((0.15, 0.62)) + arc(0.5, 0.62, 0.35, 0.3, 180, 360)[1:] + line((0.85, 0.62), (0.85, 1))],
    "k": [line((0.2, 0), (0.2, 1)), line((0.8, 0.35), (0.2, 0.7), (0.8, 1))],
    "m": [
        line((0.05, 1), (0.05, 0.3)) + arc(0.27, 0.45, 0.22, 0.2, 180, 360)[1:] + line((0.49, 0.45), (0.49, 1))[1:],
        line((0.49, 0.45)) + arc(0.72, 0.45, 0.23, 0.2, 180, 360)[1:] + line((0.95, 0.45), (0.95, 1))[1:],
    ],
    "n": [line((0.15, 1), (0.15, 0.15)) + arc(0.5, 0.45, 0.35, 0.3, 180, 360)[1:] + line((0.85, 0.45), (0.85, 1))[1:]],
    "p": [line((0.2, 0), (0.2, 1)), arc(0.2, 0.3, 0.62, 0.28, -90, 90)],
    "r": [line((0.2, 1), (0.2, 0.15)), arc(0.55, 0.45, 0.35, 0.3, 180, 300)],
    "t": [line((0.45, 0), (0.45, 0.88), (0.78, 1)), line((0.1, 0.3), (0.85, 0.3))],
    "u": [
        line((0.15, 0), (0.15, 0.6)) + arc(0.5, 0.6, 0.35, 0.4, 180, 0)[1:] + line((0.85, 0.6), (0.85, 0))[1:],
        line((0.85, 0), (0.9, 1)),
    ],
    "v": [line((0.1, 0), (0.5, 1), (0.9, 0))],
    "w": [line((0.02, 0), (0.27, 1), (0.5, 0.4), (0.73, 1), (0.98, 0))],
    "x": [line((0.15, 0.1), (0.85, 0.9)), line((0.85, 0.1), (0.15, 0.9))],
    "y": [line((0.1, 0), (0.5, 0.55)), line((0.9, 0), (0.3, 1))],
    "#": [line((0.35, 0), (0.28, 1)), line((0.72, 0), (0.65, 1)), line((0.05, 0.33), (0.95, 0.33)), line((0.05, 0.67), (0.95, 0.67))],
    "=": [line((0.1, 0.3), (0.9, 0.3)), line((0.1, 0.7), (0.9, 0.7))],
    "*": [line((0.5, 0), (0.5, 1)), line((0.07, 0.25), (0.93, 0.75)), line((0.93, 0.25), (0.07, 0.75))],
    "&": [
        line((0.9, 1), (0.25, 0.4))
        + arc(0.45, 0.2, 0.22, 0.2, 150, -150)[1:]
        + line((0.3, 0.5), (0.15, 0.8))
        + arc(0.4, 0.8, 0.25, 0.2, 180, 60)[1:]
        + [(0.9, 0.5)]
    ],
}
assert not DIGIT_LIKE & set(LETTERS), "a digit-like letter slipped into the negatives"


def _smile(cx: float, cy: float, r: float, happy: bool = True) -> Figure:
    mouth = arc(cx, cy + 0.05, r * 0.55, r * 0.4, 20, 160) if happy else arc(cx, cy + r * 0.6, r * 0.5, r * 0.3, 200, 340)
    eyes = [[(cx - r * 0.35, cy - r * 0.3)], [(cx + r * 0.35, cy - r * 0.3)]]  # taps: one point each
    return [arc(cx, cy, r, r, -90, 270), *eyes, mouth]


SHAPES: dict[str, Figure] = {
    "square": [polygon(4, start_deg=-45, r=0.6)],
    "rectangle": [line((0, 0.2), (1, 0.2), (1, 0.8), (0, 0.8), (0, 0.2))],
    "triangle": [polygon(3, r=0.55)],
    "diamond": [polygon(4, start_deg=-90)],
    "pentagon": [polygon(5)],
    "star": [star(5)],
    "heart": [arc(0.28, 0.3, 0.23, 0.22, 180, 360) + arc(0.72, 0.3, 0.23, 0.22, 180, 360)[1:] + [(0.5, 1.0), (0.05, 0.3)]],
    "arrow": [line((0.0, 0.5), (1.0, 0.5)), line((0.7, 0.2), (1.0, 0.5), (0.7, 0.8))],
    "plus": [line((0.5, 0), (0.5, 1)), line((0, 0.5), (1, 0.5))],
    "house": [
        line((0.1, 1), (0.1, 0.45), (0.9, 0.45), (0.9, 1), (0.1, 1)),
        line((0.02, 0.5), (0.5, 0), (0.98, 0.5)),
        line((0.42, 1), (0.42, 0.72), (0.6, 0.72), (0.6, 1)),
    ],
    "smiley": _smile(0.5, 0.5, 0.48),
    "sad_face": _smile(0.5, 0.5, 0.48, happy=False),
    "sun": [arc(0.5, 0.5, 0.22, 0.22, 0, 360)]
    + [
        line((0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a)), (0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a)))
        for a in np.linspace(0, 2 * math.pi, 9)[:-1]
    ],
    "flower": [arc(0.5 + 0.27 * math.cos(a), 0.4 + 0.27 * math.sin(a), 0.14, 0.14, 0, 360) for a in np.linspace(0, 2 * math.pi, 6)[:-1]]
    + [line((0.5, 0.7), (0.5, 1.2))],
    "spiral": [[(0.5 + 0.045 * t * math.cos(t), 0.5 + 0.045 * t * math.sin(t)) for t in np.linspace(0, 3.3 * math.pi, 70)]],
    "zigzag": [line((0, 0.3), (0.2, 0.7), (0.4, 0.3), (0.6, 0.7), (0.8, 0.3), (1.0, 0.7))],
    "wave": [[(x, 0.5 + 0.18 * math.sin(x * 4 * math.pi)) for x in np.linspace(0, 1, 40)]],
    "checkmark": [line((0.0, 0.55), (0.35, 0.95), (1.0, 0.0))],
    "tree": [line((0.45, 1), (0.45, 0.6)), line((0.55, 1), (0.55, 0.6)), arc(0.5, 0.35, 0.4, 0.3, 0, 360)],
    "hashgrid": [line((0.33, 0), (0.33, 1)), line((0.66, 0), (0.66, 1)), line((0, 0.33), (1, 0.33)), line((0, 0.66), (1, 0.66))],
    # the held-out shapes (see negatives.HELD_OUT_SHAPES): never in the rejector's training set
    "fish": [arc(0.45, 0.5, 0.35, 0.25, 200, -160) + [(0.95, 0.2), (0.95, 0.8), (0.76, 0.42)], [(0.3, 0.43)]],
    "cloud": [
        arc(0.25, 0.6, 0.18, 0.18, 90, 270)
        + arc(0.45, 0.38, 0.2, 0.2, 180, 330)[1:]
        + arc(0.72, 0.5, 0.2, 0.2, 240, 450)[1:]
        + [(0.25, 0.78)]
    ],
    "stick_figure": [
        arc(0.5, 0.15, 0.14, 0.14, 0, 360),
        line((0.5, 0.29), (0.5, 0.7)),
        line((0.15, 0.45), (0.85, 0.45)),
        line((0.2, 1), (0.5, 0.7), (0.8, 1)),
    ],
    "envelope": [line((0, 0.2), (1, 0.2), (1, 0.85), (0, 0.85), (0, 0.2), (0.5, 0.6), (1, 0.2))],
    "tictactoe": [
        line((0.33, 0), (0.36, 1)),
        line((0.66, 0), (0.69, 1)),
        line((0, 0.35), (1, 0.3)),
        line((0, 0.68), (1, 0.64)),
        line((0.05, 0.05), (0.25, 0.25)),
        line((0.25, 0.05), (0.05, 0.25)),
    ],
    "lightning": [line((0.6, 0), (0.25, 0.55), (0.6, 0.5), (0.35, 1))],
    "cat_face": [
        arc(0.5, 0.58, 0.42, 0.38, -60, 240),
        line((0.3, 0.26), (0.15, 0), (0.1, 0.4)),
        line((0.7, 0.26), (0.85, 0), (0.9, 0.4)),
        [(0.35, 0.5)],
        [(0.65, 0.5)],
        line((0.1, 0.7), (0.4, 0.68)),
        line((0.9, 0.7), (0.6, 0.68)),
    ],
    "eye": [arc(0.5, 0.9, 0.6, 0.55, 215, 325), arc(0.5, 0.1, 0.6, 0.55, 35, 145), arc(0.5, 0.5, 0.14, 0.14, 0, 360)],
    "hexagon": [polygon(6)],
    "umbrella": [
        arc(0.5, 0.45, 0.48, 0.4, 180, 360) + [(0.02, 0.45)],
        line((0.5, 0.45), (0.5, 0.92)) + arc(0.4, 0.92, 0.1, 0.08, 0, 180)[1:],
    ],
}

# Extra ways to write each digit, beside backend/testing/strokes.py's (a hand varies): positives, so the
# model learns that a digit drawn with a pen (not MNIST's scanned ink) is still a digit.
DIGITS: dict[int, list[Figure]] = {
    0: [
        [arc(0.5, 0.5, 0.36, 0.48, -80, -440)],
        [arc(0.5, 0.5, 0.3, 0.48, -100, 265)],
        [arc(0.5, 0.5, 0.42, 0.48, -90, -445) + [(0.6, 0.1)]],
    ],
    1: [
        [line((0.55, 0), (0.45, 1))],
        [line((0.3, 0.2), (0.6, 0), (0.55, 1))],
        [line((0.3, 0.2), (0.6, 0), (0.55, 1)), line((0.3, 1), (0.8, 1))],
    ],
    2: [
        [arc(0.48, 0.3, 0.34, 0.27, 195, 390) + line((0.78, 0.43), (0.12, 0.96), (0.9, 0.95))[1:]],
        [arc(0.5, 0.28, 0.35, 0.26, 180, 400) + line((0.8, 0.4), (0.1, 1), (0.95, 1))[1:]],
        [arc(0.5, 0.3, 0.36, 0.28, 200, 380) + arc(0.3, 0.9, 0.2, 0.12, -60, -360)[1:] + [(0.95, 0.95)]],
    ],
    3: [
        [arc(0.46, 0.27, 0.34, 0.23, 205, 450) + arc(0.46, 0.73, 0.4, 0.25, -90, 155)[1:]],
        [line((0.15, 0.02), (0.85, 0.02), (0.45, 0.42)) + arc(0.45, 0.7, 0.4, 0.28, -90, 150)[1:]],
    ],
    4: [
        [line((0.3, 0.04), (0.1, 0.62), (0.9, 0.62)), line((0.7, 0.22), (0.68, 0.98))],
        [line((0.65, 1), (0.65, 0), (0.05, 0.7), (0.95, 0.7))],
        [line((0.15, 0), (0.15, 0.5), (0.85, 0.5)), line((0.85, 0), (0.85, 1))],
    ],
    5: [
        [line((0.3, 0.05), (0.24, 0.45)) + arc(0.47, 0.69, 0.36, 0.27, -118, 150)[1:], line((0.3, 0.05), (0.86, 0.04))],
        [line((0.85, 0), (0.25, 0), (0.2, 0.45)) + arc(0.48, 0.7, 0.38, 0.3, -120, 160)[1:]],
    ],
    6: [
        [line((0.72, 0.03), (0.44, 0.24), (0.24, 0.5)) + arc(0.5, 0.72, 0.32, 0.25, 180, -175)],
        [arc(0.6, 0.45, 0.4, 0.45, -80, -180) + arc(0.5, 0.72, 0.3, 0.27, 180, -180)[1:]],
    ],
    7: [
        [line((0.1, 0.06), (0.9, 0.06), (0.38, 0.97))],
        [line((0.1, 0.06), (0.9, 0.06), (0.4, 1)), line((0.3, 0.5), (0.8, 0.5))],
        [line((0.05, 0.2), (0.1, 0.05), (0.9, 0.05), (0.55, 1))],
    ],
    8: [
        [arc(0.5, 0.26, 0.28, 0.24, 90, -270) + arc(0.5, 0.73, 0.36, 0.25, -90, 270)[1:]],
        [arc(0.5, 0.26, 0.28, 0.24, 0, 360), arc(0.5, 0.73, 0.35, 0.26, -90, 270)],
    ],
    9: [
        [arc(0.5, 0.3, 0.34, 0.26, 15, -345) + line((0.84, 0.33), (0.74, 0.97))[1:]],
        [arc(0.5, 0.28, 0.35, 0.27, 0, -360) + line((0.85, 0.28), (0.85, 1))[1:]],
        [arc(0.5, 0.28, 0.35, 0.27, 0, -360) + line((0.85, 0.28), (0.85, 0.8))[1:] + arc(0.6, 0.8, 0.25, 0.2, 0, 150)[1:]],
    ],
}
