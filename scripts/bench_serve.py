#!/usr/bin/env python3
"""Serving benchmark: the real server on loopback, load from a second process (wrk), at concurrency 1, 8 and 32.

    python scripts/bench_serve.py                 # starts the server (WORKERS=2), prints a table and the bars
    python scripts/bench_serve.py --json          # one JSON object
    python scripts/bench_serve.py --workers 1 --duration 10

It starts `python -m backend.serve` on a free loopback port and times start-up to ready (process start
until GET /health answers 200; best of --startup-runs fresh starts, median reported too). Then, for
each endpoint and concurrency level, wrk (Debian: `apt-get install -y wrk`) runs a 1 s warm-up and a
--duration run bounded by --max-requests, over keep-alive connections:

  GET  /health          the app's trivial route: the cost of the plumbing alone (HTTP, middleware, JSON)
  POST /predict         single MNIST test digits, 1,000 different bodies cycled
  POST /predict/batch   500 MNIST test digits per request (4 different bodies); reported in digits/s
  POST /predict/batch   (endpoint "binary") the same 500 digits as raw uint8 pixels, application/octet-stream
  POST /explain         the /predict bodies, explained (not in the default --endpoints: --endpoints explain)
  POST /predict/number  a 4-digit handwritten number, a 600x200 PNG (--endpoints ...,number)

For each run: requests/s, p50/p99 latency (wrk's, from request sent to response read), non-2xx and
socket errors, and the CPU used meanwhile by wrk and by the server (all its processes), in % of one
core, and the server's CPU per request: when wrk's share is small and the server's is near the
machine's cores, the server is what is measured, not the load generator; on a shared machine, CPU per
request is the steadier figure. Bodies are what a client would send: orjson's shortest float32
text of the pixels (e.g. 0.99215686).

The model's own time, two ways. In the server: /metrics counts the CPU time of every forward pass
and the images it classified (model_compute_cpu_seconds_total, model_compute_images_total), read
before and after each run; their ratio is what one digit costs the model as it runs there, between
requests, with caches that other work has used meanwhile. Alone: ServedModel.predict in this process,
with one BLAS thread as each worker has, median over 1,000 single test digits back to back and over
5 batches of 500: the model at its fastest, what the bulk bars compare with.

Bars, all ratios within this one run (absolute figures on a shared machine vary from day to day):
  plumbing   (server CPU per /predict) - (the model's own CPU per digit in that run, from /metrics)
             <= 1.5x server CPU per /health, at each concurrency level (the worst level counts); the
             same with the model alone in this process is printed beside it
  binary     /predict/batch with raw 500-digit bodies >= 0.8x the model's own rate x WORKERS
  json       /predict/batch with JSON 500-digit bodies >= 0.5x the model's own rate x WORKERS
  startup    start-up to ready < 1 s
  p99        /predict's p99 at concurrency 8 <= --baseline-p99-ms, today's figure for the code before,
             measured the same day (not judged without it)
  number     /predict/number p50 < 50 ms at concurrency 1 (with --endpoints ...,number)
The exit status is 1 if any request failed, and (with --check) if a bar is missed.

What this leaves out: anything not on 127.0.0.1, memory (scripts/soak.py), and the training speed
(scripts/bench_train.py).
"""

from __future__ import annotations

import argparse
import json
import os

# this process times the model alone too (model_cost): with one BLAS thread, as each server worker has
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import orjson
from prometheus_client.parser import text_string_to_metric_families

from backend.nn.mnist import load_mnist
from backend.nn.model import SKIP_ZEROS_BELOW, SKIP_ZEROS_MIN_WEIGHTS
from backend.paths import PROJECT_ROOT
from backend.service.served_model import load_served_model
from backend.service.settings import Settings
from backend.testing.live_server import LiveServer
from backend.testing.numbers import png, written_number

LUA_SCRIPT = Path(__file__).with_suffix(".lua")
N_SINGLE_BODIES = 1000
BATCH_DIGITS = 500
N_BATCH_BODIES = 4
WARMUP_S = 1
BARS = {
    "plumbing_over_health": 1.5,
    "binary_batch_over_model": 0.8,
    "json_batch_over_model": 0.5,
    "startup_s": 1.0,
    "number_p50_ms_at_1": 50.0,
}
NUMBER = "2026"  # the /predict/number body: this number written on a 600x200 picture


def write_bodies(folder: Path) -> dict[str, Path]:
    """One JSON body per line: single digits for /predict, 500-digit batches for /predict/batch."""
    images = load_mnist().test.images  # (10000, 784) float32 in [0, 1]
    singles = folder / "predict.jsonl"
    singles.write_bytes(
        b"\n".join(orjson.dumps({"pixels": row}, option=orjson.OPT_SERIALIZE_NUMPY) for row in images[:N_SINGLE_BODIES]) + b"\n"
    )
    batches = folder / "batch.jsonl"
    batches.write_bytes(
        b"\n".join(
            orjson.dumps({"images": images[start : start + BATCH_DIGITS]}, option=orjson.OPT_SERIALIZE_NUMPY)
            for start in range(0, N_BATCH_BODIES * BATCH_DIGITS, BATCH_DIGITS)
        )
        + b"\n"
    )
    raw = folder / "batch.u8"
    raw.write_bytes(np.round(images[:BATCH_DIGITS] * 255).astype(np.uint8).tobytes())
    number = folder / "number.png"
    number.write_bytes(png(written_number(NUMBER)))
    return {"predict": singles, "batch": batches, "binary": raw, "number": number}


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    url: str,
    method: str,
    path: str,
    bodies: Path | None,
    connections: int,
    seconds: int,
    max_requests: int,
    content_type: str | None = None,
) -> dict:
    """One wrk run (one thread, `connections` keep-alive connections); its BENCH_JSON figures plus its CPU time."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA_SCRIPT), url,
        "--", method, path, str(bodies) if bodies else "-", str(max_requests), *([content_type] if content_type else []),
    ]  # fmt: skip
    cpu_before = children_cpu_seconds()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    wrk_cpu_s = children_cpu_seconds() - cpu_before
    lines = [line for line in finished.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if finished.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    figures = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    figures["wrk_cpu_s"] = wrk_cpu_s
    return figures


def model_compute(server: LiveServer) -> tuple[float, float]:
    """(CPU seconds, images) of the server's forward passes so far, all models, as its /metrics counts them."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        return compute_totals(response.read().decode())


def compute_totals(metrics_text: str) -> tuple[float, float]:
    """(CPU seconds, images) summed over the model_compute_* series of a /metrics text (all model ids)."""
    totals = {"model_compute_cpu_seconds_total": 0.0, "model_compute_images_total": 0.0}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name in totals:
                totals[sample.name] += sample.value
    return totals["model_compute_cpu_seconds_total"], totals["model_compute_images_total"]


def measure(server: LiveServer, endpoint: str, bodies: dict[str, Path], connections: int, seconds: int, max_requests: int) -> dict:
    """Warm-up, then the measured run of one endpoint at one concurrency level."""
    method, path, body_file, content_type = {
        "health": ("GET", "/health", None, None),
        "predict": ("POST", "/predict", bodies["predict"], None),
        "batch": ("POST", "/predict/batch", bodies["batch"], None),
        "binary": ("POST", "/predict/batch", bodies["binary"], "application/octet-stream"),
        "explain": ("POST", "/explain", bodies["predict"], None),
        "number": ("POST", "/predict/number", bodies["number"], "image/png"),
    }[endpoint]
    run_wrk(server.url, method, path, body_file, connections, WARMUP_S, max_requests, content_type)
    compute_before = model_compute(server)
    cpu_before = server.cpu_seconds_by_process()
    figures = run_wrk(server.url, method, path, body_file, connections, seconds, max_requests, content_type)
    cpu_after = server.cpu_seconds_by_process()
    compute_after = model_compute(server)
    # per process: with several workers, this shows whether the connections were shared out evenly
    cpu_by_process = sorted((cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after), reverse=True)
    server_cpu_s = sum(cpu_by_process)
    wall_s = figures["duration_us"] / 1e6
    errors = figures["not_2xx"] + sum(figures["errors"][kind] for kind in ("connect", "read", "write", "timeout"))
    result = {
        "endpoint": endpoint,
        "concurrency": connections,
        "requests": figures["requests"],
        "seconds": round(wall_s, 3),
        "rps": round(figures["requests"] / wall_s, 1),
        "p50_ms": round(figures["latency_us"]["p50"] / 1000, 3),
        "p99_ms": round(figures["latency_us"]["p99"] / 1000, 3),
        "errors": errors,
        "wrk_cpu_pct": round(100 * figures["wrk_cpu_s"] / wall_s, 1),
        "server_cpu_pct": round(100 * server_cpu_s / wall_s, 1),
        # what one request costs the server, whatever else the machine was doing meanwhile
        "server_cpu_us_per_request": round(1e6 * server_cpu_s / max(1, figures["requests"]), 1),
        "server_cpu_pct_by_process": [round(100 * used / wall_s, 1) for used in cpu_by_process],
    }
    if endpoint in ("batch", "binary"):
        result["digits_per_s"] = round(result["rps"] * BATCH_DIGITS, 1)
    images = compute_after[1] - compute_before[1]
    if images:  # the forward passes' own CPU per image classified in this run, in the server
        result["model_cpu_us_per_image"] = round(1e6 * (compute_after[0] - compute_before[0]) / images, 1)
    return result


def model_cost(n_singles: int = 1000, n_batches: int = 5) -> dict:
    """The served model's own forward pass, in this process (no HTTP): median us per single test digit, ms per 500.

    Set beside /predict's server CPU per request, this splits a request's cost into model and plumbing.
    """
    served = load_served_model(Settings.from_env().model_dir)
    images = load_mnist().test.images

    def seconds(batch: np.ndarray) -> float:
        started = time.perf_counter()
        served.predict(batch)
        return time.perf_counter() - started

    def dense_seconds(batch: np.ndarray) -> float:  # the members' own predict_proba: every weight read
        started = time.perf_counter()
        sum(net.predict_proba(batch) for net in served.model.members)
        return time.perf_counter() - started

    singles = [seconds(images[i : i + 1]) for i in range(n_singles)]
    dense_singles = [dense_seconds(images[i : i + 1]) for i in range(n_singles)]
    batches = [seconds(images[i * BATCH_DIGITS : (i + 1) * BATCH_DIGITS]) for i in range(n_batches)]
    return {
        "model_id": served.model_id,
        "single_digit_us": round(1e6 * statistics.median(singles), 1),
        "single_digit_dense_us": round(1e6 * statistics.median(dense_singles), 1),
        "batch_of_500_ms": round(1e3 * statistics.median(batches), 2),
        "weights_read_by_one_digit": round(weights_read_share(served.model.members, images[:n_singles]), 3),
    }


def weights_read_share(members: list, images: np.ndarray) -> float:
    """Mean share of all weights one digit's pass reads: a big layer only its columns at non-zero inputs."""
    read = 0.0
    for net in members:
        a = images
        for l, w in enumerate(net.weights):
            nonzero = np.count_nonzero(a, axis=1)  # (B,): non-zero inputs of this layer, per digit
            skips = w.size >= SKIP_ZEROS_MIN_WEIGHTS
            columns = np.where(skips & (nonzero < SKIP_ZEROS_BELOW * w.shape[1]), nonzero, w.shape[1])
            read += columns.mean() * w.shape[0]
            a = net.layer(l, a)
    return read / sum(w.size for net in members for w in net.weights)


def startup_times(workers: int, runs: int) -> list[float]:
    """Seconds from process start to the first 200 from /health, for `runs` fresh servers."""
    times = []
    for _ in range(runs):
        with LiveServer(workers=workers) as server:
            times.append(round(server.startup_s, 3))
    return times


def code_state() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        return described.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def bars(runs: list[dict], startup: list[float], levels: list[int], model: dict, workers: int, baseline_p99_ms: float | None) -> dict:
    """Each bar with the measured figure, the bar and whether it is met (see the module docstring)."""
    by = {(run["endpoint"], run["concurrency"]): run for run in runs}

    # what the service adds to one digit beyond the model's own forward pass, per level, in multiples of /health's whole cost
    def plumbing_against(model_us: dict[int, float]) -> dict[int, float]:
        return {
            level: round(
                (by["predict", level]["server_cpu_us_per_request"] - model_us[level]) / by["health", level]["server_cpu_us_per_request"], 3
            )
            for level in levels
        }

    plumbing = plumbing_against({level: by["predict", level]["model_cpu_us_per_image"] for level in levels})
    against_alone = plumbing_against(dict.fromkeys(levels, model["single_digit_us"]))
    model_rate = workers * BATCH_DIGITS / (model["batch_of_500_ms"] / 1e3)  # digits/s: the model alone, one per worker
    binary = max(by["binary", level]["digits_per_s"] for level in levels)
    json_rate = max(by["batch", level]["digits_per_s"] for level in levels)
    # the same comparison in CPU time (the model's ms per 500 over the server's CPU ms per 500-digit request):
    # steadier than throughput when other work shares the cores
    cpu_share = {
        endpoint: round(model["batch_of_500_ms"] * 1e3 / min(by[endpoint, level]["server_cpu_us_per_request"] for level in levels), 3)
        for endpoint in ("binary", "batch")
    }
    checks = {
        "plumbing_over_health": {
            "per_level": plumbing,
            "value": max(plumbing.values()),
            "detail": (
                f"model in the server {', '.join(str(by['predict', level]['model_cpu_us_per_image']) for level in levels)} us per digit; "
                f"against the model alone ({model['single_digit_us']} us) per level {against_alone}"
            ),
            "bar": f"<= {BARS['plumbing_over_health']}",
            "met": max(plumbing.values()) <= BARS["plumbing_over_health"],
        },
        "binary_batch_over_model": {
            "value": round(binary / model_rate, 3),
            "detail": f"{binary:.0f} digits/s vs the model's {model_rate:.0f} ({workers} workers); in CPU per digit {cpu_share['binary']}",
            "bar": f">= {BARS['binary_batch_over_model']}",
            "met": binary / model_rate >= BARS["binary_batch_over_model"],
        },
        "json_batch_over_model": {
            "value": round(json_rate / model_rate, 3),
            "detail": f"{json_rate:.0f} digits/s vs the model's {model_rate:.0f} ({workers} workers); in CPU per digit {cpu_share['batch']}",
            "bar": f">= {BARS['json_batch_over_model']}",
            "met": json_rate / model_rate >= BARS["json_batch_over_model"],
        },
        "startup_s": {
            "value": statistics.median(startup),
            "bar": f"< {BARS['startup_s']}",
            "met": statistics.median(startup) < BARS["startup_s"],
        },
    }
    if 8 in levels and baseline_p99_ms is not None:
        p99 = by["predict", 8]["p99_ms"]
        checks["predict_p99_ms_at_8"] = {
            "value": p99,
            "bar": f"<= {baseline_p99_ms} (the code before, today)",
            "met": p99 <= baseline_p99_ms,
        }
    return checks


def print_text(report: dict) -> None:
    print(
        f"code {report['code']}, {report['workers']} workers with {report['blas_threads_per_worker']} BLAS threads each, "
        f"{report['cpus']} CPUs (load average {report['load_average_before']:.1f} before), load generator: wrk (1 thread)"
    )
    print(f"start-up to ready: {', '.join(f'{t:.3f}' for t in report['startup_s'])} s")
    model = report["model_alone"]
    print(
        f"model {model['model_id']} alone (this process, no HTTP): {model['single_digit_us']:.0f} us per single digit "
        f"(reading {100 * model['weights_read_by_one_digit']:.0f}% of the weights; dense pass {model['single_digit_dense_us']:.0f} us), "
        f"{model['batch_of_500_ms']:.1f} ms per 500 digits"
    )
    print(
        f"{'endpoint':9s} {'conc':>4s} {'req/s':>9s} {'digits/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>6s} "
        f"{'wrk cpu':>8s} {'server cpu':>10s} {'us/req':>7s} {'model us':>8s}  (cpu by process)"
    )
    for run in report["runs"]:
        digits = f"{run['digits_per_s']:10.0f}" if "digits_per_s" in run else f"{'':10s}"
        by_process = " ".join(f"{pct:.0f}%" for pct in run["server_cpu_pct_by_process"])
        model_us = f"{run['model_cpu_us_per_image']:8.0f}" if "model_cpu_us_per_image" in run else f"{'':8s}"
        print(
            f"{run['endpoint']:9s} {run['concurrency']:4d} {run['rps']:9.0f} {digits} {run['p50_ms']:8.2f} {run['p99_ms']:8.2f} "
            f"{run['errors']:6d} {run['wrk_cpu_pct']:7.0f}% {run['server_cpu_pct']:9.0f}% {run['server_cpu_us_per_request']:7.0f} {model_us}  ({by_process})"
        )
    print("bars:")
    for name, check in report["bars"].items():
        extra = f"  per level {check['per_level']}" if "per_level" in check else ""
        if "detail" in check:
            extra += f"  {check['detail']}"
        print(f"  {name:22s} {check['value']:>10} (bar {check['bar']}): {'met' if check['met'] else 'MISSED'}{extra}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=2, help="server worker processes (the WORKERS setting)")
    p.add_argument("--levels", default="1,8,32", help="concurrency levels (keep-alive connections)")
    p.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    p.add_argument("--max-requests", type=int, default=200_000, help="bound on the requests of one run")
    p.add_argument("--startup-runs", type=int, default=3)
    p.add_argument("--endpoints", default="health,predict,batch,binary", help="any of health,predict,batch,binary,explain")
    p.add_argument("--baseline-p99-ms", type=float, help="/predict p99 at concurrency 8 of the code before, measured today")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--check", action="store_true", help="exit 1 if a bar is missed")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench_serve needs wrk as its load generator: apt-get install -y wrk", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure: say how much there was
    levels = [int(level) for level in args.levels.split(",")]
    endpoints = args.endpoints.split(",")
    startup = startup_times(args.workers, args.startup_runs)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        bodies = write_bodies(Path(folder))
        with LiveServer(workers=args.workers) as server:
            for endpoint in endpoints:
                for level in levels:
                    runs.append(measure(server, endpoint, bodies, level, args.duration, args.max_requests))
    model = model_cost()
    blas_threads = os.environ["OPENBLAS_NUM_THREADS"]
    report = {
        "code": code_state(),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "blas_threads_per_worker": blas_threads,
        "load_average_before": load_before,
        "startup_s": startup,
        "model_alone": model,
        "runs": runs,
    }
    if {"health", "predict", "batch", "binary"} <= set(endpoints):
        report["bars"] = bars(runs, startup, levels, model, args.workers, args.baseline_p99_ms)
    if "number" in endpoints and 1 in levels:
        p50 = next(run["p50_ms"] for run in runs if run["endpoint"] == "number" and run["concurrency"] == 1)
        bar = BARS["number_p50_ms_at_1"]
        report.setdefault("bars", {})["number_p50_ms_at_1"] = {"value": p50, "bar": f"< {bar}", "met": p50 < bar}
    if args.json:
        print(json.dumps(report))
    else:
        print_text({"bars": {}, **report})
    failed_requests = sum(run["errors"] for run in runs)
    missed = [name for name, check in report.get("bars", {}).items() if not check["met"]]
    return 1 if failed_requests or (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
