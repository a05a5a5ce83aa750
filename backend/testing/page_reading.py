"""The page's way of reading a number, outside the browser, for the parity test and the evaluation.

On the page, frontend/js/grouping.js groups a number's strokes into digits and fits each group into the
280x280 ink grid; pad.js paints the group there and preprocess.js frames it the MNIST way. Here Node runs
grouping.js itself (`group_on_page`, many numbers in one run), and `framed` paints each fitted group with
strokes.rasterise and frames it with preprocess.ink_to_mnist: what the page's canvas and preprocess.js
give, to the tolerance tests/frontend/test_parity.py holds them to. Leaves out the browser (pad_driver.py
drives the real page) and HTTP (the caller sends the 784-vectors where it likes).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.nn.shapes import N_INPUTS
from backend.recognition.preprocess import ink_to_mnist
from backend.testing.strokes import Stroke, rasterise

INK_GRID = 280  # pad.js's INK_GRID: the side of the grid a group is fitted into
RUNNER = Path(__file__).parent / "js" / "group_strokes.mjs"


class NodeMissingError(RuntimeError):
    """Node.js is not installed: the page's JavaScript cannot run outside the browser."""


@dataclass(frozen=True)
class PageGroups:
    """groups: stroke indices per digit, left to right; fitted: per group, {"strokes" (grid px), "pen" (grid px)}."""

    groups: list[list[int]]
    fitted: list[dict]


def group_on_page(numbers: list[list[Stroke]], size: int = INK_GRID) -> list[PageGroups]:
    """grouping.js's groupStrokes and fitGroup on each number's strokes (pad units), in one Node run."""
    node = shutil.which("node")
    if node is None:
        raise NodeMissingError("Node.js is needed to run the page's grouping.js (apt-get install -y nodejs)")
    payload = {"numbers": [[[list(point) for point in stroke] for stroke in strokes] for strokes in numbers], "size": size}
    done = subprocess.run([node, str(RUNNER)], input=json.dumps(payload), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{RUNNER.name} failed: {done.stderr.strip()}")
    return [PageGroups(item["groups"], item["fitted"]) for item in json.loads(done.stdout)]


def painted(fitted: dict, size: int = INK_GRID) -> np.ndarray:
    """Ink (size, size) in [0, 1]: one fitted group painted in the grid with its pen, as pad.js paints it."""
    return rasterise(fitted["strokes"], size, size, (0, 0, 1, 1), fitted["pen"] / 2)


def framed(fitted: dict, size: int = INK_GRID) -> np.ndarray:
    """(784,) float32: one fitted group painted in the grid, framed the MNIST way."""
    pixels = ink_to_mnist(painted(fitted, size)).astype(np.float32)
    assert pixels.shape == (N_INPUTS,)
    return pixels
