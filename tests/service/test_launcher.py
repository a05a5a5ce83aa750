"""The real thing: `python -m backend.serve` (gunicorn + uvicorn workers) on a free port, spoken to over HTTP.

Covers what an in-process client cannot: predicting over a socket, start-up refusing bad weights with
a non-zero exit, graceful shutdown on SIGTERM with a request in flight, weights deleted under a running
server, a killed worker replaced, and /metrics summed over two workers.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from backend.service.schemas import EXAMPLE_PIXELS
from backend.testing.live_server import LiveServer
from backend.testing.service import SEVEN, settings_for, stroke_digit_png

READY_TIMEOUT_S = 30.0


def launch_server(
    tmp_path: Path, model_dir: Path, workers: int = 1, command: list[str] | None = None, port: int | None = None
) -> LiveServer:
    """`python -m backend.serve` (or `command`) on the weights in model_dir and a small test page; not waited for."""
    settings = {
        "FRONTEND_DIR": str(settings_for(tmp_path).frontend_dir),
        "SHUTDOWN_TIMEOUT_S": "10",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    return LiveServer(workers=workers, model_dir=model_dir, env=settings, command=command, port=port, log_dir=tmp_path).launch()


@pytest.fixture
def server(tmp_path: Path, weights_copy: Path) -> Iterator[LiveServer]:
    running = launch_server(tmp_path, weights_copy)
    print(f"startup to ready: {running.wait_ready(READY_TIMEOUT_S):.3f} s")
    yield running
    running.stop()


def test_predicts_over_http(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        single = client.post("/predict", json={"pixels": EXAMPLE_PIXELS})
        assert single.status_code == 200
        batch = client.post("/predict/batch", json={"images": [EXAMPLE_PIXELS] * 3})
        assert batch.status_code == 200
        assert [p["digit"] for p in batch.json()["predictions"]] == [single.json()["digit"]] * 3
        image = client.post("/predict/image", content=stroke_digit_png(SEVEN), headers={"content-type": "image/png"})
        assert image.status_code == 200
        assert image.json()["digit"] == 7
        bad = client.post("/predict", json={"pixels": [0.5] * 10})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "pixels"]
        page = client.get("/")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]


def test_deleting_the_weights_while_serving_changes_nothing(server, weights_copy):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        before = client.post("/predict", json={"pixels": EXAMPLE_PIXELS}).json()
        shutil.rmtree(weights_copy)
        after = client.post("/predict", json={"pixels": EXAMPLE_PIXELS})
        assert after.status_code == 200
        assert after.json() == before
        assert client.get("/health").status_code == 200


def test_sigterm_lets_an_in_flight_request_finish(server):
    body = orjson.dumps({"pixels": EXAMPLE_PIXELS})
    head = f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(head.encode() + body[:100])
        time.sleep(0.3)  # the request is now in flight: headers and part of the body are in
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        connection.sendall(body[100:])
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200"), response[:200]
    assert b'"digit"' in response
    assert server.process.wait(timeout=15) == 0
    assert "Application shutdown complete" in server.log()


@pytest.mark.parametrize("launcher", ["serve", "uvicorn"])
def test_corrupt_weights_stop_start_up_with_the_file_named(tmp_path, weights_copy, launcher):
    (weights_copy / "model.npz").write_bytes(b"not an npz")
    command = None if launcher == "serve" else [sys.executable, "-m", "uvicorn", "backend.main:app", "--port", "0"]
    failing = launch_server(tmp_path, weights_copy, command=command)
    assert failing.exit_code() != 0
    assert str(weights_copy / "model.npz") in failing.log()


def test_a_port_already_taken_stops_start_up_at_once(tmp_path, weights_copy):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        failing = launch_server(tmp_path, weights_copy, port=port)
        code = failing.exit_code()
    assert code != 0
    assert f"cannot serve on 127.0.0.1:{port}" in failing.log()


def worker_pids(master: int) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_that_dies_is_replaced_and_the_server_keeps_answering(tmp_path, weights_copy):
    running = launch_server(tmp_path, weights_copy, workers=2)
    try:
        running.wait_ready(READY_TIMEOUT_S)
        wait_for(lambda: len(worker_pids(running.process.pid)) == 2, "both workers")  # ready means one is up
        expected = httpx.post(f"{running.url}/predict", json={"pixels": EXAMPLE_PIXELS}, timeout=10).json()
        shutil.rmtree(weights_copy)  # the replacement worker must not need the files
        victim = min(worker_pids(running.process.pid))
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in (now := worker_pids(running.process.pid)) and len(now) == 2, "a replacement worker")
        for _ in range(10):  # fresh connections: both workers, the new one included, answer
            answer = httpx.post(f"{running.url}/predict", json={"pixels": EXAMPLE_PIXELS}, timeout=10)
            assert answer.status_code == 200
            assert answer.json() == expected
    finally:
        running.stop()
    assert running.process.returncode == 0


def test_two_workers_report_metrics_summed_over_both(tmp_path, weights_copy):
    running = launch_server(tmp_path, weights_copy, workers=2)
    try:
        running.wait_ready(READY_TIMEOUT_S)
        for _ in range(30):  # a fresh connection each time, so both workers get some
            assert httpx.post(f"{running.url}/predict", json={"pixels": EXAMPLE_PIXELS}, timeout=10).status_code == 200
        counts = set()
        for _ in range(6):
            text = httpx.get(f"{running.url}/metrics", timeout=10).text
            match = re.search(r'^http_requests_total\{method="POST",route="/predict",status="200"\} (\S+)$', text, re.M)
            counts.add(float(match.group(1)))
        assert counts == {30.0}, "every scrape, whichever worker answers it, sees all 30"
    finally:
        running.stop()
    assert running.process.returncode == 0


def test_plain_uvicorn_serves_but_warns_that_it_lacks_the_connection_limits(tmp_path, weights_copy):
    command = [sys.executable, "-m", "uvicorn", "backend.main:app", "--port", "0"]
    server = launch_server(tmp_path, weights_copy, command=command)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while "Uvicorn running on" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = server.log()
    finally:
        server.stop()
    assert "Uvicorn running on" in log
    assert "serving without the launcher: no limits on header size or count, no read timeouts" in log
    assert "`python -m backend.serve` is the supported way" in log


def test_the_launcher_gives_no_such_warning(server):
    assert "serving without the launcher" not in server.log()
