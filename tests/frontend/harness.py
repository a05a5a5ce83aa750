"""What the page's browser tests (and scripts/page_screenshots.py) run against: a live server, the system browser.

`running_server()` starts a real `uvicorn backend.main:app` in its own process on a free loopback port
(shipped weights, the repo's frontend/), waits for /health and stops it afterwards; if it exits or
never gets healthy, the error carries its log. CHROMIUM and CHROMIUM_ARGS launch Debian's chromium
through Playwright: never a downloaded browser build. PageWatch records what a page did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from scripts.live_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
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


class ServerDidNotStart(RuntimeError):
    """The server exited or was not healthy in time; the message holds its log."""


@contextmanager
def running_server() -> Iterator[str]:
    """Yields the base URL ("http://127.0.0.1:PORT") of a healthy server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "LOG_LEVEL": "warning"}
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(url, server, log)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_healthy(url: str, server: subprocess.Popen, log: IO[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise ServerDidNotStart(f"the server exited with code {server.returncode} before it was healthy:\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    log.seek(0)
    raise ServerDidNotStart(f"the server was not healthy after {START_TIMEOUT_S:.0f} s:\n{log.read()}")


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
