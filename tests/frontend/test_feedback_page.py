"""Corrections from the page, end to end in Debian's chromium against the real server and a real SQLite file.

A misread digit is corrected with one tap on a touch screen and found again in the dataset that
scripts/export_feedback.py writes; Undo within the window sends nothing; "it's right" stores the
answer as the label. The server misreads on purpose: the page's /predict answer is replaced by a
confident 9, so the test does not depend on which drawing today's weights get wrong.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from backend.paths import PROJECT_ROOT
from backend.recognition.corrections import load_corrections
from backend.testing.live_server import LiveServer
from backend.testing.pad_driver import draw_with_touch, preview_pixels, wait_for_answer
from backend.testing.strokes import DIGITS

TOKEN = "browser-test-admin-token"
UNDO_MS = 4000  # frontend/js/feedback.js
MISREAD = {"digit": 9, "confidence": 0.91, "probabilities": [0.0] * 4 + [0.09] + [0.0] * 4 + [0.91]}


@pytest.fixture(scope="module")
def feedback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("feedback-data")
    env = {"DATA_DIR": str(data), "ADMIN_TOKEN": TOKEN, "FEEDBACK_RATE": "0", "LOG_LEVEL": "warning", "OPENBLAS_NUM_THREADS": "1"}
    with LiveServer(workers=1, env=env) as server:
        yield server


@pytest.fixture
def phone(browser: Browser, feedback_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.goto(feedback_server.url + "/")
    page.wait_for_selector("#model-facts:not([hidden])")
    yield page
    context.close()
    assert errors == []


def stats(server: LiveServer) -> dict:
    with urllib.request.urlopen(server.url + "/feedback/stats", timeout=10) as response:
        assert response.status == 200
        return json.load(response)


def misread_as_nine(route: Route) -> None:
    route.fulfill(status=200, content_type="application/json", body=json.dumps(MISREAD))


def draw_four(page: Page) -> str:
    page.route("**/predict", misread_as_nine)
    cdp = page.context.new_cdp_session(page)
    draw_with_touch(page, cdp, DIGITS[4])
    return wait_for_answer(page)


def test_a_misread_digit_corrected_by_touch_is_in_the_export(phone: Page, feedback_server: LiveServer, tmp_path: Path) -> None:
    assert draw_four(phone) == "9"
    expect(phone.get_by_test_id("thanks")).to_be_hidden()
    before = stats(feedback_server)["total"]
    phone.get_by_test_id("correct-4").tap()
    thanks = phone.get_by_test_id("thanks")
    expect(thanks).to_be_visible()
    expect(thanks).to_contain_text("a 4")
    expect(phone.get_by_test_id("correct-4")).to_have_attribute("aria-pressed", "true")
    expect(thanks).to_have_attribute("data-state", "stored", timeout=UNDO_MS + 10_000)
    assert stats(feedback_server)["total"] == before + 1
    drawn = np.array(preview_pixels(phone))

    out = tmp_path / "feedback.npz"
    result = subprocess.run(
        [sys.executable, "scripts/export_feedback.py", "--url", feedback_server.url, "--out", str(out)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "ADMIN_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == before + 1
    assert (tmp_path / "feedback.npz.sha256").read_text().split()[0] == summary["sha256"]
    data = load_corrections(out)
    [index] = np.flatnonzero((data.labels == 4) & (data.predicted == 9))
    health = json.load(urllib.request.urlopen(feedback_server.url + "/health", timeout=10))
    assert data.model_ids[index] == health["model_id"]
    # the stored drawing is the one the network was given (the preview paints it), to a grey level
    assert np.abs(data.images[index].astype(int) - np.rint(drawn * 255)).max() <= 1
    assert data.images[index].max() == 255
    # the raw row (admin route) holds the strokes the finger drew, in pad units, within the server's bounds
    request = urllib.request.Request(
        f"{feedback_server.url}/feedback/rows?after_id={int(data.ids[index]) - 1}&limit=1", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    [row] = json.load(urllib.request.urlopen(request, timeout=10))["rows"]
    assert row["id"] == int(data.ids[index])
    assert len(row["strokes"]) == len(DIGITS[4])
    assert all(1 <= len(stroke) <= 256 and all(0 <= x <= 1 and 0 <= y <= 1 for x, y in stroke) for stroke in row["strokes"])


def test_undo_inside_the_window_sends_nothing(phone: Page, feedback_server: LiveServer) -> None:
    assert draw_four(phone) == "9"
    before = stats(feedback_server)["total"]
    phone.get_by_test_id("correct-3").tap()
    expect(phone.get_by_test_id("thanks")).to_have_attribute("data-state", "pending")
    phone.get_by_test_id("feedback-undo").tap()
    thanks = phone.get_by_test_id("thanks")
    expect(thanks).to_have_attribute("data-state", "undone")
    expect(thanks).to_contain_text("nothing was sent")
    expect(phone.get_by_test_id("correct-3")).to_have_attribute("aria-pressed", "false")
    phone.wait_for_timeout(UNDO_MS + 1000)
    assert stats(feedback_server)["total"] == before
    assert thanks.get_attribute("data-state") == "undone"


def test_confirming_the_answer_stores_it_as_the_label(phone: Page, feedback_server: LiveServer) -> None:
    assert draw_four(phone) == "9"
    before = stats(feedback_server)
    expect(phone.get_by_test_id("confirm-right")).to_have_text("It's right: a 9")
    phone.get_by_test_id("confirm-right").tap()
    expect(phone.get_by_test_id("thanks")).to_have_attribute("data-state", "stored", timeout=UNDO_MS + 10_000)
    after = stats(feedback_server)
    assert after["total"] == before["total"] + 1
    assert after["by_label"]["9"] == before["by_label"]["9"] + 1
    assert after["by_predicted"]["9"] == before["by_predicted"]["9"] + 1


def test_clearing_the_pad_sends_a_waiting_correction_at_once(phone: Page, feedback_server: LiveServer) -> None:
    assert draw_four(phone) == "9"
    before = stats(feedback_server)["by_label"]["7"]
    phone.get_by_test_id("correct-7").tap()
    phone.get_by_test_id("clear").tap()
    expect(phone.locator("#feedback")).to_be_hidden()
    thanks = phone.get_by_test_id("thanks")
    expect(thanks).to_have_attribute("data-state", "stored", timeout=UNDO_MS - 1000)  # before the window would have closed
    assert stats(feedback_server)["by_label"]["7"] == before + 1


def test_the_page_says_what_is_stored(phone: Page) -> None:
    draw_four(phone)
    note = phone.locator(".feedback-note")
    expect(note).to_be_visible()
    for words in ("28×28", "strokes", "model", "time", "No IP address, no cookies"):
        expect(note).to_contain_text(words)
