"""The pure ASGI middleware on tiny apps: security headers, metrics labels."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from starlette.requests import ClientDisconnect
from starlette.routing import Mount, Route

from backend.service.middleware import (
    SECURITY_HEADERS,
    MetricsMiddleware,
    SecurityHeadersMiddleware,
    route_label,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def http_scope(path: str = "/predict", headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    return {"type": "http", "method": "POST", "path": path, "headers": headers or []}


class EchoApp:
    """Reads the whole body, then answers 200 with its length; records how many reads it made."""

    def __init__(self) -> None:
        self.reads = 0
        self.called = False

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        size, more = 0, True
        while more:
            message = await receive()
            self.reads += 1
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-security-policy", b"custom")]})
        await send({"type": "http.response.body", "body": str(size).encode()})


async def run(app, scope, chunks: list[bytes]) -> tuple[list[dict], int]:
    """Drive `app` with the body in `chunks`; return the sent messages and how many chunks were pulled."""
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        index = pulled - 1
        return {"type": "http.request", "body": chunks[index] if index < len(chunks) else b"", "more_body": index < len(chunks) - 1}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent, pulled


async def test_security_headers_are_added_but_never_override_the_apps_own():
    sent, _ = await run(SecurityHeadersMiddleware(EchoApp()), http_scope(), [b""])
    headers = sent[0]["headers"]
    names = [name for name, _ in headers]
    assert len(names) == len(set(names)), "no header twice"
    assert (b"content-security-policy", b"custom") in headers
    for name, value in SECURITY_HEADERS:
        if name != b"content-security-policy":
            assert (name, value) in headers


async def test_metrics_count_an_app_that_raises_as_a_500():
    async def broken(scope, receive, send):
        scope["route"] = Route("/boom", lambda request: None)
        raise RuntimeError("boom")

    labels = {"route": "/boom", "method": "POST", "status": "500"}
    before = REGISTRY.get_sample_value("http_requests_total", labels) or 0.0
    with pytest.raises(RuntimeError):
        await run(MetricsMiddleware(broken), http_scope("/boom"), [b""])
    assert REGISTRY.get_sample_value("http_requests_total", labels) == before + 1


async def test_a_client_gone_mid_body_is_a_499_not_a_server_error():
    async def reading(scope, receive, send):
        scope["route"] = Route("/reading", lambda request: None)
        raise ClientDisconnect()

    labels = {"route": "/reading", "method": "POST", "status": "499"}
    before = REGISTRY.get_sample_value("http_requests_total", labels) or 0.0
    sent, _ = await run(MetricsMiddleware(reading), http_scope("/reading"), [b""])  # returns quietly
    assert sent == []
    assert REGISTRY.get_sample_value("http_requests_total", labels) == before + 1


def test_route_labels_never_use_the_raw_path():
    assert route_label({"route": Route("/v2/models/{name}", lambda r: None), "path": "/v2/models/abc"}) == "/v2/models/{name}"
    assert route_label({"route": Mount("/", routes=[]), "path": "/js/app.js"}) == "static"
    assert route_label({"path": "/anything"}) == "unmatched"
