"""The look-inside panel in a real browser against a real server, on a desktop and on a 360 px phone.

Closed, it asks nothing of the server. Opened, it shows one grid per layer of the explained network
(as /model describes it), the grids change when the drawing changes, the evidence overlay sits on
the preview with red and blue ink, and tapping or clicking a first-layer unit shows its weights
(the same numbers /explain/weights gives) and its value.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from backend.testing.browser import PageWatch
from backend.testing.pad_driver import draw_with_mouse, draw_with_touch, wait_for_answer
from backend.testing.strokes import DIGITS

Seen = tuple[Page, PageWatch]


def explain_requests(watch: PageWatch) -> list[str]:
    return [url for url in watch.requests if urlsplit(url).path == "/explain"]


def layer_signatures(page: Page) -> list[list[int]]:
    """Per layer canvas, the sum of its red channel along each pixel row: changes when any unit's brightness does."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=layer]'), (canvas) => {
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const rows = [];
            for (let y = 0; y < canvas.height; y++) {
                let sum = 0;
                for (let x = 0; x < canvas.width; x++) sum += data[(y * canvas.width + x) * 4];
                rows.push(sum);
            }
            return rows;
        })"""
    )


def evidence_colours(page: Page) -> dict[str, int]:
    """How many overlay pixels are red (for the answer), blue (against) or clear."""
    return page.evaluate(
        """() => {
            const data = document.querySelector('[data-testid=evidence]').getContext('2d').getImageData(0, 0, 28, 28).data;
            const count = { red: 0, blue: 0, clear: 0 };
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] === 0) count.clear++;
                else if (data[i] > data[i + 2]) count.red++;
                else count.blue++;
            }
            return count;
        }"""
    )


def wait_for_explanation(page: Page, before: list[list[int]] | None = None) -> list[list[int]]:
    """Wait until the panel shows an explanation (different from `before`, if given); return the grids' signatures."""
    expect(page.locator("#inside-status")).to_have_attribute("data-kind", "ok", timeout=15_000)
    if before is not None:
        page.wait_for_function(
            """(before) => {
                const now = Array.from(document.querySelectorAll('[data-testid=layer]'), (canvas) => {
                    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                    let sum = 0;
                    for (let i = 0; i < data.length; i += 4) sum += data[i];
                    return sum;
                });
                return JSON.stringify(now) !== JSON.stringify(before.map((rows) => rows.reduce((a, b) => a + b, 0)));
            }""",
            arg=before,
            timeout=15_000,
        )
    return layer_signatures(page)


def model_card(url: str) -> dict:
    with urllib.request.urlopen(url + "/model", timeout=10) as response:
        return json.load(response)


def unit_weights(url: str, member: int, unit: int) -> list[float]:
    with urllib.request.urlopen(f"{url}/explain/weights/{member}/{unit}", timeout=10) as response:
        return json.load(response)["weights"]


def weights_drawn(page: Page) -> list[int]:
    """The unit picture's pixels as +1 (red), -1 (blue) or 0 (blank)."""
    return page.evaluate(
        """() => {
            const data = document.querySelector('[data-testid=unit-weights]').getContext('2d').getImageData(0, 0, 28, 28).data;
            return Array.from({ length: 784 }, (_, i) => data[i * 4 + 3] === 0 ? 0 : (data[i * 4] > data[i * 4 + 2] ? 1 : -1));
        }"""
    )


def check_panel(page: Page, watch: PageWatch, server_url: str, draw, tap) -> None:
    """The whole story on one page: closed costs nothing, open shows layers, evidence, and a unit on tap."""
    panel = page.get_by_test_id("inside")
    draw(DIGITS[1])
    assert wait_for_answer(page) == "1"
    expect(panel).to_be_hidden()
    assert explain_requests(watch) == []  # closed: never asked
    expect(page.get_by_test_id("evidence")).to_be_hidden()

    tap(page.get_by_test_id("inside-toggle"))
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("inside-toggle")).to_have_attribute("aria-expanded", "true")
    first = wait_for_explanation(page)
    card = model_card(server_url)
    sizes = card["members"][0]["layer_sizes"]
    layers = page.get_by_test_id("layer")
    expect(layers).to_have_count(len(sizes) - 1)
    assert [int(layers.nth(i).get_attribute("data-active")) > 0 for i in range(len(sizes) - 1)] == [True] * (len(sizes) - 1)
    for layer in layers.all():
        assert layer.bounding_box()["x"] + layer.bounding_box()["width"] <= page.viewport_size["width"]  # fits the screen
    overlay = page.get_by_test_id("evidence")
    expect(overlay).to_be_visible()
    colours = evidence_colours(page)
    assert colours["red"] > 0 and colours["clear"] > 0
    assert overlay.bounding_box() == page.get_by_test_id("preview").bounding_box()  # over the preview, exactly

    page.get_by_test_id("clear").click()
    draw(DIGITS[8])
    assert wait_for_answer(page) == "8"
    second = wait_for_explanation(page, first)
    assert len(second) == len(first)
    assert all(a != b for a, b in zip(first, second))  # every layer's grid changed with the drawing
    assert len(explain_requests(watch)) >= 2
    expect(page.locator("#inside-status")).to_contain_text("Why 8")

    # tap a lit unit of the first hidden layer: its weights appear, as the server has them, with its value
    grid = layers.first
    index = page.evaluate(
        """() => {
            const canvas = document.querySelector('[data-testid=layer]');
            const cell = Number(canvas.dataset.cell), cols = canvas.width / cell;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 0; i < canvas.width * canvas.height / cell / cell; i++) {
                const x = (i % cols) * cell + cell / 2, y = Math.floor(i / cols) * cell + cell / 2;
                if (data[(y * canvas.width + x) * 4] > 200) return i;
            }
            return -1;
        }"""
    )
    assert index >= 0
    box = grid.bounding_box()
    scale = box["width"] / int(grid.get_attribute("width"))
    cell = int(grid.get_attribute("data-cell"))
    cols = int(grid.get_attribute("width")) // cell
    tap(grid, position={"x": ((index % cols) + 0.5) * cell * scale, "y": ((index // cols) + 0.5) * cell * scale})
    unit = page.get_by_test_id("unit")
    expect(unit).to_be_visible()
    expect(unit).to_have_attribute("data-unit", str(index))
    expect(page.get_by_test_id("unit-weights")).to_have_attribute("data-unit", str(index), timeout=10_000)
    expect(page.get_by_test_id("unit-value")).to_contain_text(f"unit {index}: value ")
    weights = unit_weights(server_url, int(unit.get_attribute("data-member")), index)
    drawn = weights_drawn(page)
    assert drawn == [(w > 0) - (w < 0) for w in weights]  # red where the weight is positive, blue where negative
    assert drawn.count(1) > 0 and drawn.count(-1) > 0

    tap(page.get_by_test_id("inside-toggle"))
    expect(panel).to_be_hidden()
    expect(page.get_by_test_id("evidence")).to_be_hidden()
    asked = len(explain_requests(watch))
    page.get_by_test_id("clear").click()
    draw(DIGITS[7])
    assert wait_for_answer(page) == "7"
    assert len(explain_requests(watch)) == asked  # closed again: no more requests


def test_the_panel_opens_shows_the_layers_and_a_units_weights_on_a_desktop(desktop: Seen, server_url: str) -> None:
    page, watch = desktop
    check_panel(page, watch, server_url, lambda strokes: draw_with_mouse(page, strokes), lambda target, **kw: target.click(**kw))


def test_the_panel_works_by_touch_on_a_360px_phone(phone: Seen, server_url: str) -> None:
    page, watch = phone
    cdp = page.context.new_cdp_session(page)
    check_panel(page, watch, server_url, lambda strokes: draw_with_touch(page, cdp, strokes), lambda target, **kw: target.tap(**kw))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # nothing sticks out sideways


@pytest.mark.parametrize("width", [360, 1280])
def test_the_how_it_learned_link_is_on_the_page(browser, server_url: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(server_url + "/")
    link = page.get_by_test_id("how-it-learned")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "how.html"
    context.close()


def test_a_failing_explain_is_said_in_the_panel_and_never_touches_the_answer(desktop: Seen) -> None:
    page, watch = desktop
    watch.expect_failed_loads = True
    page.route("**/explain", lambda route: route.fulfill(status=503, content_type="application/json", body='{"detail": "busy"}'))
    page.get_by_test_id("inside-toggle").click()
    draw_with_mouse(page, DIGITS[4])
    assert wait_for_answer(page) == "4"  # the answer comes as ever
    status = page.locator("#inside-status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("HTTP 503")
    expect(page.get_by_test_id("evidence")).to_be_hidden()
    expect(page.get_by_test_id("layer")).to_have_count(0)  # nothing drawn from an answer that never came


def test_tapping_a_blank_grid_after_clearing_shows_no_unit(desktop: Seen) -> None:
    page, _ = desktop
    page.get_by_test_id("inside-toggle").click()
    draw_with_mouse(page, DIGITS[2])
    assert wait_for_answer(page) == "2"
    wait_for_explanation(page)
    page.get_by_test_id("clear").click()
    expect(page.get_by_test_id("evidence")).to_be_hidden()
    page.get_by_test_id("layer").first.click(position={"x": 4, "y": 4})
    expect(page.get_by_test_id("unit")).to_be_hidden()
    expect(page.locator("#inside-status")).to_contain_text("Draw a digit")
