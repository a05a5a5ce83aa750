"""The last-resort error boundary: a bug is a JSON 500 with the security headers, not Starlette's bare text.

What this leaves out: the protocol error shapes (tests/service/routes).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from backend.service.app import create_app
from backend.testing.service import settings_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_an_unexpected_exception_is_a_json_500_with_the_security_headers(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path))

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.router.routes.insert(0, APIRoute("/boom", boom))  # ahead of the page's mount, which takes every path

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/boom")
            working = await client.get("/health")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert working.status_code == 200
