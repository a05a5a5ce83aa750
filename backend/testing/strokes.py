"""Hand-written-looking digits as stroke data, for the page's tests.

Each digit is a list of strokes in the order and direction a person writes them; a stroke is a list of
(x, y) points in a unit box (x right, y down, both 0..1), dense enough to look smooth. The browser tests
replay them through the real pad (mouse or touch) inside a chosen rectangle; `rasterise` draws them into
an (H, W) ink array, anti-aliased with round caps, for the parity test. Leaves out any browser code.
"""

from __future__ import annotations

import math

import numpy as np

Point = tuple[float, float]
Stroke = list[Point]


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float) -> Stroke:
    """Points along an ellipse from start_deg to end_deg (0 = right, 90 = down, as on a screen)."""
    steps = max(8, int(abs(end_deg - start_deg) / 6))
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(start_deg, end_deg, steps)]


def line(*corners: Point, step: float = 0.04) -> Stroke:
    """A polyline through the corners, resampled every `step` so it moves like a hand, not a jump."""
    points = [corners[0]]
    for (x0, y0), (x1, y1) in zip(corners[:-1], corners[1:]):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        points += [(x0 + (x1 - x0) * t / n, y0 + (y1 - y0) * t / n) for t in range(1, n + 1)]
    return points


def figure_eight() -> Stroke:
    """An 8 in one stroke: from the top, down the right of the upper loop, across, round the bottom, back up."""
    points = []
    for t in np.linspace(0.0, 2 * math.pi, 90):
        upper = math.cos(t) > 0  # near the top: the smaller upper loop
        width = 0.27 if upper else 0.36
        y = 0.5 - 0.46 * math.cos(t) + (0.02 if upper else 0.0)
        points.append((0.5 - width * math.sin(2 * t) + 0.08 * (0.5 - y), y))  # leaning right, as hands do
    return points


DIGITS: dict[int, list[Stroke]] = {
    0: [arc(0.5, 0.5, 0.36, 0.46, -80, -440)],
    1: [line((0.58, 0.04), (0.42, 0.96))],
    2: [arc(0.48, 0.3, 0.34, 0.26, 195, 390) + line((0.78, 0.43), (0.12, 0.96), (0.9, 0.95))[1:]],
    3: [arc(0.46, 0.27, 0.34, 0.23, 205, 450) + arc(0.46, 0.73, 0.4, 0.25, -90, 155)[1:]],
    4: [line((0.3, 0.04), (0.1, 0.62), (0.9, 0.62)), line((0.7, 0.22), (0.68, 0.98))],
    5: [line((0.3, 0.05), (0.24, 0.45)) + arc(0.47, 0.69, 0.36, 0.27, -118, 150)[1:], line((0.3, 0.05), (0.86, 0.04))],
    6: [line((0.72, 0.03), (0.44, 0.24), (0.24, 0.5)) + arc(0.5, 0.72, 0.32, 0.25, 180, -175)],
    7: [line((0.1, 0.06), (0.9, 0.06), (0.38, 0.97))],
    8: [figure_eight()],
    9: [arc(0.5, 0.3, 0.34, 0.26, 15, -345) + line((0.84, 0.33), (0.74, 0.97))[1:]],
}


def rasterise(strokes: list[Stroke], height: int, width: int, box: tuple[float, float, float, float], radius: float) -> np.ndarray:
    """Ink (height, width) in [0, 1]: the strokes mapped into box = (left, top, box_width, box_height) px.

    A pixel's ink is its coverage by a round pen of `radius` px (1 inside, a 1 px linear ramp at the edge).
    """
    left, top, box_width, box_height = box
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5  # pixel centres
    distance = np.full((height, width), np.inf)
    for stroke in strokes:
        points = [(left + x * box_width, top + y * box_height) for x, y in stroke]
        for (x0, y0), (x1, y1) in zip(points, points[1:] or points):
            dx, dy = x1 - x0, y1 - y0
            length2 = dx * dx + dy * dy
            t = np.zeros_like(xs) if length2 == 0 else np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0, 1)
            distance = np.minimum(distance, np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy)))
    return np.clip(radius + 0.5 - distance, 0.0, 1.0)
