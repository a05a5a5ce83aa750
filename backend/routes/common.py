"""What the route modules share: the served model of the running app, JSON responses, content types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio

import orjson
from fastapi import HTTPException, Request, Response

from backend.inference import ServedModel
from backend.schemas import Message, ValidationErrorBody
from backend.settings import Settings

JSON_TYPES = ("application/json",)
T = TypeVar("T")


def served_model(request: Request) -> ServedModel:
    return request.app.state.model


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


async def run_heavy(request: Request, work: Callable[[], T]) -> T:
    """Run CPU-heavy work (a big batch, a photo) in a worker thread, at most a few at a time per process.

    The event loop keeps answering other requests meanwhile. The limit bounds memory: a queued
    request holds only its raw body, not the Python lists and arrays that parsing it makes.
    """
    return await anyio.to_thread.run_sync(work, limiter=request.app.state.heavy_work_limiter)


def json_response(content: Any, status_code: int = 200) -> Response:
    """Serialise with orjson; NumPy arrays (e.g. probability rows) are written directly."""
    return Response(orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status_code, media_type="application/json")


def media_type(request: Request) -> str | None:
    """The request's Content-Type without parameters, lower case; None when absent."""
    header = request.headers.get("content-type")
    return header.split(";", 1)[0].strip().lower() if header is not None else None


def is_json(media: str | None) -> bool:
    # no Content-Type at all is read as JSON, as FastAPI does; a declared other type is refused
    return media is None or media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (or not declared at all)."""
    media = media_type(request)
    if not is_json(media):
        raise HTTPException(415, f"send the body as application/json, not {media}")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "The body is over BODY_MAX_BYTES.", "model": Message},
    415: {"description": "The Content-Type is not one this route reads.", "model": Message},
    422: {"description": "The body is not a valid request: each entry says where and why.", "model": ValidationErrorBody},
}
