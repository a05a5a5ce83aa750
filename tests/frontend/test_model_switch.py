"""The page's model menu in a real browser against the real server: the same drawing, read by another model."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from backend.testing.browser import PageWatch
from backend.testing.pad_driver import draw_with_mouse, wait_for_answer
from backend.testing.strokes import DIGITS


def test_switching_model_rereads_the_drawing_with_the_chosen_model(desktop: tuple[Page, PageWatch]) -> None:
    page, watch = desktop
    menu = page.get_by_test_id("model-select")
    expect(menu).to_be_visible()
    names = menu.locator("option").all_inner_texts()
    assert names[0] == "mnist" and "classic" in names
    expect(page.locator("#model-name")).to_have_text("mnist-mlp-best")

    draw_with_mouse(page, DIGITS[3])
    assert wait_for_answer(page) == "3"
    assert not any("model=" in url for url in watch.predict_requests())

    menu.select_option("classic")
    expect(page.locator("#model-name")).to_have_text("mnist-mlp-classic")  # the card follows the choice
    page.wait_for_function("() => document.querySelector('[data-testid=status]').dataset.kind !== 'busy'")
    assert wait_for_answer(page) == "3"  # the same drawing, no new stroke, answered again
    assert watch.predict_requests()[-1].endswith("/predict?model=classic")
    expect(page.locator("#model-architecture")).to_have_text("784 → 30 → 10")


def test_an_unknown_model_from_a_stale_menu_says_what_is_wrong(desktop: tuple[Page, PageWatch]) -> None:
    page, watch = desktop
    watch.expect_failed_loads = True  # the 404s show in the console as failed loads
    page.evaluate(
        "() => { const o = document.createElement('option'); o.value = o.textContent = 'gone'; document.querySelector('[data-testid=model-select]').append(o); }"
    )
    page.get_by_test_id("model-select").select_option("gone")
    draw_with_mouse(page, DIGITS[1])
    expect(page.get_by_test_id("status")).to_contain_text("no model 'gone'")


def test_looking_inside_explains_the_model_that_answered(desktop: tuple[Page, PageWatch]) -> None:
    page, watch = desktop
    draw_with_mouse(page, DIGITS[3])
    assert wait_for_answer(page) == "3"
    page.get_by_test_id("inside-toggle").click()
    expect(page.locator("#inside-status")).to_have_attribute("data-kind", "ok", timeout=15_000)
    expect(page.get_by_test_id("layer")).to_have_count(3)  # the default ensemble's member: 800, 800, 10

    page.get_by_test_id("model-select").select_option("classic")
    expect(page.get_by_test_id("layer")).to_have_count(2, timeout=15_000)  # the textbook net: 30, 10
    assert any(url.endswith("/explain?model=classic") for url in watch.requests)
    expect(page.locator("#inside-status")).to_have_attribute("data-kind", "ok")
