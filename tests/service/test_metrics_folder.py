"""The Prometheus multiprocess folder over 50 worker restarts, on the real server: bounded, and no count lost.

Each round sends a few requests (so whichever worker answers writes its metric files), then kills a
worker with SIGKILL as a crash would; gunicorn starts another and its child_exit hook folds the dead
worker's files into the archives (telemetry.retire_worker). What this leaves out: gauges (the
service has none).
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from backend.testing import hostile
from backend.testing.live_server import LiveServer, descendants

RESTARTS = 50
REQUESTS_PER_ROUND = 4


def health_count(port: int) -> float:
    metrics = hostile.request(port, "GET", "/metrics")[2].decode()
    match = re.search(r'^http_requests_total\{method="GET",route="/health",status="200"\} (\S+)$', metrics, re.M)
    return float(match.group(1)) if match else 0.0


def test_the_metrics_folder_stays_bounded_and_keeps_every_count_over_50_worker_restarts(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    with LiveServer(workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(folder)}) as server:
        sizes = []
        sent = 0
        for _ in range(RESTARTS):
            workers = server.wait_for_workers(2)[1:]
            for _ in range(REQUESTS_PER_ROUND):
                assert hostile.request(server.port, "GET", "/health")[0] == 200
                sent += 1
            time.sleep(0.1)  # the count is written just after the answer
            os.kill(workers[0], signal.SIGKILL)
            deadline = time.monotonic() + 20
            while workers[0] in descendants(server.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.1)  # reaped, then folded: the hook runs just after the pid leaves /proc
            sizes.append(len(list(folder.iterdir())))
        server.wait_for_workers(2)
        time.sleep(0.5)
        counted = health_count(server.port)
        files = sorted(path.name for path in folder.iterdir())
    # two types for each of two workers, the two archives, and the manager's counter file (it makes the
    # digit counters at import, before forking)
    assert max(sizes) <= 2 * 2 + 2 + 1, sizes
    assert "counter_archive.db" in files and "histogram_archive.db" in files
    assert counted >= sent, f"{counted} /health requests counted of {sent} sent"
