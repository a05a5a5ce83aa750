"""Prometheus metrics: requests by route and status, request latency, predictions by digit.

Counted with prometheus-client. With one uvicorn worker the numbers live in this process. With
several workers `backend.serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers
start; prometheus-client then keeps each worker's values in memory-mapped files there and `/metrics`
adds them up, so a scrape that lands on any worker reports the whole server. (Started with plain
`uvicorn --workers N` and no such folder, each scrape reports only the worker that answered it.)

A worker that exits (a crash, a restart) leaves its files behind, and every scrape reads every file:
`retire_worker`, run by the launcher's gunicorn child_exit hook, adds the dead worker's counts into
one archive file per metric type and deletes its files, so the folder holds one file per live worker
and type plus the archives, however many workers have come and gone, and no count is lost.

Routes are labelled by their template ("/v2/models/{name}/infer"), never the raw path, so a client
cannot blow up the number of series; the static page counts as "static", unknown paths as "unmatched".
What this module leaves out: the ASGI middleware that times requests (middleware.py).
"""

from __future__ import annotations

import glob
import os
from typing import Any

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.mmap_dict import MmapedDict

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("http_requests_total", "HTTP requests answered, by route template, method and status.", ["route", "method", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from request to the end of the response, by route template.",
    ["route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)
# 1 for the version of each model that answers now, 0 for one it replaced; with several workers the
# most recent write wins, so during a reload the figure follows the worker that swapped last
SERVED_VERSION = Gauge(
    "served_model_version_info",
    "Which version of each named model answers (1) or was replaced (0).",
    ["model", "version"],
    multiprocess_mode="mostrecent",
)
_DIGITS = Counter("digit_predictions_total", "Images classified, by the digit predicted.", ["digit"])
# The forward passes' CPU time beside the images they classified: their ratio is what one image costs
# the model as it runs in the server (Triton reports the same split: a request's time against its
# compute time). scripts/bench_serve.py subtracts it from a request's CPU to measure the plumbing.
_COMPUTE_SECONDS = Counter(
    "model_compute_cpu_seconds_total", "CPU time of the forward passes behind predictions, by model id.", ["model_id"]
)
_COMPUTE_IMAGES = Counter("model_compute_images_total", "Images classified by those forward passes, by model id.", ["model_id"])
CORRECTIONS = Counter("feedback_corrections_total", "Corrections stored by POST /feedback, by the digit people said it was.", ["label"])


class DigitCounter:
    """Adds a batch of predicted digits (B,) to digit_predictions_total."""

    def __init__(self) -> None:
        # one child per digit, made up front: every digit shows in /metrics from the start, at 0
        self._children = [_DIGITS.labels(digit=str(d)) for d in range(10)]

    def count(self, digits: np.ndarray) -> None:
        if len(digits) == 1:  # the common case, a single /predict: skip the bincount
            self._children[int(digits[0])].inc()
            return
        for digit, n in enumerate(np.bincount(digits, minlength=10).tolist()):
            if n:
                self._children[digit].inc(n)


PREDICTIONS = DigitCounter()


class ComputeClock:
    """Adds forward passes to model_compute_cpu_seconds_total and model_compute_images_total.

    The time is the calling thread's CPU clock: time spent waiting for a core is not counted, and the
    pass must run on that one thread (the launcher gives BLAS one thread per worker; a BLAS with
    threads of its own would be undercounted).
    """

    def __init__(self) -> None:
        self._children: dict[str, tuple[Any, Any]] = {}

    def add(self, model_id: str, cpu_ns: int, images: int) -> None:
        children = self._children.get(model_id)
        if children is None:
            children = self._children[model_id] = (_COMPUTE_SECONDS.labels(model_id=model_id), _COMPUTE_IMAGES.labels(model_id=model_id))
        children[0].inc(cpu_ns / 1e9)
        children[1].inc(images)


COMPUTE = ComputeClock()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def retire_worker(pid: int, directory: str | None = None) -> None:
    """Fold a dead worker's metric files into the archives (counter_archive.db, ...) and delete them.

    Counters and histograms add up across processes, so the sum of the archive and the live workers'
    files is what the scrape reported before the worker died. A dead worker's gauges (the served model
    version) are simply removed: the live workers report what serves now. Run in
    the process manager only, after the worker has exited, one at a time.
    """
    directory = directory or os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    multiprocess.mark_process_dead(pid, directory)  # live gauges, should any be added one day
    for path in glob.glob(os.path.join(directory, f"*_{pid}.db")):
        kind = os.path.basename(path).split("_")[0]
        if kind == "gauge":
            os.remove(path)
            continue
        if kind not in ("counter", "histogram"):
            continue
        archive = MmapedDict(os.path.join(directory, f"{kind}_archive.db"))
        try:
            for key, value, timestamp, *_ in MmapedDict.read_all_values_from_file(path):  # (key, value, timestamp, position)
                archive.write_value(key, archive.read_value(key)[0] + value, timestamp)
        finally:
            archive.close()
        os.remove(path)
