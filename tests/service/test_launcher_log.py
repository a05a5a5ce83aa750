"""What a newcomer sees from `make run`: one line with the URL to open, and a stop without error lines."""

from __future__ import annotations

import os
import signal
import time

import pytest

from backend.service.launcher import url_to_open
from backend.testing.live_server import LiveServer, descendants


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::", "http://[::1]:8000"),
        ("example.org", "http://example.org:8000"),
    ],
)
def test_the_url_to_open(host, url):
    assert url_to_open(host, 8000) == url


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_one_line_names_the_url_and_the_stop_is_clean(tmp_path, stop):
    server = LiveServer(workers=2, log_dir=tmp_path).start()
    server.wait_for_workers(2)
    time.sleep(0.5)  # both workers through their start-up
    started = time.monotonic()
    server.process.send_signal(stop)  # the manager alone, as `kill` or docker stop do
    status = server.process.wait(30)
    took = time.monotonic() - started
    log = server.log()
    server.stop()
    assert status == 0
    assert log.count(f"serving draw-a-digit at {server.url} (2 workers; Ctrl-C stops it)") == 1
    assert "Listening at" not in log
    assert "Errno 9" not in log and "SIGKILL" not in log and "Traceback" not in log
    assert took < 5, f"the stop took {took:.1f} s:\n{log}"


def test_ctrl_c_in_a_terminal_stops_every_process_without_a_traceback(tmp_path):
    # a terminal's Ctrl-C sends SIGINT to the whole foreground process group: the manager, its workers and
    # the workers' parsing helpers (and multiprocessing's resource trackers) all get it at once. (One
    # os.kill after another is not the same: the manager could pass its stop on to a worker before the
    # worker's own SIGINT came, and uvicorn takes a SIGINT after a stop as "force quit".)
    server = LiveServer(workers=2, log_dir=tmp_path, own_process_group=True).start()
    server.wait_for_workers(2)
    server.wait_until_quiet()  # the helpers are up
    group = descendants(server.pid)
    assert len(group) > 3, group  # more than the manager and two workers: the helpers are in it
    assert {os.getpgid(pid) for pid in group} == {server.pid}
    os.killpg(server.pid, signal.SIGINT)
    status = server.process.wait(30)
    time.sleep(1.5)  # the helpers end with their workers (offload.PARENT_CHECK_S)
    log = server.log()
    left = [pid for pid in group if os.path.exists(f"/proc/{pid}") and "zombie" not in open(f"/proc/{pid}/status").read()]
    server.stop()
    assert status == 0
    assert "Traceback" not in log and "KeyboardInterrupt" not in log and "leaked" not in log, log
    assert left == []
