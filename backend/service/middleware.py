"""Pure ASGI middleware: security headers and request metrics.

Pure ASGI (no BaseHTTPMiddleware) so that nothing buffers a body or wraps a response in a stream:
each of these only watches or rewrites the messages that pass through. What this module leaves out:
the request-body cap (dependencies.read_body, per route), CORS (Starlette's CORSMiddleware, configured in main.py) and the metric definitions (telemetry.py).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.service.telemetry import LATENCY, REQUESTS

# Everything the page needs comes from its own origin; data: images cover canvas snapshots.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

# The one page that needs more than that: ReDoc (/redoc) styles itself with styled-components, which writes
# <style> elements while it runs; style-src 'self' blocks them and ReDoc then fails to render. So that page,
# and only it (keyed by the request's path), allows inline styles; scripts stay 'self' only. Swagger UI
# (/docs) needs no exception, and ReDoc's search (a Web Worker from a blob: URL) is turned off rather than
# allowing workers.
REDOC_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
PAGE_SECURITY_HEADERS: dict[str, list[tuple[bytes, bytes]]] = {
    "/redoc": [(b"content-security-policy", REDOC_CONTENT_SECURITY_POLICY.encode()), *SECURITY_HEADERS[1:]],
}


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS to every HTTP response, API and static files alike (PAGE_SECURITY_HEADERS for the pages named there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = PAGE_SECURITY_HEADERS.get(scope["path"], SECURITY_HEADERS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


CLIENT_CLOSED_REQUEST = 499  # nginx's status for "the client went away before the answer"


class MetricsMiddleware:
    """Counts each HTTP request by route template, method and status, and times it.

    A client that disconnects while its body is being read makes Starlette raise ClientDisconnect in
    the route. That is not a server error: it is counted as 499 and ends the request quietly (there is
    no one left to answer, and uvicorn logs nothing for a request whose client has gone).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # label lookups take a lock each time; the few (route, method, status) combinations are kept
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST
        finally:
            self._record(route_label(scope), scope["method"], status, time.perf_counter() - start)

    def _record(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (REQUESTS.labels(route, method, str(status)), LATENCY.labels(route))
        series[0].inc()
        series[1].observe(seconds)


def route_label(scope: dict[str, Any]) -> str:
    """The matched route's template, "static" for the page's files, "unmatched" when nothing matched."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    if isinstance(route, Mount):
        return "static"
    return getattr(route, "path", "unmatched")
