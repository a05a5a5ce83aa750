"""The page when the drawing is not a digit: a letter X or a smiley drawn on the pad shows "?" (no
digit character) and a status that says it does not look like a digit; a digit drawn next is answered
as before. Same real browser and server as test_browser.py (fixtures in conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.recognition.sketches import LETTERS, SHAPES
from backend.testing.browser import PageWatch
from backend.testing.pad_driver import draw_with_mouse, wait_for_answer
from backend.testing.strokes import DIGITS

Seen = tuple[Page, PageWatch]


@pytest.mark.parametrize("figure", ["X", "smiley"])
def test_a_drawing_that_is_not_a_digit_shows_a_question_mark(desktop: Seen, figure: str) -> None:
    page, watch = desktop
    draw_with_mouse(page, LETTERS.get(figure) or SHAPES[figure], "centred-large")
    answer = wait_for_answer(page)
    assert answer == "?"
    assert not any(character.isdigit() for character in answer)
    expect(page.get_by_test_id("status")).to_contain_text("does not look like a digit")
    expect(page.locator("#announcer")).to_contain_text("not look like a digit")
    assert watch.predict_requests()


def test_a_digit_after_a_non_digit_is_answered_again(desktop: Seen) -> None:
    page, _ = desktop
    draw_with_mouse(page, LETTERS["X"], "centred-large")
    assert wait_for_answer(page) == "?"
    page.get_by_test_id("clear").click()
    draw_with_mouse(page, DIGITS[3], "centred-large")
    assert wait_for_answer(page) == "3"
    expect(page.get_by_test_id("status")).not_to_contain_text("does not look like a digit")
