"""Hostile and broken clients against the real server (`python -m backend.serve`, two workers, loopback).

Each test reproduces an attack (backend.testing.hostile) and checks the server's answer, the time it
took to cut the client off, its memory and how /health fared meanwhile:

  - uploads that stop half-way: 80 sockets that declare 19 MB, send 18 MB and go silent;
  - slowloris on the request line, the headers or the body, and a body trickled a byte at a time
    often enough never to trip the body timeout;
  - a header of megabytes, or a thousand headers;
  - a batch-sized body sent to the single-digit route;
  - a request uvicorn cannot parse, and a JSON route called without a Content-Type.

The server runs with short read timeouts (1 s) and upload grace period (2 s) so the file runs quickly; scripts/hostile_clients.py
measures the same attacks with the default settings for the README. What this leaves out: deep
nesting (test_hostile_nesting.py) and pictures (test_hostile_images.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pytest

from backend.testing import hostile
from backend.testing.live_server import LiveServer

TIMEOUT_S = 1.0
GRACE_S = 2.0
MIN_RATE = 200
ENV = {
    "HEAD_TIMEOUT_S": str(TIMEOUT_S),
    "BODY_TIMEOUT_S": str(TIMEOUT_S),
    "MIN_UPLOAD_GRACE_S": str(GRACE_S),
    "MIN_UPLOAD_BYTES_PER_S": str(MIN_RATE),
}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(workers=2, env=ENV) as running:
        running.wait_for_workers(2)
        running.wait_until_quiet()
        yield running


def test_stalled_uploads_are_refused_beyond_the_budget_and_cut_off_leaving_memory_and_health_alone(server: LiveServer) -> None:
    idle_kib = server.rss_kib()
    with hostile.HealthProbe(server.port, interval_s=0.02) as probe:
        sockets = hostile.stalled_uploads(server.port, 80, declared=19_000_000, sent=18_000_000)
        try:
            peak_kib = server.rss_kib()
            answers = [hostile.connection_state(sock, wait_s=0.05) for sock in sockets]
            cut_off = [hostile.wait_until_cut_off(sock, 5 * TIMEOUT_S)[0] for sock in sockets]
        finally:
            for sock in sockets:
                sock.close()
    assert answers.count("HTTP/1.1 503 Service Unavailable") >= 70, answers
    assert "open" not in cut_off, "every stalled upload is cut off"
    assert (peak_kib - idle_kib) / 1024 < 100, f"RSS grew {(peak_kib - idle_kib) / 1024:.0f} MB"
    assert probe.failures == 0
    assert probe.p99_ms() < 100


def test_a_503_says_when_to_retry(server: LiveServer) -> None:
    sockets = hostile.stalled_uploads(server.port, 6, declared=19_000_000, sent=1_000)  # enough to fill both workers' budgets
    try:
        head = b"POST /predict/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 19000000\r\n\r\n"
        refused = [hostile.slow_request(server.port, head, len(head)) for _ in range(4)]
        replies = []
        for sock in refused:
            sock.settimeout(5)
            reply = b""
            while chunk := sock.recv(4096):  # the answer closes the connection
                reply += chunk
            replies.append(reply)
            sock.close()
    finally:
        for sock in sockets:
            sock.close()
    reply = next(r for r in replies if r.startswith(b"HTTP/1.1 503"))
    assert b"retry-after: 1" in reply.lower()
    assert b"retry shortly" in reply


@pytest.mark.parametrize("part, split_at", [("request line", 10), ("headers", 40), ("body", -5)])
def test_slowloris_is_cut_off_within_the_timeout(server: LiveServer, part: str, split_at: int) -> None:
    raw = b'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"pixels": [0, 0, 0'
    sock = hostile.slow_request(server.port, raw, split_at if split_at > 0 else len(raw) + split_at)
    state, seconds = hostile.wait_until_cut_off(sock, 10 * TIMEOUT_S)
    sock.close()
    expected = "closed" if part == "body" else "HTTP/1.1 408 Request Timeout"
    assert state == expected
    assert TIMEOUT_S * 0.8 < seconds < TIMEOUT_S + 2


def batch_head(length: int) -> bytes:
    return b"POST /predict/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length


def test_a_body_trickled_under_the_minimum_rate_gets_408_soon_after_the_grace_period(server: LiveServer) -> None:
    body = orjson.dumps({"images": [[0.5] * 784]})
    # a byte every 0.4 s: well within BODY_TIMEOUT_S each time, 2.5 bytes/s on average
    state, seconds = hostile.trickle(server.port, batch_head(len(body)), body, piece=1, every_s=0.4, limit_s=10 * GRACE_S)
    assert state == "HTTP/1.1 408 Request Timeout"
    assert GRACE_S * 0.9 < seconds < GRACE_S + 3


def test_a_body_sent_slowly_but_over_the_minimum_rate_is_answered(server: LiveServer) -> None:
    body = orjson.dumps({"images": [[0.25] * 784] * 5})  # 20 KB in 1 KB pieces every 0.2 s: 4 s at ~5 KB/s
    state, seconds = hostile.trickle(server.port, batch_head(len(body)), body, piece=1024, every_s=0.2, limit_s=30)
    assert state == "HTTP/1.1 200 OK"
    assert seconds > GRACE_S, "the upload went on past the grace period"


def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(server: LiveServer) -> None:
    sock = hostile.open_connection(server.port)
    state, seconds = hostile.wait_until_cut_off(sock, 10 * TIMEOUT_S)
    sock.close()
    assert state == "HTTP/1.1 408 Request Timeout"
    assert seconds < TIMEOUT_S + 2


@pytest.mark.parametrize("kind", ["one 8 MB header", "1000 headers"])
def test_oversized_heads_are_refused_with_431_and_the_security_headers(server: LiveServer, kind: str) -> None:
    sock = hostile.open_connection(server.port)
    try:
        if kind == "1000 headers":
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\n")
        else:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
            for _ in range(128):
                sock.sendall(b"a" * 65536)
    except OSError:
        pass  # the server answered and closed while we sent
    sock.settimeout(5)
    reply = sock.recv(65536)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
    assert b"content-security-policy:" in reply
    assert b'{"detail":"the request' in reply


def test_a_header_within_the_limits_is_served(server: LiveServer) -> None:
    status, _, body, _ = hostile.request(server.port, "GET", "/health", headers={"X-Fine": "a" * 8000})
    assert status == 200
    assert orjson.loads(body)["status"] == "ok"


def test_uvicorns_own_400_is_json_with_the_security_headers(server: LiveServer) -> None:
    sock = hostile.open_connection(server.port)
    sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    sock.settimeout(5)
    reply = sock.recv(65536)
    sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"content-security-policy:" in head and b"x-content-type-options: nosniff" in head
    assert orjson.loads(body) == {"detail": "Invalid HTTP request received."}


def test_a_batch_sized_body_to_the_single_digit_route_is_refused_at_once(server: LiveServer) -> None:
    body = b'{"pixels": [' + b"0, " * (19_000_000 // 3 - 10) + b"NaN]}"
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    with hostile.HealthProbe(server.port, interval_s=0.02) as probe:
        start = time.perf_counter()
        sock = hostile.slow_request(server.port, head + body[:1_000_000], len(head) + 1_000_000)
        sock.settimeout(5)
        reply = sock.recv(65536)
        sock.close()
        seconds = time.perf_counter() - start
        time.sleep(0.5)
    status, data = int(reply.split(b" ", 2)[1]), reply.partition(b"\r\n\r\n")[2]
    assert status == 413, data[:200]
    assert seconds < 1.0
    assert probe.p99_ms() < 100


def test_a_single_digit_with_headroom_is_still_accepted(server: LiveServer) -> None:
    body = orjson.dumps({"pixels": [0.12345678901234567] * 784}, option=orjson.OPT_INDENT_2)
    status, _, data, _ = hostile.request(server.port, "POST", "/predict", body, JSON)
    assert status == 200, data[:200]


def test_a_json_route_without_content_type_is_415(server: LiveServer) -> None:
    status, headers, data, _ = hostile.request(server.port, "POST", "/predict", orjson.dumps({"pixels": [0] * 784}))
    assert status == 415
    assert orjson.loads(data)["detail"] == "send the body as application/json, not without a Content-Type"
    assert "content-security-policy" in headers
