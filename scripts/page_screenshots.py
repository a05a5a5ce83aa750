"""Screenshots of the drawing page for the README: a digit drawn and recognised, desktop and phone.

    .venv/bin/python scripts/page_screenshots.py [--out docs]

Starts the real server (python -m backend.serve), opens it in Debian's chromium through Playwright,
draws a 7 on the desktop page and a 3 on a 360 px wide phone page with touch, waits for the answer
and writes docs/screenshot.png and docs/screenshot-phone.png. Uses the browser tests' harness and
stroke shapes (tests/frontend/); it is not a test and checks nothing beyond the answer shown.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from backend.paths import PROJECT_ROOT
from backend.testing.browser import CHROMIUM, CHROMIUM_ARGS, running_server
from backend.testing.pad_driver import draw_with_mouse, draw_with_touch, wait_for_answer
from backend.testing.strokes import DIGITS

logger = logging.getLogger("page_screenshots")


def shoot(page: Page, url: str, path: Path, draw, digit: int) -> None:
    page.goto(url + "/")
    page.wait_for_selector("#model-facts:not([hidden])")
    draw(DIGITS[digit])
    shown = wait_for_answer(page)
    if shown != str(digit):
        raise SystemExit(f"the page read the {digit} as {shown!r}: not a screenshot for the README")
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    logger.info("wrote %s (%s recognised)", path, shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs", help="folder for the two PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with running_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        desktop = browser.new_page(viewport={"width": 1280, "height": 860})
        shoot(desktop, url, args.out / "screenshot.png", lambda strokes: draw_with_mouse(desktop, strokes), 7)
        phone_context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
        phone = phone_context.new_page()
        cdp = phone_context.new_cdp_session(phone)
        shoot(phone, url, args.out / "screenshot-phone.png", lambda strokes: draw_with_touch(phone, cdp, strokes), 3)
        browser.close()


if __name__ == "__main__":
    main()
