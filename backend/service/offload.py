"""Parsing large JSON bodies in a helper process, so that the worker's event loop keeps answering.

orjson and NumPy's list conversion hold the GIL for the whole of a call: a batch body of 10-20 MB
takes a few hundred milliseconds to parse, and in a thread that is a few hundred milliseconds during
which the worker's event loop cannot run (so /health and every other request on that worker wait).
A body over PARSE_OFFLOAD_MIN_BYTES (a setting; 1 MB) is therefore parsed by one helper process per
worker (with "spawn": it imports the parser's module, and runs nothing of the app); the worker's thread
just waits for the (B, 784) float32 answer, without the GIL. Smaller bodies parse in a few
milliseconds where they are.

The launcher's workers start their helper as they start serving (`start()`, without waiting for it):
started by the first large body instead, the helper's start (imports, on a busy machine seconds of
CPU) made that request wait and competed with everything else the worker answered meanwhile.
Elsewhere (tests, one process) it starts on first use.

A parse that fails raises its PayloadError here as it would have in place. If the helper dies (it
is killed, or runs out of memory), the parse is done in place this once and a new helper is started
for the next. If the worker dies (killed, so that nothing shuts the pool down), the helper ends
within PARENT_CHECK_S: it would otherwise wait for work forever, since it holds its own queue's
writing end too. What this module leaves out: the parsers themselves (payloads.py) and what the route
does with the matrix.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
NEVER = 2**63  # a min_bytes no body reaches: everything parses in place
PARENT_CHECK_S = 1.0


def _end_with_parent(parent: int) -> None:
    """The helper's initializer: its worker alone decides when it ends. SIGINT is ignored (a terminal's
    Ctrl-C reaches the whole process group; the worker then shuts the pool down, and the helper would
    otherwise die mid-wait with a traceback and leave the pool's semaphores behind), and a thread ends
    the helper once its worker, pid `parent`, has gone (the helper is then adopted by another process;
    it may be so already, if the worker died while it started)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _ready() -> None:
    """Nothing: submitted by start() so that the pool starts its process."""


class ParseHelper:
    """One helper process, started by start() or on first use, that runs a parser on a body."""

    def __init__(self, min_bytes: int) -> None:
        self.min_bytes = min_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # the heavy-work threads may start it together

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_end_with_parent, initargs=(os.getpid(),)
                )
            return self._pool

    def start(self) -> None:
        """Start the helper process now, without waiting for it (nothing, if no body is ever large enough)."""
        if self.min_bytes < NEVER:
            self._executor().submit(_ready)

    def parse(self, parser: Callable[..., T], body: bytes, *args: object) -> T:
        """parser(body, *args), in the helper process when the body is large. Call from a worker thread."""
        if len(body) < self.min_bytes:
            return parser(body, *args)
        pool = self._executor()
        try:
            return pool.submit(parser, body, *args).result()
        except BrokenProcessPool:
            logger.warning("the parsing helper process died; parsing in place and starting another")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            return parser(body, *args)

    def close(self) -> None:
        """Stop the helper, waiting for it to exit (at most the parse under way): a worker that exits before
        its helper has gone leaves the pool's semaphores to multiprocessing's tracker, which warns of leaks."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
