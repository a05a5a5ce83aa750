"""Fixtures for the page's browser tests: a real server, Debian's chromium, watched pages.

The server (a real `python -m backend.serve`) and the browser (Debian's chromium) come from backend/testing/browser.py and
are started once per session. Every page a test opens is watched: each request it makes, and each
console error or uncaught exception, is recorded and checked when the test ends (same origin only,
no errors unless the test expects failed loads).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from backend.testing.browser import CHROMIUM, CHROMIUM_ARGS, PageWatch, running_server
from backend.testing.live_server import ServerDidNotStart


@pytest.fixture(scope="module")  # module, not session: sync Playwright holds an event loop open until closed
def server_url() -> Iterator[str]:
    """Base URL ("http://127.0.0.1:PORT") of a live `python -m backend.serve`."""
    try:
        with running_server() as url:
            yield url
    except ServerDidNotStart as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")  # module, not session: sync Playwright holds an event loop open until closed
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def watch_page(page: Page, origin: str) -> PageWatch:
    watch = PageWatch(origin=origin)
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("console", lambda message: watch.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
    return watch


def open_page(context: BrowserContext, server_url: str) -> tuple[Page, PageWatch]:
    """The app's page, loaded and ready (its ten bars built and the model panel answered)."""
    page = context.new_page()
    watch = watch_page(page, server_url)
    page.goto(server_url + "/")
    page.wait_for_selector("[data-testid=probabilities] > li:nth-child(10)")
    page.wait_for_selector("#model-facts:not([hidden]), #model-missing:not([hidden])")
    return page, watch


def check_watch(watch: PageWatch) -> None:
    assert watch.foreign_requests() == [], f"requests left the page's origin: {watch.foreign_requests()}"
    assert watch.unexpected_errors() == [], f"the page logged errors: {watch.unexpected_errors()}"


@pytest.fixture
def desktop(browser: Browser, server_url: str) -> Iterator[tuple[Page, PageWatch]]:
    """The page in a 1280x900 desktop window, watched."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page, watch = open_page(context, server_url)
    yield page, watch
    context.close()
    check_watch(watch)


@pytest.fixture
def phone(browser: Browser, server_url: str) -> Iterator[tuple[Page, PageWatch]]:
    """The page on a 360 px wide touch screen at twice the pixel density, watched."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page, watch = open_page(context, server_url)
    yield page, watch
    context.close()
    check_watch(watch)


@pytest.fixture
def blank(browser: Browser, server_url: str) -> Iterator[tuple[Page, PageWatch]]:
    """A watched 1280x900 page that has loaded nothing yet, for pages other than the drawing page (/docs, /redoc)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = watch_page(page, server_url)
    yield page, watch
    context.close()
    check_watch(watch)
