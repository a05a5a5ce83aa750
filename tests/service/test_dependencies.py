"""Reading a body under its cap (dependencies.read_body), on a bare ASGI request: what is read and when it stops."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from backend.service.dependencies import BodyBudget, is_json, read_body

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def request_with(chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None) -> tuple[Request, list[int]]:
    """A Request whose body arrives in `chunks`; the list counts how many chunks were pulled."""
    pulled = [0]

    async def receive():
        index = pulled[0]
        pulled[0] += 1
        return {"type": "http.request", "body": chunks[index] if index < len(chunks) else b"", "more_body": index < len(chunks) - 1}

    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": headers or []}
    return Request(scope, receive), pulled


async def test_declared_length_over_the_cap_is_refused_before_reading_anything():
    request, pulled = request_with([b"x" * 101], [(b"content-length", b"101")])
    with pytest.raises(HTTPException) as refused:
        await read_body(request, max_bytes=100)
    assert refused.value.status_code == 413
    assert pulled[0] == 0
    assert "100 bytes" in refused.value.detail
    assert refused.value.headers == {"Connection": "close"}


async def test_undeclared_body_is_cut_at_the_chunk_that_crosses_the_cap():
    request, pulled = request_with([b"x" * 60] * 10)
    with pytest.raises(HTTPException) as refused:
        await read_body(request, max_bytes=100)
    assert refused.value.status_code == 413
    assert pulled[0] == 2, "the excess is never read"


async def test_a_body_within_the_cap_is_read_whole():
    request, _ = request_with([b"x" * 50, b"y" * 50], [(b"content-length", b"100")])
    assert await read_body(request, max_bytes=100) == b"x" * 50 + b"y" * 50


def test_json_media_types():
    assert is_json("application/json") and is_json("application/problem+json")
    assert not is_json("text/plain") and not is_json("application/octet-stream")


def test_a_body_without_content_type_is_not_json():
    assert not is_json(None)


async def test_a_declared_body_over_the_budget_is_refused_with_503_before_reading():
    budget = BodyBudget(150)
    budget.take(100)
    request, pulled = request_with([b"x" * 60], [(b"content-length", b"60")])
    with pytest.raises(HTTPException) as refused:
        async with budget.holding(request, max_bytes=100):
            pass
    assert refused.value.status_code == 503
    assert refused.value.headers == {"Retry-After": "1", "Connection": "close"}
    assert pulled[0] == 0
    assert budget.held == 100


async def test_an_undeclared_body_is_refused_when_its_chunks_cross_the_budget():
    budget = BodyBudget(100)
    request, pulled = request_with([b"x" * 60] * 3)
    with pytest.raises(HTTPException) as refused:
        async with budget.holding(request, max_bytes=1000):
            pass
    assert refused.value.status_code == 503
    assert pulled[0] == 2
    assert budget.held == 0, "what was taken is given back"


async def test_a_body_is_held_until_its_request_is_done_then_given_back():
    budget = BodyBudget(100)
    request, _ = request_with([b"x" * 50, b"y" * 50], [(b"content-length", b"100")])
    async with budget.holding(request, max_bytes=100) as body:
        assert body == b"x" * 50 + b"y" * 50
        assert budget.held == 100
    assert budget.held == 0
