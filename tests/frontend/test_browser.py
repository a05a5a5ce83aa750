"""The drawing page in a real browser (Debian's chromium) against a real server (python -m backend.serve).

Digits are drawn through the pad like a person would (mouse, finger, pen), large and centred or small
in a corner; the page must name them correctly, show a centred 28x28 preview of exactly what it sent,
undo and clear, send nothing for an empty pad, say so when the server is down and recover, never
let a stale answer overwrite a newer one, and never make a request to another origin (checked for
every test by the page fixtures in conftest.py).
"""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest
from playwright.sync_api import Page, Route, expect

from backend.testing.browser import PageWatch
from backend.testing.pad_driver import (
    draw_with_mouse,
    draw_with_pen,
    draw_with_touch,
    preview_pixels,
    wait_for_answer,
)
from backend.testing.strokes import DIGITS

Seen = tuple[Page, PageWatch]


def pad_ink_pixels(page: Page) -> int:
    """How many pixels of the visible pad canvas carry ink."""
    return page.evaluate(
        """() => {
            const pad = document.querySelector('[data-testid=pad]');
            const data = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
            let count = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count++;
            return count;
        }"""
    )


def bar_values(page: Page) -> dict[int, float]:
    bars = page.get_by_test_id("probabilities").locator("> li")
    return {int(bar.get_attribute("data-digit")): float(bar.get_attribute("data-value")) for bar in bars.all()}


def centre_of_mass(field: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(field.shape)
    return float((rows * field).sum() / field.sum()), float((cols * field).sum() / field.sum())


def recognise_all(page: Page, draw, placement: str, digits) -> dict[int, str]:
    """Draw each digit on a cleared pad; return what the page answered for each."""
    answers = {}
    for digit in digits:
        page.get_by_test_id("clear").click()
        draw(DIGITS[digit], placement)
        answers[digit] = wait_for_answer(page)
    return answers


@pytest.mark.parametrize("placement", ["centred-large", "top-left-small", "bottom-right-small", "off-centre-medium"])
def test_mouse_drawn_digits_are_recognised_wherever_and_however_big(desktop: Seen, placement: str) -> None:
    page, watch = desktop
    answers = recognise_all(page, lambda strokes, where: draw_with_mouse(page, strokes, where), placement, range(10))
    assert answers == {digit: str(digit) for digit in range(10)}
    # the bars agree with the big digit, and screen readers hear the last answer
    probabilities = bar_values(page)
    assert max(probabilities, key=probabilities.get) == 9
    assert abs(sum(probabilities.values()) - 1.0) < 1e-3
    expect(page.locator("#announcer")).to_contain_text("9")
    expect(page.get_by_test_id("confidence")).to_contain_text("%")
    assert len(watch.predict_requests()) >= 10


def test_finger_drawn_digits_are_recognised_on_a_phone_without_scrolling(phone: Seen) -> None:
    page, _ = phone
    cdp = page.context.new_cdp_session(page)
    answers = recognise_all(page, lambda strokes, where: draw_with_touch(page, cdp, strokes, where), "centred-large", [2, 3, 4, 7])
    answers |= recognise_all(page, lambda strokes, where: draw_with_touch(page, cdp, strokes, where), "top-left-small", [0, 5])
    assert answers == {2: "2", 3: "3", 4: "4", 7: "7", 0: "0", 5: "5"}
    assert page.evaluate("window.scrollY") == 0  # dragging on the pad drew; it did not scroll the page
    # fits a 360 px screen, and the pad's backing store matches the 2x pixel density (crisp lines)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    css_width, backing_width = page.evaluate(
        "(() => { const pad = document.querySelector('[data-testid=pad]'); return [pad.getBoundingClientRect().width, pad.width]; })()"
    )
    assert backing_width == round(css_width * 2)


def test_pen_strokes_draw_like_the_mouse(desktop: Seen) -> None:
    page, _ = desktop
    cdp = page.context.new_cdp_session(page)
    for digit in (1, 6):
        page.get_by_test_id("clear").click()
        draw_with_pen(page, cdp, DIGITS[digit], "centred-large")
        assert wait_for_answer(page) == str(digit)


def test_preview_shows_the_centred_digit_exactly_as_sent(desktop: Seen) -> None:
    page, _ = desktop
    sent: list[list[float]] = []
    page.on("request", lambda request: sent.append(json.loads(request.post_data)["pixels"]) if request.url.endswith("/predict") else None)
    draw_with_mouse(page, DIGITS[7], "top-left-small")  # far from the centre of the pad
    assert wait_for_answer(page) == "7"
    shown = np.array(preview_pixels(page)).reshape(28, 28)
    row, col = centre_of_mass(shown)
    assert abs(row - 14) <= 1.0 and abs(col - 14) <= 1.0, f"centre of mass at ({row:.2f}, {col:.2f})"
    inked_rows = np.flatnonzero(shown.max(axis=1) > 0)
    assert inked_rows[-1] - inked_rows[0] + 1 == 20  # the longer side scaled to MNIST's 20 px
    assert np.abs(shown - np.array(sent[-1]).reshape(28, 28)).max() <= 1 / 255 + 1e-6


def test_undo_removes_the_last_stroke_and_clear_empties_the_pad(desktop: Seen) -> None:
    page, watch = desktop
    first_stroke, second_stroke = DIGITS[4]
    draw_with_mouse(page, [first_stroke])
    wait_for_answer(page)
    ink_after_first = pad_ink_pixels(page)
    draw_with_mouse(page, [second_stroke])
    assert wait_for_answer(page) == "4"
    assert pad_ink_pixels(page) > ink_after_first

    page.get_by_test_id("undo").click()
    wait_for_answer(page)
    assert pad_ink_pixels(page) == ink_after_first
    draw_with_mouse(page, [second_stroke])
    assert wait_for_answer(page) == "4"

    page.keyboard.press("Control+z")  # keyboard shortcut for Undo
    page.keyboard.press("Control+z")
    assert wait_for_answer(page) == "–"
    assert pad_ink_pixels(page) == 0

    draw_with_mouse(page, DIGITS[7])
    assert wait_for_answer(page) == "7"
    page.get_by_test_id("clear").click()
    assert wait_for_answer(page) == "–"
    assert pad_ink_pixels(page) == 0
    assert float(np.max(preview_pixels(page))) == 0.0
    expect(page.get_by_test_id("status")).to_contain_text("empty")
    assert all(bar == 0.0 for bar in bar_values(page).values())

    draw_with_mouse(page, DIGITS[1])
    assert wait_for_answer(page) == "1"
    page.get_by_test_id("clear").focus()
    page.keyboard.press("Escape")  # keyboard shortcut for Clear
    assert wait_for_answer(page) == "–"
    assert pad_ink_pixels(page) == 0


def test_the_empty_pad_sends_nothing_and_says_so(desktop: Seen) -> None:
    page, watch = desktop
    expect(page.get_by_test_id("status")).to_contain_text("empty")
    expect(page.get_by_test_id("prediction")).to_have_text("–")
    page.get_by_test_id("clear").click()
    page.get_by_test_id("undo").click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(800)  # longer than the debounce: anything scheduled has been sent by now
    assert watch.predict_requests() == []
    expect(page.get_by_test_id("status")).to_contain_text("empty")

    draw_with_mouse(page, DIGITS[0])
    wait_for_answer(page)
    sent_for_drawing = len(watch.predict_requests())
    page.get_by_test_id("clear").click()
    page.wait_for_timeout(800)
    assert len(watch.predict_requests()) == sent_for_drawing
    expect(page.get_by_test_id("status")).to_contain_text("empty")


def test_a_server_outage_is_shown_and_the_page_recovers(desktop: Seen) -> None:
    page, watch = desktop
    watch.expect_failed_loads = True
    page.route("**/predict", lambda route: route.abort("connectionrefused"))
    draw_with_mouse(page, DIGITS[3])
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("server")
    expect(page.locator("#announcer")).to_contain_text("server")

    page.unroute("**/predict")  # the server is back: the page retries on its own
    expect(status).to_have_attribute("data-kind", "ok", timeout=10_000)
    assert wait_for_answer(page) == "3"

    page.route("**/predict", lambda route: route.fulfill(status=503, json={"detail": "loading"}))
    page.get_by_test_id("clear").click()
    draw_with_mouse(page, DIGITS[7])
    expect(status).to_contain_text("HTTP 503")
    page.unroute("**/predict")
    expect(status).to_have_attribute("data-kind", "ok", timeout=10_000)
    assert wait_for_answer(page) == "7"


def test_an_unsure_network_says_so(desktop: Seen) -> None:
    page, _ = desktop
    probabilities = [0.0, 0.0, 0.0, 0.0, 0.46, 0.0, 0.0, 0.0, 0.0, 0.38]
    probabilities[0] = 1.0 - sum(probabilities)
    page.route("**/predict", lambda route: route.fulfill(json={"digit": 4, "confidence": 0.46, "probabilities": probabilities}))
    draw_with_mouse(page, DIGITS[4])
    assert wait_for_answer(page) == "4"
    expect(page.get_by_test_id("confidence")).to_contain_text("Not sure")
    expect(page.locator("#doubt")).to_contain_text("9")
    expect(page.locator("#answer")).to_have_class("answer unsure")


def test_a_malformed_answer_is_reported_not_shown(desktop: Seen) -> None:
    page, _ = desktop
    page.route("**/predict", lambda route: route.fulfill(json={"digit": "seven"}))
    draw_with_mouse(page, DIGITS[7])
    status = page.get_by_test_id("status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("unexpected answer")
    expect(page.get_by_test_id("prediction")).to_have_text("–")


def test_a_stale_answer_never_overwrites_a_newer_one(desktop: Seen) -> None:
    page, _ = desktop
    held: list[Route] = []
    slow = True  # the server is slow for the first drawing only
    cancelled = []
    page.on("requestfailed", lambda request: cancelled.append(request))
    page.route("**/predict", lambda route: held.append(route) if slow else route.continue_())
    draw_with_mouse(page, DIGITS[1])
    page.wait_for_timeout(500)
    assert held, "the drawing should have asked for a prediction"
    slow = False
    page.get_by_test_id("clear").click()
    draw_with_mouse(page, DIGITS[7])
    assert wait_for_answer(page) == "7"
    # The old drawing's answers come late ("1", very sure): the page cancelled those requests when
    # the drawing changed; any it did not cancel must be ignored (api.test.mjs covers that guard).
    late = [route for route in held if route.request not in cancelled]
    for route in late:
        route.fulfill(json={"digit": 1, "confidence": 0.99, "probabilities": [0.0, 0.99] + [0.00125] * 8})
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("prediction")).to_have_text("7")
    expect(page.get_by_test_id("status")).to_have_attribute("data-kind", "ok")


def test_the_model_panel_shows_the_served_card(desktop: Seen, server_url: str) -> None:
    page, watch = desktop
    with urllib.request.urlopen(f"{server_url}/model") as response:
        card = json.load(response)
    layers = " → ".join(str(n) for n in card["members"][0]["layer_sizes"])
    expect(page.locator("#model-architecture")).to_contain_text(layers)
    expect(page.locator("#model-accuracy")).to_have_text(f"{card['test_accuracy'] * 100:.2f}%")
    expect(page.locator("#model-parameters")).to_have_text(f"{card['n_parameters']:,}")
    # the page, its stylesheet, its four modules, its icon and /model: all from its own origin
    paths = {url.removeprefix(watch.origin) for url in watch.requests}
    assert {"/", "/css/app.css", "/js/main.js", "/js/pad.js", "/js/preprocess.js", "/js/api.js", "/js/view.js", "/model"} <= paths
