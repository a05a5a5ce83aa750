"""Parsing large JSON bodies in a helper process, so that the worker's event loop keeps answering.

orjson and NumPy's list conversion hold the GIL for the whole of a call: a batch body of 10-20 MB
takes a few hundred milliseconds to parse, and in a thread that is a few hundred milliseconds during
which the worker's event loop cannot run (so /health and every other request on that worker wait).
A body over PARSE_OFFLOAD_MIN_BYTES (a setting; 1 MB) is therefore parsed by one helper process per worker (started on first
use, with "spawn": it imports the parser's module, and runs nothing of the app); the worker's thread just waits for the
(B, 784) float32 answer, without the GIL. Smaller bodies parse in a few milliseconds where they are.

A parse that fails raises its PayloadError here as it would have in place. If the helper dies (it
is killed, or runs out of memory), the parse is done in place this once and a new helper is started
for the next. What this module leaves out: the parsers themselves (payloads.py) and what the route
does with the matrix.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ParseHelper:
    """One helper process, started on first use, that runs a parser on a body."""

    def __init__(self, min_bytes: int) -> None:
        self.min_bytes = min_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # the heavy-work threads may start it together

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

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
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
