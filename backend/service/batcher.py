"""Dynamic batching of single-digit predictions: concurrent /predict calls share one matrix pass.

For one digit the network's cost is reading its weights (several MB) from memory, not arithmetic, so
eight digits in one (8, 784) @ W pass cost far less than eight passes of one. Requests that reach the
model in the same turn of the event loop are queued; a callback scheduled for the next turn runs
them all as one matrix and hands each request its row. A lone request waits for nothing: its batch
is itself, run one loop turn later.

Everything runs on the event loop thread (no locks): queueing, the forward pass of a few rows (well
under a millisecond) and the hand-back. What this module leaves out: big batches (/predict/batch
already sends its own matrix) and any waiting for more requests to arrive (no added latency).
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from backend.service.served_model import ServedModel

MAX_ROWS = 64  # a bigger queue is split, so one turn never blocks the loop for long


class MicroBatcher:
    def __init__(self, model: ServedModel) -> None:
        self.model = model
        self._queue: list[tuple[np.ndarray, asyncio.Future[dict[str, Any]]]] = []

    async def predict(self, pixels: np.ndarray) -> dict[str, Any]:
        """One image (1, 784) float32 -> its prediction dict (digit, confidence, probabilities)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._queue.append((pixels, future))
        if len(self._queue) == 1:
            loop.call_soon(self._run_queue)
        return await future

    def _run_queue(self) -> None:
        batch, self._queue = self._queue[:MAX_ROWS], self._queue[MAX_ROWS:]
        if self._queue:  # the rest waits one turn, so other requests get the loop in between
            asyncio.get_running_loop().call_soon(self._run_queue)
        self._run(batch)

    def _run(self, batch: list[tuple[np.ndarray, asyncio.Future[dict[str, Any]]]]) -> None:
        try:
            rows = self.model.predict(np.concatenate([pixels for pixels, _ in batch])).as_dicts()
        except Exception as err:  # every waiting request gets the error, none is left hanging
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        for (_, future), row in zip(batch, rows):
            if not future.done():  # the client may have gone away (the request task was cancelled)
                future.set_result(row)
