"""The page's preprocessing (frontend/js/preprocess.js, run by Node) against the server's (backend/recognition/preprocess.py).

Both get the same ink arrays: digits rasterised at different canvas sizes, positions (centred, in a
corner, small) and stroke widths, plus grey-level and exact-half-pixel cases; every one of the 784
outputs must agree within 0.02, and both must refuse an empty pad. For numbers, the page's stroke
grouping (grouping.js) must find the digits the server's segmentation finds in the same drawing, and
the framing of each group must agree too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.preprocess import EmptyImageError, ink_to_mnist
from backend.recognition.segment import segment_number
from backend.testing.pad_driver import number_placements
from backend.testing.page_reading import group_on_page, painted
from backend.testing.strokes import DIGITS, rasterise

RUNNER = Path(__file__).parent / "js" / "run_preprocess.mjs"
TOLERANCE = 0.02


def run_js(images: list[np.ndarray]) -> list:
    """preprocess.js's inkToMnist on each (H, W) ink array: a list of 784-lists or {"error": ...}."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the page's tests (apt-get install -y nodejs)"
    payload = {"images": [{"height": a.shape[0], "width": a.shape[1], "ink": a.ravel().tolist()} for a in images]}
    done = subprocess.run([node, str(RUNNER)], input=json.dumps(payload), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["results"]


def drawings() -> dict[str, np.ndarray]:
    """Named ink arrays: each digit big and centred, small in a corner, fat and thin, on odd canvases."""
    inks = {}
    for digit, strokes in DIGITS.items():
        name = str(digit)
        inks[f"{name}-centred-280"] = rasterise(strokes, 280, 280, (70, 30, 140, 220), radius=14)
        inks[f"{name}-corner-small-280"] = rasterise(strokes, 280, 280, (8, 190, 50, 70), radius=6)
        inks[f"{name}-off-centre-fat-300x200"] = rasterise(strokes, 300, 200, (110, 10, 80, 150), radius=12)
        inks[f"{name}-thin-big-512"] = rasterise(strokes, 512, 512, (90, 20, 330, 470), radius=4)
        inks[f"{name}-tiny-64x90"] = rasterise(strokes, 64, 90, (70, 40, 11, 16), radius=1.5)
    rng = np.random.default_rng(0)
    inks["grey-speckle"] = np.where(rng.random((120, 90)) < 0.1, rng.random((120, 90)), 0.0)
    # Perfectly symmetric shapes put the centre of mass exactly on a half pixel, where the two
    # implementations' last-bit rounding would pick different sides without HALF_PIXEL_NUDGE
    for side in (1, 2, 3, 7):
        dot = np.zeros((40, 40))
        dot[10 : 10 + side, 20 : 20 + side] = 1.0
        inks[f"symmetric-dot-{side}px"] = dot
    for height, width in ((40, 25), (25, 40), (9, 30), (33, 33)):
        bar = np.zeros((80, 80))
        bar[5 : 5 + height, 7 : 7 + width] = 0.8
        inks[f"uniform-bar-{height}x{width}"] = bar
    # and close to a half pixel, with a slight gradient
    half = np.zeros((60, 60))
    half[5:45, 10:35] = np.outer(np.linspace(0.7, 1.0, 40), np.linspace(0.6, 1.0, 25))  # 40 x 25 -> 20 x 12.5 -> 13 wide
    inks["half-pixel-rounding"] = half
    speck = np.zeros((53, 73))
    speck[3:5, 70:73] = [[1.0, 0.7, 0.4], [0.9, 0.5, 0.2]]
    inks["speck"] = speck
    inks["over-bright-and-negative"] = rasterise(DIGITS[7], 200, 200, (20, 20, 120, 160), 10) * 1.6 - 0.3
    return inks


def test_page_and_server_preprocessing_agree_on_every_pixel() -> None:
    inks = drawings()
    results = run_js(list(inks.values()))
    assert len(results) == len(inks)
    for (name, ink), js in zip(inks.items(), results):
        assert isinstance(js, list), f"{name}: preprocess.js refused it: {js}"
        expected = ink_to_mnist(ink)
        got = np.asarray(js, dtype=np.float64)
        assert got.shape == (784,), name
        worst = float(np.abs(got - expected).max())
        assert worst <= TOLERANCE, f"{name}: differs by {worst:.4f} at pixel {int(np.abs(got - expected).argmax())}"
        assert expected.sum() > 1.0, f"{name}: the drawing should leave real ink in the field"


def test_page_and_server_both_refuse_an_empty_pad() -> None:
    empty = [np.zeros((280, 280)), np.full((50, 40), 0.05)]
    for ink in empty:
        with pytest.raises(EmptyImageError):
            ink_to_mnist(ink)
    assert [r.get("error") for r in run_js(empty)] == ["EmptyImageError", "EmptyImageError"]


@pytest.mark.parametrize("label, seed", [("2026", 0), ("358190", 1), ("47", 2)])
def test_a_number_is_grouped_and_each_group_framed_alike_on_page_and_server(label: str, seed: int) -> None:
    """The page groups a number's strokes into the digits the server's segmentation finds in the same
    drawing, and one group's framing (fitted into the ink grid, then inkToMnist) is ink_to_mnist's."""
    placements = number_placements(label, np.random.default_rng(seed))
    strokes, owner = [], []
    for k, (digit_strokes, (left, top, width, height)) in enumerate(placements):
        for stroke in digit_strokes:
            strokes.append([[left + x * width, top + y * height] for x, y in stroke])
            owner.append(k)
    (js,) = group_on_page([strokes])
    assert [[owner[i] for i in group] for group in js.groups] == [[k] * len(placements[k][0]) for k in range(len(label))]

    # the server reads the same drawing (rasterised on a 600 px pad) as the same digits, left to right
    side = 600
    pad = np.zeros((side, side))
    for digit_strokes, (left, top, width, height) in placements:
        pad = np.maximum(pad, rasterise(digit_strokes, side, side, (left * side, top * side, width * side, height * side), 0.025 * side))
    model = load_model(MODEL_DIR)[0]
    found = segment_number(pad, model.predict_proba)
    assert len(found) == len(label)
    for digit, group in zip(found, js.groups):
        columns = [x for i in group for x, _ in strokes[i]]
        x, _, w, _ = digit.box
        assert x - 0.03 * side <= min(columns) * side and max(columns) * side <= x + w + 0.03 * side

    # each group's framing: fitted strokes rasterised into the 280 grid, then both preprocessors
    inks = [painted(fitted) for fitted in js.fitted]
    for ink, on_page in zip(inks, run_js(inks)):
        assert float(np.abs(np.asarray(on_page) - ink_to_mnist(ink)).max()) <= TOLERANCE
