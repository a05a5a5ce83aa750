"""uvicorn's HTTP protocol (httptools) with the limits it lacks: head size and header count, read timeouts,
and error answers that carry the app's security headers.

uvicorn reads a request line and headers of any size, waits for them and for a body forever, and
answers a malformed request with a bare text/plain 400. Here, per connection:

  - the request line and headers together may hold at most `max_head_bytes` bytes and `max_headers`
    headers (431, then the connection closes; the bytes counted are those received before the
    head ended, so the parser's buffer stays bounded too);
  - they must arrive within `head_timeout_s` of the request's first byte, and a new connection must
    send that first byte within `head_timeout_s` too (408, then close: slowloris on the request line
    or the headers);
  - while a body is being received, no more than `body_timeout_s` may pass without a byte of it (the
    connection is closed; the route's read of the body then ends as a client disconnect, freeing
    what it held);
  - once `min_upload_grace_s` have passed since a body began, it must have arrived at an average of at
    least `min_upload_bytes_per_s` (checked as each piece arrives; 408 unless the app has begun its
    answer, then close): a client that trickles a byte every few seconds never trips the timeout above,
    yet would hold its connection, and its share of the worker's buffer budget, for as long as it likes;
  - uvicorn's own error answers (a request it cannot parse) are JSON {"detail": "..."} with the
    security headers, like the app's.

The limits come from the served app's settings: GuardedUvicornWorker, the gunicorn worker class the
launcher runs, gives uvicorn `guarded_protocol(settings)`. (Plain `uvicorn backend.main:app` runs
without these guards, and says so as it starts: uvicorn's command line cannot name a protocol class.) What this module leaves out: limits on
what a complete request may hold (body caps and the per-worker buffer budget: dependencies.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

from backend.service.middleware import SECURITY_HEADERS
from backend.service.settings import Settings

REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True)
class ConnectionLimits:
    max_head_bytes: int
    max_headers: int
    head_timeout_s: float
    body_timeout_s: float
    min_upload_bytes_per_s: float = 0.0  # 0: no minimum
    min_upload_grace_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            settings.max_head_bytes,
            settings.max_headers,
            settings.head_timeout_s,
            settings.body_timeout_s,
            settings.min_upload_bytes_per_s,
            settings.min_upload_grace_s,
        )


def error_response(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 answer {"detail": message} that closes the connection, with the security headers."""
    body = orjson.dumps({"detail": message})
    lines = [
        b"HTTP/1.1 %d %s" % (status, REASONS.get(status, b"Error")),
        b"content-type: application/json",
        b"content-length: %d" % len(body),
        b"connection: close",
        *(name + b": " + value for name, value in SECURITY_HEADERS),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class HeadWithBody:
    """A response's view of its connection: the status line and headers wait for the body's first piece,
    and both leave in one write.

    uvicorn writes the head as soon as the app starts its answer and the body in a second write: two
    TCP segments, two wake-ups of the client, twice the kernel's work per answer, for an answer that is
    a few hundred bytes. A head whose body does not follow in the same turn of the event loop (a stream
    that waits, a 100 Continue) still leaves at the end of that turn.
    """

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None  # None until the first write; then b"" once nothing is held

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = data
            self._loop.call_soon(self.flush)
            return
        if self._held:
            data, self._held = self._held + data, b""
        self._transport.write(data)

    def flush(self) -> None:
        if self._held:
            self._transport.write(self._held)
        self._held = b""

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that enforces `limits` (set on a subclass by guarded_worker)."""

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # between a request's first byte (or the connection's start) and the end of its headers
        self._in_body = False
        self._head_bytes = 0
        self._header_count = 0
        self._refused = False
        self._timer: asyncio.TimerHandle | None = None
        self._body_started = 0.0  # loop time at the end of the headers
        self._body_bytes = 0

    # timers
    def _arm(self, seconds: float, on_expiry: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, on_expiry)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_timed_out(self) -> None:
        self._refuse(408, f"the request line and headers did not arrive within {self.limits.head_timeout_s:g} s")

    def _body_timed_out(self) -> None:
        # the app is reading the body: closing makes its receive() return http.disconnect
        self.logger.info("closing a connection whose request body stalled for %g s", self.limits.body_timeout_s)
        self.transport.close()

    def _upload_too_slow(self) -> bool:
        """Whether the body, past its grace period, has arrived at under min_upload_bytes_per_s on average."""
        if not self.limits.min_upload_bytes_per_s:
            return False
        elapsed = self.loop.time() - self._body_started
        return elapsed >= self.limits.min_upload_grace_s and self._body_bytes < self.limits.min_upload_bytes_per_s * elapsed

    def _cut_slow_upload(self) -> None:
        elapsed = self.loop.time() - self._body_started
        self.logger.info("closing a connection whose request body came at %.1f bytes/s over %.1f s", self._body_bytes / elapsed, elapsed)
        self._refused = True
        self._disarm()
        if not self.transport.is_closing():
            if self.cycle is not None and not self.cycle.response_started and not self.pipeline:
                # the app is still reading the body: closing makes its receive() return http.disconnect
                message = f"the request body came at under {self.limits.min_upload_bytes_per_s:g} bytes/s"
                self.transport.write(error_response(408, message))
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` and close, unless a response is already under way (then just close)."""
        self._refused = True
        self._disarm()
        if not self.transport.is_closing():
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(error_response(status, message))
            self.transport.close()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.head_timeout_s, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # still in the head after this read (the parser holds what it has seen): bounded by the limit plus one read
        if self._in_head and not self._refused and self._head_bytes > self.limits.max_head_bytes:
            self._refuse(431, f"the request line and headers are over {self.limits.max_head_bytes} bytes")
        elif self._in_body and self._upload_too_slow():
            self._cut_slow_upload()
        elif self._in_body:
            self._arm(self.limits.body_timeout_s, self._body_timed_out)

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, msg)

    # parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._in_body = True, False
        self._head_bytes, self._header_count = 0, 0
        self._arm(self.limits.head_timeout_s, self._head_timed_out)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        if self._header_count > self.limits.max_headers:
            self._refuse(431, f"the request has {self._header_count} headers, over the limit of {self.limits.max_headers}")
            return
        cycle = self.cycle
        super().on_headers_complete()
        if self.cycle is not cycle:  # a new request (not an upgrade to another protocol)
            self.cycle.transport = HeadWithBody(self.transport, self.loop)
        self._in_body = True
        self._body_started, self._body_bytes = self.loop.time(), 0
        self._arm(self.limits.body_timeout_s, self._body_timed_out)

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            self._body_bytes += len(body)
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._disarm()
        if not self._refused:
            super().on_message_complete()


def guarded_protocol(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    """GuardedHttpToolsProtocol limited by `settings`."""
    limits = ConnectionLimits.from_settings(settings)
    return type("SettingsGuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


class GuardedUvicornWorker(UvicornWorker):
    """The gunicorn worker class the launcher runs: uvicorn (uvloop) with GuardedHttpToolsProtocol,
    limited by the settings of the app it serves (the launcher's, inherited through the fork)."""

    async def _serve(self) -> None:
        self.config.http = guarded_protocol(self.wsgi.state.settings)
        await super()._serve()

    def _install_sigquit_handler(self) -> None:
        """Stop at once on gunicorn's quick shutdown.

        `kill -INT` (or -QUIT) to the manager alone makes gunicorn send each worker SIGQUIT. uvicorn-worker
        registers that signal on the event loop, but uvicorn's own signal capture leaves it unanswered, so
        a worker sat out SHUTDOWN_TIMEOUT_S and was killed. Here SIGQUIT becomes the SIGTERM that uvicorn
        answers (in-flight requests finish, then the app's shutdown runs). Not SIGINT: a terminal's Ctrl-C
        has already sent the worker one, and uvicorn takes a second SIGINT as "force quit", which skips
        the app's shutdown (the parse helper is then left to the resource tracker, which warns of leaks).
        """
        signal.signal(signal.SIGQUIT, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
