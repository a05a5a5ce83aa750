"""What the page's browser tests (and scripts/page_screenshots.py) run against: a live server, the system browser.

`running_server()` starts the real server (`python -m backend.serve`, as `make run` does, with one
worker) on a free loopback port (shipped weights, the repo's frontend/), waits for /health and stops
it afterwards; if it exits or never gets healthy, ServerDidNotStart carries its log. CHROMIUM and
CHROMIUM_ARGS launch Debian's chromium through Playwright: never a downloaded browser build.
PageWatch records what a page did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from backend.testing.live_server import LiveServer

START_TIMEOUT_S = 90.0
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def running_server() -> Iterator[str]:
    """Yields the base URL ("http://127.0.0.1:PORT") of a healthy `python -m backend.serve` (one worker)."""
    with LiveServer(workers=1, env={"OPENBLAS_NUM_THREADS": "1", "LOG_LEVEL": "warning"}).start(START_TIMEOUT_S) as server:
        yield server.url


@dataclass
class PageWatch:
    """What one page did: every request URL, console errors and uncaught exceptions."""

    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expect_failed_loads: bool = False  # set by tests that make requests fail on purpose

    def predict_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).path == "/predict"]

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.origin + "/")]

    def unexpected_errors(self) -> list[str]:
        failed_load = "Failed to load resource"
        return [e for e in self.errors if not (self.expect_failed_loads and failed_load in e)]
