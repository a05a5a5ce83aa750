"""Driving the page's drawing pad from Playwright: where to draw, drawing with mouse or touch, waiting.

Digits come from strokes.py in unit boxes; a placement maps that box into a part of the pad (fractions
of the pad's side), so one shape can be drawn centred and large or small in a corner. Touch and pen go
through the Chrome DevTools Protocol (Input.dispatchTouchEvent, Input.dispatchMouseEvent with
pointerType "pen"), the way a finger's or a stylus's events arrive.
Leaves out the server and browser set-up (conftest.py).
"""

from __future__ import annotations

from playwright.sync_api import CDPSession, Page

from backend.testing.strokes import DIGITS, Stroke

# (left, top, width, height) as fractions of the pad's side
PLACEMENTS: dict[str, tuple[float, float, float, float]] = {
    "centred-large": (0.24, 0.1, 0.52, 0.8),
    "top-left-small": (0.05, 0.05, 0.2, 0.3),
    "bottom-right-small": (0.74, 0.64, 0.2, 0.3),
    "off-centre-medium": (0.5, 0.36, 0.32, 0.5),
}


Placement = str | tuple[float, float, float, float]  # a name in PLACEMENTS, or (left, top, width, height) itself


def to_screen(page: Page, strokes: list[Stroke], placement: Placement) -> list[list[tuple[float, float]]]:
    """The strokes in page pixels, placed inside the pad."""
    box = page.get_by_test_id("pad").bounding_box()
    assert box is not None, "the pad is not visible"
    left, top, width, height = PLACEMENTS[placement] if isinstance(placement, str) else placement
    return [
        [(box["x"] + (left + x * width) * box["width"], box["y"] + (top + y * height) * box["height"]) for x, y in stroke]
        for stroke in strokes
    ]


def draw_with_mouse(page: Page, strokes: list[Stroke], placement: Placement = "centred-large") -> None:
    for stroke in to_screen(page, strokes, placement):
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*point)
        page.mouse.up()


def draw_with_touch(page: Page, cdp: CDPSession, strokes: list[Stroke], placement: Placement = "centred-large") -> None:
    for stroke in to_screen(page, strokes, placement):
        x, y = stroke[0]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        for x, y in stroke[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def draw_with_pen(page: Page, cdp: CDPSession, strokes: list[Stroke], placement: Placement = "centred-large") -> None:
    """A stylus: mouse events that the browser reports as pointerType "pen"."""
    for stroke in to_screen(page, strokes, placement):
        for kind, (x, y) in [("mousePressed", stroke[0]), *(("mouseMoved", p) for p in stroke[1:]), ("mouseReleased", stroke[-1])]:
            cdp.send(
                "Input.dispatchMouseEvent",
                {
                    "type": kind,
                    "x": x,
                    "y": y,
                    "button": "left",
                    "buttons": 0 if kind == "mouseReleased" else 1,
                    "clickCount": 1,
                    "pointerType": "pen",
                },
            )


def number_placements(label: str, rng, pad_aspect: float = 1.0) -> list[tuple[list[Stroke], tuple[float, float, float, float]]]:
    """The digits of `label` written left to right across the pad as a person would: one size per number
    (as large as fits), each digit a little bigger or smaller, gaps from nearly touching to wide, a
    drifting baseline. Boxes are (left, top, width, height) in fractions of the pad's width and height."""
    slots = [0.35 if char == "1" else 0.6 for char in label]  # widths in digit heights
    height = min(0.6, 0.9 * pad_aspect / (sum(slots) + 0.3 * len(label)))  # in pad heights
    left, base = 0.05 * pad_aspect, rng.uniform(0.2, 0.75 - height) if height < 0.55 else 0.2
    out = []
    for char, slot in zip(label, slots):
        h = height * rng.uniform(0.85, 1.1)
        w = h * slot * rng.uniform(0.85, 1.15)
        top = min(max(0.03, base + (height - h) + rng.uniform(-0.06, 0.06) * height), 0.97 - h)
        out.append((DIGITS[int(char)], (left / pad_aspect, top, w / pad_aspect, h)))
        left += w + height * rng.uniform(0.1, 0.35)
    return out


def wait_for_number(page: Page, timeout_ms: float = 15_000) -> str:
    """Wait until the page shows its answer for the drawing as it is now; return the number's text."""
    return _settled_text(page, "number", timeout_ms)


def wait_for_answer(page: Page, timeout_ms: float = 15_000) -> str:
    """Wait until the page shows its answer for the drawing as it is now; return the prediction's text."""
    return _settled_text(page, "prediction", timeout_ms)


def _settled_text(page: Page, test_id: str, timeout_ms: float) -> str:
    """The text of [data-testid=test_id] once it answers the pad's current revision and nothing is pending."""
    page.wait_for_function(
        """(testId) => {
            const pad = document.querySelector('[data-testid=pad]');
            const shown = document.querySelector(`[data-testid=${testId}]`);
            const status = document.querySelector('[data-testid=status]');
            return shown.dataset.revision === pad.dataset.revision && status.dataset.kind !== 'busy';
        }""",
        arg=test_id,
        timeout=timeout_ms,
    )
    return page.get_by_test_id(test_id).inner_text().strip()


def preview_pixels(page: Page) -> list[float]:
    """The 784 grey levels in [0, 1] painted on the 28x28 preview canvas."""
    return page.evaluate(
        """() => {
            const canvas = document.querySelector('[data-testid=preview]');
            const data = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
            return Array.from({ length: 784 }, (_, i) => data[i * 4] / 255);
        }"""
    )
