"""The real server (python -m backend.serve: gunicorn, two uvicorn workers) storing corrections in a real
SQLite file and a real PostgreSQL server: nothing answered 201 is lost to kill -9, 16 clients sending
1,000 corrections each all land, and a database taken away turns /feedback into 503s while /predict serves.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.nn.shapes import N_INPUTS
from backend.service.feedback.store import SQLITE_FILE, FeedbackStore, database_url_for
from backend.testing.live_server import HOST, LiveServer, descendants

CLIENTS = 16
PER_CLIENT = 1000
PIXELS = [0] * 300 + [1] * 20 + [0] * (N_INPUTS - 320)


def feedback_body(label: int) -> bytes:
    return json.dumps({"pixels": PIXELS, "label": label, "predicted": (label + 1) % 10}, separators=(",", ":")).encode()


def post(connection: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def server_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "FEEDBACK_RATE": "0", **extra}


def stored(tmp_path: Path, database_url: str) -> FeedbackStore:
    return FeedbackStore(database_url_for(tmp_path / "data", database_url))


def all_rows(store: FeedbackStore) -> dict[int, int]:
    """id -> label of every row."""
    found, after = {}, 0
    while page := store.rows(after_id=after, limit=1000):
        found.update((row.id, row.label) for row in page)
        after = page[-1].id
    return found


def kill_everything(server: LiveServer) -> None:
    """SIGKILL the manager and every worker at once: no shutdown code runs anywhere."""
    for pid in descendants(server.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait()


def test_every_201_survives_kill_9_of_all_server_processes(tmp_path: Path, database_url: str) -> None:
    server = LiveServer(workers=2, env=server_env(tmp_path, database_url)).start()
    acknowledged: dict[int, int] = {}  # id -> label, for every 201 received
    failures: list[str] = []
    stop = threading.Event()

    def client(worker: int) -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        sent = 0
        while not stop.is_set():
            label = (worker + sent) % 10
            try:
                status, answer = post(connection, "/feedback", feedback_body(label))
            except OSError:
                return  # the server died under us: that request was never answered
            if status != 201:
                failures.append(f"{status} {answer[:200]!r}")
                return
            acknowledged[json.loads(answer)["id"]] = label
            sent += 1

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 200 and time.monotonic() < deadline and not failures:
        time.sleep(0.01)
    kill_everything(server)  # while the clients are still sending
    stop.set()
    for thread in threads:
        thread.join()
    server.stop()
    assert failures == []
    assert len(acknowledged) >= 200

    rows = all_rows(stored(tmp_path, database_url))
    missing = {row_id: label for row_id, label in acknowledged.items() if rows.get(row_id) != label}
    assert missing == {}
    # and the server comes back on the same database, adding after what is there
    with LiveServer(workers=1, env=server_env(tmp_path, database_url)) as again:
        connection = http.client.HTTPConnection(HOST, again.port, timeout=10)
        status, answer = post(connection, "/feedback", feedback_body(3))
        assert status == 201
        assert json.loads(answer)["id"] > max(acknowledged)


def test_16_clients_sending_1000_corrections_each_all_land(tmp_path: Path, database_url: str) -> None:
    statuses: Counter[int] = Counter()
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(server: LiveServer, worker: int) -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
        mine_status: Counter[int] = Counter()
        mine_ids = []
        start.wait()
        for i in range(PER_CLIENT):
            status, answer = post(connection, "/feedback", feedback_body((worker + i) % 10))
            mine_status[status] += 1
            if status == 201:
                mine_ids.append(json.loads(answer)["id"])
        with lock:
            statuses.update(mine_status)
            ids.extend(mine_ids)

    with LiveServer(workers=2, env=server_env(tmp_path, database_url)) as server:
        began = time.perf_counter()
        threads = [threading.Thread(target=client, args=(server, w)) for w in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        log = server.log()
    assert dict(statuses) == {201: CLIENTS * PER_CLIENT}, log[-3000:]
    assert len(set(ids)) == CLIENTS * PER_CLIENT
    assert "database is locked" not in log
    rows = all_rows(stored(tmp_path, database_url))
    assert len(rows) == CLIENTS * PER_CLIENT
    assert set(rows) == set(ids)
    assert Counter(rows.values()) == dict.fromkeys(range(10), CLIENTS * PER_CLIENT // 10) | {}
    print(f"{CLIENTS * PER_CLIENT} corrections in {elapsed:.1f} s")  # shown with -s: the README quotes it


@contextmanager
def database_taken_away(tmp_path: Path, database_url: str, postgres) -> Iterator[None]:
    """SQLite: another process holds the write lock (e.g. a stuck backup); PostgreSQL: the server is down."""
    if not database_url:
        holder = sqlite3.connect(tmp_path / "data" / SQLITE_FILE, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        postgres.stop()
        try:
            yield
        finally:
            postgres.start()


def test_a_database_taken_away_gives_503_while_predict_serves(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> None:
    postgres = request.getfixturevalue("postgres") if database_url else None
    env = server_env(tmp_path, database_url, FEEDBACK_BUSY_TIMEOUT_MS="300")
    predict_body = json.dumps({"pixels": PIXELS}).encode()
    with LiveServer(workers=2, env=env) as server:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        assert post(connection, "/feedback", feedback_body(1))[0] == 201
        with database_taken_away(tmp_path, database_url, postgres):
            refused = [post(connection, "/feedback", feedback_body(2)) for _ in range(4)]
            predictions = [post(connection, "/predict", predict_body) for _ in range(20)]
        assert {status for status, _ in refused} == {503}
        assert all(b"cannot be stored right now" in answer for _, answer in refused)
        assert {status for status, _ in predictions} == {200}
        assert json.loads(predictions[0][1])["digit"] in range(10)
        # a new connection: bringing PostgreSQL back takes longer than uvicorn keeps an idle one open
        connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        assert post(connection, "/feedback", feedback_body(3))[0] == 201  # back as soon as the database is
    assert sorted(all_rows(stored(tmp_path, database_url)).values()) == [1, 3]
