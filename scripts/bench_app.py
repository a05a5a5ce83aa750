#!/usr/bin/env python3
"""The app's own CPU per request, in this process: no HTTP server, no sockets, no load generator.

    python scripts/bench_app.py                   # /health and /predict, best of 3 rounds of 2,000 requests
    python scripts/bench_app.py --profile 40      # then cProfile 2,000 /predict requests, the 40 costliest functions

Each request goes through the whole ASGI application (create_app: middleware, routing, the route, the
micro-batcher, the served model; a plain /predict is answered by fast_lane.py before the router) with
its lifespan run around it, as uvicorn would call it, but with the request handed over in memory. So it
isolates what the app adds from what uvicorn and the kernel add (scripts/bench_serve.py measures the real
server end to end). /predict bodies are MNIST test digits, cycled; the model alone (ServedModel.predict on
the same digits) is timed too, so that the difference is the app's plumbing for one digit. Times are CPU time (time.process_time), one BLAS thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as each server worker has

import argparse
import asyncio
import cProfile
import gc
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from backend.nn.mnist import load_mnist
from backend.paths import FRONTEND_DIR
from backend.service.app import create_app
from backend.service.settings import Settings

N_DIGITS = 300


class InMemoryClient:
    """Calls an ASGI app with one complete request at a time and returns the response's status."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        headers = [(b"host", b"bench")]
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
        }  # fmt: skip
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status


def cpu_us_per_call(call: Callable[[int], Any], n: int, rounds: int = 3) -> float:
    """Best of `rounds` of n calls call(0..n-1): CPU µs per call."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for i in range(n):
            call(i)
        best = min(best, (time.process_time() - started) / n)
    return round(best * 1e6, 1)


async def cpu_us_per_request(client: InMemoryClient, method: str, path: str, bodies: list[bytes], n: int, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for i in range(n):
            status = await client.request(method, path, bodies[i % len(bodies)] if bodies else b"")
            assert status == 200, f"{method} {path} answered {status}"
        best = min(best, (time.process_time() - started) / n)
    return round(best * 1e6, 1)


async def run(requests: int, profile_rows: int) -> dict[str, float]:
    settings = Settings(
        model_dir=Settings.from_env().model_dir, frontend_dir=FRONTEND_DIR, data_dir=Path(tempfile.mkdtemp()), reload_poll_s=0
    )
    app = create_app(settings)
    images = load_mnist().test.images[:N_DIGITS]
    bodies = [orjson.dumps({"pixels": row}, option=orjson.OPT_SERIALIZE_NUMPY) for row in images]
    client = InMemoryClient(app)
    async with app.router.lifespan_context(app):
        for i in range(300):  # warm-up: caches, lazily built route state
            await client.request("GET", "/health")
            await client.request("POST", "/predict", bodies[i % N_DIGITS])
        gc.freeze()  # as the launcher does before forking its workers: full collections leave the app's objects alone
        served = app.state.models.default
        figures = {
            "health_us": await cpu_us_per_request(client, "GET", "/health", [], requests),
            "predict_us": await cpu_us_per_request(client, "POST", "/predict", bodies, requests),
            "model_us": cpu_us_per_call(lambda i: served.predict(images[i % N_DIGITS : i % N_DIGITS + 1]), requests),
        }
        if profile_rows:
            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(requests):
                await client.request("POST", "/predict", bodies[i % N_DIGITS])
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(profile_rows)
    figures["plumbing_us"] = round(figures["predict_us"] - figures["model_us"], 1)
    figures["plumbing_over_health"] = round(figures["plumbing_us"] / figures["health_us"], 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per round (best of 3 rounds)")
    parser.add_argument("--profile", type=int, default=0, metavar="ROWS", help="also cProfile /predict and print this many functions")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.requests, args.profile))
    print(
        f"CPU per request in one process, no HTTP: /health {figures['health_us']} µs, /predict {figures['predict_us']} µs, "
        f"the model alone {figures['model_us']} µs; plumbing of one digit {figures['plumbing_us']} µs = "
        f"{figures['plumbing_over_health']}x /health"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
