"""The "how it learned" page in a real browser: reached from the main page's link, it loads with no
request to another origin (checked by the page fixtures) and every figure it prints is the model card's."""

from __future__ import annotations

import collections
import json
import re

from playwright.sync_api import Page, expect

from backend.nn.weights import load_model
from backend.recognition.learning import LEARNED_JSON, PRESET_FOLDERS, SHIPPED_PRESET
from backend.testing.browser import PageWatch

Seen = tuple[Page, PageWatch]


def percent(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


def open_how(page: Page) -> None:
    page.get_by_test_id("how-it-learned").click()
    page.wait_for_url("**/how.html")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)


def check_how(page: Page, watch: PageWatch) -> None:
    open_how(page)
    for name, folder in PRESET_FOLDERS.items():
        _, card = load_model(folder)
        preset = page.locator(f"[data-testid=preset][data-preset={name}]")
        expect(preset.locator("[data-fact=test-accuracy]")).to_have_text(percent(card["test_accuracy"]))
        expect(preset.locator("[data-fact=validation-accuracy]")).to_have_text(percent(card["validation_accuracy"]))
        expect(preset.locator("[data-fact=parameters]")).to_have_text(f"{card['n_parameters']:,}")
        expect(preset.locator("[data-fact=layers]")).to_contain_text(" → ".join(map(str, card["members"][0]["layer_sizes"])))
        if card.get("parent"):  # a fine-tune says what it started from
            expect(preset.locator("[data-fact=parent]")).to_contain_text(f"{card['parent']['model_id']}: {card['parent']['epochs']} epochs")
        else:
            expect(preset.locator("[data-fact=parent]")).to_have_count(0)
        if card.get("members_from"):  # a mixed ensemble gives one line per member, with its seed and epochs
            origins = preset.locator("[data-fact=members-from]")
            for i, origin in enumerate(card["members_from"], start=1):
                expect(origins).to_contain_text(f"{i}. seed {origin['seed']}: ")
        curves = page.locator(f"[data-testid=preset-curves][data-preset={name}]")
        if card.get("history"):
            rows = collections.Counter(row["member"] for row in card["history"])
            longest = max(sorted(rows), key=rows.get)  # drawn first: the network with the longest record
            paths = curves.locator("path[data-series]")
            expect(paths).to_have_count(4)  # train and validation, for loss and for accuracy
            for path in paths.all():
                assert path.get_attribute("d").count("L") == rows[longest] - 1  # one point per epoch of the card
            expect(curves.get_by_test_id("history-missing")).to_have_count(0)
            if len(rows) > 1:  # each network's own curve, picked by the reader
                choice = curves.get_by_test_id("curve-member")
                expect(choice.locator("option")).to_have_count(len(rows))
                expect(choice).to_have_value(str(longest))
                for member in sorted(rows):
                    choice.select_option(str(member))
                    points = rf"^M[^L]*(L[^L]*){{{rows[member] - 1}}}$"  # redrawn: one point per epoch of that network
                    for path in paths.all():
                        expect(path).to_have_attribute("d", re.compile(points))
        else:
            expect(curves.get_by_test_id("history-missing")).to_be_visible()  # missing, not made up
            expect(curves.locator("path")).to_have_count(0)

    _, shipped = load_model(PRESET_FOLDERS[SHIPPED_PRESET])
    cells = page.locator("[data-testid=confusion] rect")
    expect(cells).to_have_count(100)
    shown = [[0] * 10 for _ in range(10)]
    for cell in cells.all():
        shown[int(cell.get_attribute("data-truth"))][int(cell.get_attribute("data-answer"))] = int(cell.get_attribute("data-count"))
    assert shown == shipped["test_confusion"]
    wrong = sum(count for t, row in enumerate(shipped["test_confusion"]) for a, count in enumerate(row) if t != a)
    expect(page.get_by_test_id("mistake")).to_have_count(wrong)
    first = json.loads(LEARNED_JSON.read_text())["mistakes"][0]
    caption = page.get_by_test_id("mistake").first.locator("figcaption")
    expect(caption).to_have_text(f"a {first['truth']}, read as {first['answer']} ({round(first['confidence'] * 100)}%)")
    assert watch.foreign_requests() == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_how_it_learned_matches_the_cards_on_a_desktop(desktop: Seen) -> None:
    check_how(*desktop)


def test_how_it_learned_matches_the_cards_on_a_phone(phone: Seen) -> None:
    check_how(*phone)


def test_how_it_learned_says_so_when_its_data_is_missing(desktop: Seen) -> None:
    page, watch = desktop
    watch.expect_failed_loads = True
    page.route("**/data/how-it-learned.json", lambda route: route.fulfill(status=404, body="{}"))
    page.get_by_test_id("how-it-learned").click()
    status = page.get_by_test_id("how-status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("scripts/evaluate.py --how-it-learned")
