"""The page's accessibility in a real browser: axe-core finds no violation, in every state the page has.

axe-core is vendored in tests/frontend/vendor/axe.min.js (never served by the page) and injected into
the page under test with Playwright's add_script_tag, in a browser context that bypasses the page's
Content-Security-Policy (which rightly refuses an injected script; the other tests keep it); it checks the WCAG 2.0/2.1 A and AA rules
(contrast included) on the empty page, after a number is read, in the unsure state, with the wide pad
and on a phone. The phone's first screen must also show the answer, the bars and the status after
drawing, without scrolling.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from backend.testing.browser import PageWatch
from backend.testing.pad_driver import draw_with_mouse, draw_with_touch, number_placements, wait_for_answer, wait_for_number
from backend.testing.strokes import DIGITS

Seen = tuple[Page, PageWatch]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def open_for_axe(browser: Browser, server_url: str, **context_options) -> Iterator[tuple[Page, PageWatch]]:
    context = browser.new_context(bypass_csp=True, **context_options)
    page = context.new_page()
    watch = PageWatch(origin=server_url)
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
    page.goto(server_url + "/")
    page.wait_for_selector("[data-testid=probabilities] > li:nth-child(10)")
    page.wait_for_selector("#model-facts:not([hidden]), #model-missing:not([hidden])")
    yield page, watch
    context.close()
    assert watch.errors == [] and watch.foreign_requests() == []


@pytest.fixture
def desktop(browser: Browser, server_url: str) -> Iterator[tuple[Page, PageWatch]]:
    yield from open_for_axe(browser, server_url, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Browser, server_url: str) -> Iterator[tuple[Page, PageWatch]]:
    yield from open_for_axe(
        browser, server_url, viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )


def violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it is now: "rule: target" for each failing node."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async (tags) => (await axe.run(document, { runOnly: { type: 'tag', values: tags } })).violations", TAGS)
    return [f"{v['id']}: {', '.join(str(n['target']) for n in v['nodes'])}" for v in found]


def test_axe_finds_nothing_on_the_empty_page_and_with_a_number(desktop: Seen) -> None:
    page, _ = desktop
    assert violations(page) == []
    for strokes, box in number_placements("2026", np.random.default_rng(0)):
        draw_with_mouse(page, strokes, box)
    assert wait_for_number(page) == "2026"
    page.wait_for_timeout(300)  # the bars' transition has finished
    assert violations(page) == []


def test_axe_finds_nothing_in_the_unsure_and_pending_states_and_with_the_wide_pad(desktop: Seen) -> None:
    page, watch = desktop
    probabilities = [0.0, 0.0, 0.0, 0.0, 0.46, 0.0, 0.0, 0.0, 0.0, 0.38]
    probabilities[0] = 1.0 - sum(probabilities)
    page.route("**/predict", lambda route: route.fulfill(json={"digit": 4, "confidence": 0.46, "probabilities": probabilities}))
    draw_with_mouse(page, DIGITS[4])
    assert wait_for_answer(page) == "4"
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("status")).to_have_attribute("data-kind", "warn")  # orange like the bar, not green
    assert violations(page) == []
    page.unroute("**/predict")
    page.route("**/predict", lambda route: None)  # never answered: the page stays pending
    page.get_by_test_id("undo").click()
    page.get_by_test_id("undo").click()
    draw_with_mouse(page, DIGITS[1])
    expect(page.get_by_test_id("status")).to_have_text("Recognising…")
    assert violations(page) == []  # the pending state passes too
    page.unroute("**/predict")
    page.get_by_test_id("wide-pad").click()
    assert violations(page) == []


def test_on_a_phone_axe_finds_nothing_and_the_answer_shows_without_scrolling(phone: Seen) -> None:
    page, _ = phone
    cdp = page.context.new_cdp_session(page)
    for strokes, box in number_placements("47", np.random.default_rng(5)):
        draw_with_touch(page, cdp, strokes, box)
    assert wait_for_number(page) == "47"
    assert page.evaluate("window.scrollY") == 0
    height = page.viewport_size["height"]
    for test_id in ("number", "prediction", "probabilities", "status"):
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, f"{test_id} is below the first screen: {box}"
    page.wait_for_timeout(300)
    assert violations(page) == []
