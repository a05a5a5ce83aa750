#!/usr/bin/env python3
"""Attack the real server on loopback and print what each attack got: status, time, RSS, /health p99.

    python scripts/hostile_clients.py                 # every attack, each on a fresh 2-worker server
    python scripts/hostile_clients.py --only stalled  # one attack (names: see ATTACKS)
    python scripts/hostile_clients.py --only batches --env PARSE_OFFLOAD_MIN_BYTES=0   # with other settings

Each attack starts `python -m backend.serve` (LiveServer), measures the resident memory of the server
and its workers when idle, runs the attack from backend.testing.hostile while HealthProbe polls
/health, and prints one JSON line. Bounded: every loop has a count and every wait a timeout.
The README's Security section holds the figures (before and after the fixes).

What this leaves out: pass/fail (tests/service/test_hostile_clients.py asserts) and anything beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from backend.testing import hostile
from backend.testing.live_server import LiveServer

MB = 1024 * 1024


def deep_nesting(server: LiveServer) -> dict[str, Any]:
    body = '{"inputs":[{"name":"input","shape":' + hostile.nested(1000) + ',"datatype":"FP32","data":[]}]}'
    status, headers, data, seconds = hostile.request(
        server.port, "POST", "/v2/models/mnist/infer", body.encode(), {"Content-Type": "application/json"}
    )
    return {"status": status, "seconds": round(seconds, 3), "csp_header": "content-security-policy" in headers, "body": data[:80].decode()}


def stalled_uploads(server: LiveServer, count: int = 80) -> dict[str, Any]:
    idle = server.rss_kib()
    with hostile.HealthProbe(server.port) as probe:
        sockets = hostile.stalled_uploads(server.port, count, declared=19_000_000, sent=18_000_000)
        time.sleep(1.0)
        peak = server.rss_kib()
        states = [hostile.connection_state(sock) for sock in sockets]
        time.sleep(9.0)
        after_10s = [hostile.connection_state(sock) for sock in sockets]
        rss_10s = server.rss_kib()
    for sock in sockets:
        sock.close()
    return {
        "uploads": count,
        "rss_idle_mb": round(idle / 1024),
        "rss_growth_mb": round((peak - idle) / 1024),
        "rss_growth_after_10s_mb": round((rss_10s - idle) / 1024),
        "answers": summarise(states),
        "open_after_10s": after_10s.count("open"),
        "health_p99_ms": round(probe.p99_ms(), 1),
        "health_failures": probe.failures,
    }


def slowloris(server: LiveServer, limit_s: float = 15.0) -> dict[str, Any]:
    raw = b'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"pixels": [0, 0, 0'
    cuts = {"request line": 10, "headers": 40, "body": len(raw) - 5}
    opened = time.perf_counter()
    sockets = {part: hostile.slow_request(server.port, raw, at) for part, at in cuts.items()}
    result = {}
    for part, sock in sockets.items():
        state, _ = hostile.wait_until_cut_off(sock, max(0.1, opened + limit_s - time.perf_counter()))
        result[part] = f"{state} after {time.perf_counter() - opened:.1f} s"
        sock.close()
    return result


def trickle(server: LiveServer, limit_s: float = 30.0) -> dict[str, Any]:
    """A batch body sent a byte every 4 s: each gap is under BODY_TIMEOUT_S, the average far under MIN_UPLOAD_BYTES_PER_S."""
    head = b"POST /predict/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    state, seconds = hostile.trickle(server.port, head, b'{"images": [[' + b"0, " * 30000, piece=1, every_s=4.0, limit_s=limit_s)
    return {"state": state, "after_s": round(seconds, 1)}


def big_header(server: LiveServer, size: int = 8 * MB) -> dict[str, Any]:
    idle = server.rss_kib()
    sock = hostile.open_connection(server.port)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sock.sendall(b"a" * size)
        sock.sendall(b"\r\n\r\n")
    except OSError:
        pass
    state, seconds = hostile.wait_until_cut_off(sock, 10.0)
    sock.close()
    many = "".join(f"X-H{i}: v\r\n" for i in range(1000)).encode()
    sock = hostile.open_connection(server.port)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    except OSError:
        pass
    many_state, _ = hostile.wait_until_cut_off(sock, 10.0)
    sock.close()
    return {
        "header_mb": size // MB,
        "answer": state,
        "seconds": round(seconds, 2),
        "rss_growth_mb": round((server.rss_kib() - idle) / 1024),
        "1000_headers": many_state,
    }


def big_body_to_predict(server: LiveServer, n: int = 4) -> dict[str, Any]:
    body = b'{"pixels": [' + b"0, " * (19_000_000 // 3 - 10) + b"NaN]}"
    statuses = []
    with hostile.HealthProbe(server.port, interval_s=0.02) as probe:
        start = time.perf_counter()
        for _ in range(n):
            try:
                statuses.append(hostile.request(server.port, "POST", "/predict", body, {"Content-Type": "application/json"})[0])
            except OSError as err:  # refused before the body was all sent
                statuses.append(type(err).__name__)
        seconds = time.perf_counter() - start
    return {
        "body_mb": round(len(body) / MB, 1),
        "statuses": statuses,
        "seconds_each": round(seconds / n, 2),
        "health_p99_ms": round(probe.p99_ms(), 1),
        "health_failures": probe.failures,
    }


def big_batches(server: LiveServer, n: int = 4) -> dict[str, Any]:
    """Legal batches of the largest size (1000 digits, ~15 MB of JSON) one after another, and one ending in a NaN."""
    rows = ", ".join(["[" + ", ".join(["0.12345678901234567"] * 784) + "]"] * 1000)
    body = ('{"images": [' + rows + "]}").encode()
    nan_body = body[:-3] + b", NaN]]}"
    statuses, seconds = [], []
    with hostile.HealthProbe(server.port, interval_s=0.02) as probe:
        for payload in [body] * n + [nan_body]:
            status, _, _, took = hostile.request(server.port, "POST", "/predict/batch", payload, {"Content-Type": "application/json"})
            statuses.append(status)
            seconds.append(round(took, 2))
    return {
        "body_mb": round(len(body) / MB, 1),
        "seconds": seconds,
        "statuses": statuses,
        "health_p99_ms": round(probe.p99_ms(), 1),
        "health_max_ms": round(max(probe.latencies) * 1000, 1),
        "health_failures": probe.failures,
    }


def image_bombs(server: LiveServer) -> dict[str, Any]:
    result = {}
    for name, body in (("40MP RGBA PNG", hostile.huge_blank_png(8000, 5000)), ("1.58M empty chunks", hostile.many_chunks_png(1_580_000))):
        idle, cpu = server.rss_kib(), server.cpu_seconds()
        with hostile.HealthProbe(server.port, interval_s=0.02) as probe:
            status, _, data, seconds = hostile.request(server.port, "POST", "/predict/image", body, {"Content-Type": "image/png"})
        result[name] = {
            "upload_kb": len(body) // 1024,
            "status": status,
            "seconds": round(seconds, 2),
            "cpu_s": round(server.cpu_seconds() - cpu, 2),
            "rss_growth_mb": round((server.rss_kib() - idle) / 1024),
            "health_p99_ms": round(probe.p99_ms(), 1),
            "detail": data[:100].decode(errors="replace"),
        }
    return result


def hung_up_uploads(server: LiveServer, n: int = 16, body: bytes | None = None) -> dict[str, Any]:
    body = body or hostile.many_chunks_png(400_000)
    cpu = server.cpu_seconds()
    for _ in range(n):
        hostile.send_and_hang_up(server.port, "/predict/image", body, "image/png")
    time.sleep(0.2)
    small = hostile.png_bytes(__import__("PIL.Image", fromlist=["Image"]).new("L", (50, 50), 0))
    status, _, _, seconds = hostile.request(server.port, "POST", "/predict/image", small, {"Content-Type": "image/png"}, timeout=60)
    time.sleep(1.0)
    return {
        "uploads": n,
        "cpu_s_burned": round(server.cpu_seconds() - cpu, 2),
        "next_request_status": status,
        "next_request_seconds": round(seconds, 2),
    }


def hung_up_large(server: LiveServer) -> dict[str, Any]:
    """As hung-up, with 16 blank 12 MP RGBA PNGs (small uploads that decode at full size)."""
    return hung_up_uploads(server, body=hostile.huge_blank_png(4000, 2990))


def methods(server: LiveServer) -> dict[str, Any]:
    result = {}
    for method, path in (
        ("GET", "/predict"),
        ("PUT", "/predict"),
        ("OPTIONS", "/predict"),
        ("DELETE", "/v2/models/mnist/infer"),
        ("HEAD", "/health"),
        ("HEAD", "/docs"),
        ("HEAD", "/v2/health/live"),
        ("HEAD", "/"),
    ):
        status, headers, _, _ = hostile.request(server.port, method, path)
        result[f"{method} {path}"] = f"{status} Allow: {headers.get('allow', '-')}"
    _, headers, _, _ = hostile.request(server.port, "GET", "/js/main.js", headers={"Accept-Encoding": "gzip"})
    result["static"] = {"cache-control": headers.get("cache-control", "-"), "content-encoding": headers.get("content-encoding", "-")}
    metrics = hostile.request(server.port, "GET", "/metrics")[2].decode()
    result["metrics labels /js/main.js as"] = "static" if 'route="static"' in metrics else "unmatched"
    return result


def smaller(server: LiveServer) -> dict[str, Any]:
    no_type = hostile.request(server.port, "POST", "/predict", b'{"pixels": []}')[0]
    sock = hostile.open_connection(server.port)
    sock.sendall(b"GARBAGE / HTTP/1.1\r\n\r\n")
    sock.settimeout(5)
    raw = b""
    try:
        while chunk := sock.recv(4096):
            raw += chunk
    except (TimeoutError, OSError):
        pass
    sock.close()
    card = hostile.request(server.port, "GET", "/model")[2].decode()
    return {
        "POST without Content-Type": no_type,
        "bad request line": raw.split(b"\r\n", 1)[0].decode(errors="replace"),
        "its security headers": b"content-security-policy" in raw.lower(),
        "/model shows versions": '"versions"' in card,
        "/model shows commands": '"command"' in card,
    }


def summarise(states: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return counts


ATTACKS: dict[str, Callable[[LiveServer], dict[str, Any]]] = {
    "nesting": deep_nesting,
    "stalled": stalled_uploads,
    "slowloris": slowloris,
    "trickle": trickle,
    "header": big_header,
    "predict-body": big_body_to_predict,
    "batches": big_batches,
    "images": image_bombs,
    "hung-up": hung_up_uploads,
    "hung-up-large": hung_up_large,
    "methods": methods,
    "smaller": smaller,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(ATTACKS), action="append", help="run only these attacks")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a setting for the server")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    socket.setdefaulttimeout(30)
    for name in args.only or ATTACKS:
        with LiveServer(workers=2, env=env) as server:
            server.wait_for_workers(2)
            server.wait_until_quiet()
            print(json.dumps({"attack": name, **ATTACKS[name](server)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
