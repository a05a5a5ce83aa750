"""Numbers written on the page in a real browser: grouped into digits in JS, read in one /predict/batch.

Numbers of 2, 4 and 6 digits are written with the mouse on a desktop and with a finger on a 360 px
phone, at random sizes, gaps and baseline drift (pad_driver.number_placements); each must be read
exactly, with one card per digit (answer, confidence, 28x28 image) beneath the number, and a single
digit must still be answered as before (by /predict, in [data-testid=prediction]). Slanted numbers whose
digits share columns, written by numbers.pad_number, are read exactly too.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from backend.testing.browser import PageWatch
from backend.testing.numbers import pad_number
from backend.testing.pad_driver import draw_with_mouse, draw_with_touch, number_placements, wait_for_answer, wait_for_number
from backend.testing.strokes import DIGITS

Seen = tuple[Page, PageWatch]
NUMBERS = {2: "47", 4: "2026", 6: "358190"}


def write_number(page: Page, label: str, draw, seed: int) -> None:
    for strokes, box in number_placements(label, np.random.default_rng(seed)):
        draw(strokes, box)


def batch_requests(watch: PageWatch) -> list[str]:
    return [url for url in watch.requests if url.endswith("/predict/batch")]


@pytest.mark.parametrize("length", [2, 4, 6])
def test_numbers_written_with_the_mouse_are_read_exactly(desktop: Seen, length: int) -> None:
    page, watch = desktop
    label = NUMBERS[length]
    sent: list[dict] = []
    page.on("request", lambda request: sent.append(json.loads(request.post_data)) if request.url.endswith("/predict/batch") else None)
    write_number(page, label, lambda strokes, box: draw_with_mouse(page, strokes, box), seed=length)
    assert wait_for_number(page) == label
    cards = page.get_by_test_id("digits").locator("> li")
    expect(cards).to_have_count(length)
    assert [card.get_attribute("data-digit") for card in cards.all()] == list(label)
    expect(cards.first).to_contain_text("%")
    # the last answer came from ONE batch request holding every digit
    assert len(sent[-1]["images"]) == length and all(len(image) == 784 for image in sent[-1]["images"])
    assert len(batch_requests(watch)) >= 1


@pytest.mark.parametrize("length", [2, 4, 6])
def test_numbers_written_by_finger_on_a_phone_are_read_exactly(phone: Seen, length: int) -> None:
    page, _ = phone
    cdp = page.context.new_cdp_session(page)
    label = NUMBERS[length]
    write_number(page, label, lambda strokes, box: draw_with_touch(page, cdp, strokes, box), seed=10 + length)
    assert wait_for_number(page) == label
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


# Slanted writing, with digits sharing columns and a 5's flag lifted off its body (numbers.pad_number): numbers
# the page once grouped wrongly (the 1 joined to a neighbour, the flag left as a digit of its own)
def test_a_slanted_number_with_touching_digits_written_by_finger_is_read_exactly(phone: Seen) -> None:
    page, _ = phone
    cdp = page.context.new_cdp_session(page)
    number = pad_number("7151", np.random.default_rng(40))
    draw_with_touch(page, cdp, number.strokes, (0, 0, 1, 1))
    assert wait_for_number(page) == "7151"


def test_a_slanted_number_with_a_flag_apart_written_with_the_mouse_is_read_exactly(desktop: Seen) -> None:
    page, _ = desktop
    number = pad_number("5161", np.random.default_rng(30))
    draw_with_mouse(page, number.strokes, (0, 0, 1, 1))
    assert wait_for_number(page) == "5161"
    expect(page.get_by_test_id("digits").locator("> li")).to_have_count(4)


def test_a_single_digit_still_answers_through_predict(desktop: Seen) -> None:
    page, watch = desktop
    draw_with_mouse(page, DIGITS[4])  # two strokes: one digit
    assert wait_for_answer(page) == "4"
    assert wait_for_number(page) == "4"
    assert batch_requests(watch) == []
    expect(page.get_by_test_id("digits").locator("> li")).to_have_count(1)


def test_clear_and_undo_are_announced_and_the_same_digit_again_is_spoken_again(desktop: Seen) -> None:
    page, _ = desktop
    announcer = page.locator("#announcer")
    draw_with_mouse(page, DIGITS[7])
    wait_for_answer(page)
    expect(announcer).to_contain_text("7")
    page.get_by_test_id("clear").click()
    expect(announcer).to_have_text("Pad cleared.")
    draw_with_mouse(page, DIGITS[7])
    wait_for_answer(page)
    expect(announcer).to_contain_text("It is a 7")
    page.get_by_test_id("undo").click()
    expect(announcer).to_have_text("Last stroke undone.")


def test_a_number_can_be_written_from_the_keyboard_with_sample_digits(desktop: Seen) -> None:
    page, _ = desktop
    page.get_by_test_id("wide-pad").focus()
    page.keyboard.press("Enter")  # the wide pad: room for a number
    expect(page.get_by_test_id("wide-pad")).to_have_attribute("aria-pressed", "true")
    page.locator(".samples summary").focus()
    page.keyboard.press("Enter")  # open the sample digits
    for digit in "305":
        page.locator(f"[data-sample='{digit}']").focus()
        page.keyboard.press("Enter")
    assert wait_for_number(page) == "305"
    expect(page.locator("#announcer")).to_contain_text("3 0 5")


def test_a_mark_the_model_says_is_not_a_digit_shows_as_a_question_mark(desktop: Seen) -> None:
    page, _ = desktop
    answer = {"digit": 1, "confidence": 0.9, "probabilities": [0.0, 0.9] + [0.0125] * 8}
    page.route(
        "**/predict/batch",
        lambda route: route.fulfill(json={"predictions": [{**answer, "is_digit": True}, {**answer, "is_digit": False}]}),
    )
    write_number(page, "11", lambda strokes, box: draw_with_mouse(page, strokes, box), seed=3)
    assert wait_for_number(page) == "1?"
