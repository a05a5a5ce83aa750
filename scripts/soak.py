#!/usr/bin/env python3
"""Soak the real server on loopback: many requests at high concurrency, zero errors, and no memory growth.

    python scripts/soak.py                       # start the server itself (2 workers), 20,000 requests at 32
    python scripts/soak.py --requests 50000 --json
    python scripts/soak.py --url http://127.0.0.1:8000 --pid 1234   # a server already running

It starts `python -m backend.serve` on a free loopback port (unless --url), warms it up, reads the
resident memory (VmRSS) of the server process and all its workers from /proc, then sends --requests
requests at --concurrency from this process (httpx.AsyncClient, keep-alive): 80% POST /predict with
real MNIST test digits, 10% POST /predict/batch of 32 digits, 10% GET /health. Bounded by count and by
--max-seconds. An error is any exception, any non-2xx status, or a /predict whose digit differs from
the one the server gave for the same image during the warm-up. It prints throughput, p50/p99 latency,
RSS after the warm-up and after the run, and the growth; the exit status is 1 if there was any error,
if the growth is over --max-growth-pct (10), or if the time bound cut the run short.

What this leaves out: throughput bars and a load generator that is not the bottleneck
(scripts/bench_serve.py measures speed); anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import numpy as np
import orjson

from backend.nn.mnist import load_mnist
from backend.testing.live_server import LiveServer, rss_kib

N_SINGLE_DIGITS = 500
BATCH_SIZE = 32
N_BATCHES = 20
# one request in ten is a batch, one a health check, the rest single digits
MIX = ("predict",) * 8 + ("batch", "health")
LOOPBACK = ("127.0.0.1", "localhost")


@dataclass
class Requests:
    """Pre-encoded request bodies: single digits (with the digit the server gave during warm-up) and batches."""

    singles: list[bytes]
    batches: list[bytes]
    expected_digits: list[int | None] = field(default_factory=list)

    @classmethod
    def from_mnist(cls) -> Requests:
        images = load_mnist().test.images  # (10000, 784) float32 in [0, 1]
        singles = [orjson.dumps({"pixels": row}, option=orjson.OPT_SERIALIZE_NUMPY) for row in images[:N_SINGLE_DIGITS]]
        batches = [
            orjson.dumps({"images": images[start : start + BATCH_SIZE]}, option=orjson.OPT_SERIALIZE_NUMPY)
            for start in range(N_SINGLE_DIGITS, N_SINGLE_DIGITS + N_BATCHES * BATCH_SIZE, BATCH_SIZE)
        ]
        return cls(singles, batches, [None] * len(singles))


@dataclass
class Tally:
    latencies_s: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in set(MIX)})
    errors: dict[str, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1
        if len(self.first_errors) < 5:
            self.first_errors.append(what)

    @property
    def n_errors(self) -> int:
        return sum(self.errors.values())

    @property
    def n_requests(self) -> int:
        return sum(len(samples) for samples in self.latencies_s.values())


async def one_request(client: httpx.AsyncClient, index: int, bodies: Requests, tally: Tally, learn: bool) -> None:
    """Request number `index` of the mix; its latency and any error go into tally."""
    kind = MIX[index % len(MIX)]
    started = time.perf_counter()
    try:
        if kind == "health":
            response = await client.get("/health")
        elif kind == "batch":
            response = await client.post(
                "/predict/batch", content=bodies.batches[index % N_BATCHES], headers={"content-type": "application/json"}
            )
        else:
            digit_index = index % N_SINGLE_DIGITS
            response = await client.post("/predict", content=bodies.singles[digit_index], headers={"content-type": "application/json"})
    except httpx.HTTPError as err:
        tally.latencies_s[kind].append(time.perf_counter() - started)
        tally.error(f"{kind}: {type(err).__name__}: {err}")
        return
    tally.latencies_s[kind].append(time.perf_counter() - started)
    if not 200 <= response.status_code < 300:
        tally.error(f"{kind}: HTTP {response.status_code}: {response.text[:200]}")
    elif kind == "predict":
        digit = orjson.loads(response.content)["digit"]
        if learn:
            bodies.expected_digits[digit_index] = digit
        elif bodies.expected_digits[digit_index] not in (None, digit):
            tally.error(f"predict: image {digit_index} was {bodies.expected_digits[digit_index]}, now {digit}")


async def drive(url: str, bodies: Requests, n_requests: int, concurrency: int, max_seconds: float, learn: bool) -> tuple[Tally, float]:
    """n_requests of the mix at `concurrency` (or until max_seconds); returns the tally and the wall time."""
    tally = Tally()
    counter = itertools.count()
    deadline = time.perf_counter() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                index = next(counter)
                if index >= n_requests:
                    return
                await one_request(client, index, bodies, tally, learn)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return tally, time.perf_counter() - started


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q) * 1000) if samples else float("nan")


def settled_rss_kib(pid: int, seconds: float = 1.0) -> int:
    """RSS once the server has been idle a moment (finished requests freed, nothing in flight)."""
    time.sleep(seconds)
    return rss_kib(pid)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server on 127.0.0.1 (default: start one)")
    p.add_argument("--pid", type=int, help="with --url: the server's process id, for its memory")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the server this script starts")
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--warmup", type=int, default=2_000, help="requests before the first memory reading")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--max-seconds", type=float, default=600.0, help="time bound of the run (the warm-up has its own)")
    p.add_argument("--max-growth-pct", type=float, default=10.0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = p.parse_args(argv)
    if args.url and urlsplit(args.url).hostname not in LOOPBACK:
        p.error(f"--url must be on 127.0.0.1: this script only sends load to loopback, not to {args.url}")
    return args


def soak(args: argparse.Namespace, url: str, pid: int | None) -> dict:
    bodies = Requests.from_mnist()
    warm, _ = asyncio.run(drive(url, bodies, args.warmup, args.concurrency, args.max_seconds, learn=True))
    rss_warm = settled_rss_kib(pid) if pid else None
    tally, wall_s = asyncio.run(drive(url, bodies, args.requests, args.concurrency, args.max_seconds, learn=False))
    rss_after = settled_rss_kib(pid) if pid else None
    everything = [sample for samples in tally.latencies_s.values() for sample in samples]
    growth_pct = 100.0 * (rss_after - rss_warm) / rss_warm if pid else None
    return {
        "url": url,
        "concurrency": args.concurrency,
        "warmup_requests": warm.n_requests,
        "warmup_errors": warm.n_errors,
        "requests": tally.n_requests,
        "requests_wanted": args.requests,
        "errors": tally.n_errors,
        "errors_by_kind": tally.errors,
        "first_errors": warm.first_errors + tally.first_errors,
        "wall_s": round(wall_s, 3),
        "throughput_rps": round(tally.n_requests / wall_s, 1),
        "latency_ms": {
            "all": {"p50": round(percentile_ms(everything, 50), 2), "p99": round(percentile_ms(everything, 99), 2)},
            **{
                kind: {"n": len(samples), "p50": round(percentile_ms(samples, 50), 2), "p99": round(percentile_ms(samples, 99), 2)}
                for kind, samples in sorted(tally.latencies_s.items())
            },
        },
        "rss_kib_after_warmup": rss_warm,
        "rss_kib_after_run": rss_after,
        "rss_growth_pct": None if growth_pct is None else round(growth_pct, 2),
    }


def verdict(report: dict, max_growth_pct: float) -> list[str]:
    """The reasons the soak failed; empty if it passed."""
    problems = []
    if report["errors"] or report["warmup_errors"]:
        problems.append(f"{report['errors'] + report['warmup_errors']} errors, e.g. {report['first_errors'][:3]}")
    if report["requests"] < report["requests_wanted"]:
        problems.append(f"only {report['requests']} of {report['requests_wanted']} requests before the time bound")
    if report["rss_growth_pct"] is not None and report["rss_growth_pct"] > max_growth_pct:
        problems.append(f"resident memory grew {report['rss_growth_pct']:.1f}% (bound {max_growth_pct}%)")
    return problems


def print_text(report: dict, problems: list[str], startup_s: float | None) -> None:
    if startup_s is not None:
        print(f"server started, ready in {startup_s:.2f} s: {report['url']}")
    print(f"warm-up: {report['warmup_requests']} requests, {report['warmup_errors']} errors")
    print(
        f"soak: {report['requests']} requests at concurrency {report['concurrency']} in {report['wall_s']:.1f} s "
        f"= {report['throughput_rps']:.0f} req/s, {report['errors']} errors"
    )
    for kind, figures in report["latency_ms"].items():
        count = f"{figures['n']:6d} requests, " if "n" in figures else ""
        print(f"  {kind:8s} {count}p50 {figures['p50']:7.2f} ms   p99 {figures['p99']:7.2f} ms")
    if report["rss_growth_pct"] is None:
        print("memory: not measured (give --pid with --url)")
    else:
        print(
            f"memory (server and workers, VmRSS): {report['rss_kib_after_warmup'] / 1024:.1f} MiB after warm-up, "
            f"{report['rss_kib_after_run'] / 1024:.1f} MiB after the run: {report['rss_growth_pct']:+.2f}%"
        )
    print("PASS" if not problems else "FAIL: " + "; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.url:
        report = soak(args, args.url.rstrip("/"), args.pid)
        startup_s = None
    else:
        with LiveServer(workers=args.workers) as server:
            report = soak(args, server.url, server.pid)
            startup_s = server.startup_s
        report["server_workers"] = args.workers
        report["startup_s"] = round(startup_s, 3)
    problems = verdict(report, args.max_growth_pct)
    report["passed"] = not problems
    if args.json:
        print(json.dumps(report))
    else:
        print_text(report, problems, startup_s)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
