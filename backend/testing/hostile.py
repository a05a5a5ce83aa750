"""Hostile clients for the attack tests and scripts/hostile_clients.py: raw sockets on loopback, bounded in count and time.

Each attack is a plain function against a running server's port (a LiveServer): it does what a hostile
or broken client does (a body nested a thousand levels deep, uploads that stop half-way, a request line
sent a byte at a time, a header of megabytes, a small PNG of many megapixels, clients that hang up
before the answer) and returns what it saw. HealthProbe polls GET /health on fresh connections
meanwhile, so the latency an ordinary client sees during the attack can be reported.

What this leaves out: judging the results (the tests assert, the script prints) and anything beyond
127.0.0.1.
"""

from __future__ import annotations

import http.client
import io
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from backend.testing.live_server import HOST

PROBE_TIMEOUT_S = 2.0


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 30.0):
    """One request on a fresh connection; (status, headers as a lower-case dict, body, seconds)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    start = time.perf_counter()
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data, time.perf_counter() - start
    finally:
        connection.close()


def nested(depth: int, leaf: str = "0") -> str:
    """A JSON array nested `depth` levels deep around `leaf`: [[[...0...]]]."""
    return "[" * depth + leaf + "]" * depth


@dataclass
class HealthProbe:
    """GET /health every `interval_s` on a fresh connection, in a thread, until stopped; latencies in seconds.

    A probe that gets no 200 within PROBE_TIMEOUT_S counts as a failure (and as PROBE_TIMEOUT_S).
    """

    port: int
    interval_s: float = 0.05
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.perf_counter()
            try:
                status = request(self.port, "GET", "/health", timeout=PROBE_TIMEOUT_S)[0]
            except OSError:
                status = None
            elapsed = time.perf_counter() - start
            if status != 200:
                self.failures += 1
                elapsed = max(elapsed, PROBE_TIMEOUT_S)
            self.latencies.append(elapsed)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def p99_ms(self) -> float:
        return float(np.percentile(self.latencies, 99)) * 1000 if self.latencies else float("nan")


def open_connection(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    return sock


def stalled_uploads(port: int, count: int, declared: int, sent: int, path: str = "/predict/batch") -> list[socket.socket]:
    """`count` connections that each declare a `declared`-byte JSON body, send `sent` bytes of it and go silent.

    Returns the open sockets (the caller closes them). A connection the server refused or closed while
    sending is returned too; `connection_state` tells them apart.
    """
    head = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n".encode()
    chunk = b'{"images": [[' + b"0, " * (64 * 1024)
    sockets = []
    for _ in range(count):
        sock = open_connection(port)
        sockets.append(sock)
        try:
            sock.sendall(head)
            left = sent
            while left > 0:
                piece = chunk[: min(left, len(chunk))]
                sock.sendall(piece)
                left -= len(piece)
        except OSError:
            continue  # the server answered and closed: that is what a guarded server does
    return sockets


def connection_state(sock: socket.socket, wait_s: float = 0.0) -> str:
    """ "open" (nothing came back), "closed" (EOF or reset) or the status line the server answered with."""
    sock.settimeout(wait_s if wait_s > 0 else 0.001)
    try:
        data = sock.recv(4096)
    except (TimeoutError, BlockingIOError):
        return "open"
    except OSError:
        return "closed"
    if not data:
        return "closed"
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def wait_until_cut_off(sock: socket.socket, limit_s: float) -> tuple[str, float]:
    """Wait up to limit_s for the server to answer or close this connection; (what it did, seconds)."""
    start = time.perf_counter()
    sock.settimeout(limit_s)
    try:
        data = sock.recv(4096)
        state = data.split(b"\r\n", 1)[0].decode(errors="replace") if data else "closed"
    except TimeoutError:
        state = "open"
    except OSError:
        state = "closed"
    return state, time.perf_counter() - start


def slow_request(port: int, raw: bytes, split_at: int) -> socket.socket:
    """A connection that sends raw[:split_at] and then nothing (a slowloris on the request line, headers or body)."""
    sock = open_connection(port)
    sock.sendall(raw[:split_at])
    return sock


def trickle(port: int, head: bytes, body: bytes, piece: int, every_s: float, limit_s: float) -> tuple[str, float]:
    """Send head at once, then body `piece` bytes every `every_s` seconds, until the server answers or closes
    (or limit_s passes); (what the server did, as wait_until_cut_off says it, seconds since the body began)."""
    sock = open_connection(port)
    try:
        sock.sendall(head)
        start, sent = time.perf_counter(), 0
        while time.perf_counter() - start < limit_s:
            if sent < len(body):
                try:
                    sock.sendall(body[sent : sent + piece])
                except OSError:
                    pass  # closed by the server: what it said is read next
                sent += piece
            state, _ = wait_until_cut_off(sock, every_s)
            if state != "open":
                return state, time.perf_counter() - start
        return "open", time.perf_counter() - start
    finally:
        sock.close()


def png_bytes(image: Image.Image, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **save)
    return buffer.getvalue()


def huge_blank_png(width: int, height: int, mode: str = "RGBA") -> bytes:
    """A PNG of width x height pixels, all the same colour: tiny on the wire, width*height*4 bytes once decoded.

    Written by hand (one zlib stream of zero rows) so making it costs the client little memory.
    """
    bands = {"RGBA": 4, "RGB": 3, "L": 1}[mode]
    colour_type = {"RGBA": 6, "RGB": 2, "L": 0}[mode]
    row = b"\x00" * (1 + width * bands)  # filter byte 0, then the pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return _png(width, height, colour_type, idat)


def many_chunks_png(n_chunks: int) -> bytes:
    """A 1x1 PNG with n_chunks empty private chunks before its pixels: 12 bytes on the wire per chunk."""
    empty = struct.pack(">I", 0) + b"zzzz" + struct.pack(">I", zlib.crc32(b"zzzz"))
    idat = zlib.compress(b"\x00\x00")
    return _png(1, 1, 0, idat, extra=empty * n_chunks)


def _png(width: int, height: int, colour_type: int, idat: bytes, extra: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def refused_upload(port: int, path: str, body: bytes, content_type: str = "application/json") -> bytes:
    """POST body on a raw socket, tolerating a server that answers and closes before it is all sent; the answer's bytes."""
    sock = open_connection(port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        try:
            sock.sendall(head.encode() + body)
        except OSError:
            pass  # answered and closed while we sent: the answer may still be in our receive buffer
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        return answer
    finally:
        sock.close()


def send_and_hang_up(port: int, path: str, body: bytes, content_type: str) -> None:
    """Send a whole request and close the connection without reading the answer."""
    sock = open_connection(port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body)
    finally:
        sock.close()
