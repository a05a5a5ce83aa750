"""What a route handler needs from the running app, as typed FastAPI dependencies.

    async def predict(body: JsonBody, batcher: BatcherDep) -> Response: ...

The model repository (its default model, or the one a request names with ?model=), the settings, the micro-batcher and the heavy-work limiter are made once by the
app's lifespan (app.py) and kept on `app.state`; these dependencies hand them to handlers so that no
handler reads `app.state` itself. Every dependency here is `async def`: FastAPI runs a plain `def`
dependency in its thread pool, which would cost a thread hop per request.

The request body is a dependency too: `read_body` reads it under the BODY_MAX_BYTES cap (a declared
Content-Length over the cap is refused before a byte is read; a body sent without one is cut at the
chunk that crosses it), `JsonBody` first requires a JSON Content-Type, `ImageBody` a PNG or JPEG one. Both raise HTTPException,
which each router's error boundary turns into its protocol's error shape (see errors.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, HTTPException, Query, Request

from backend.service.batcher import MicroBatcher
from backend.service.feedback.ratelimit import TokenBuckets
from backend.service.feedback.store import FeedbackStore
from backend.service.repository import ModelRepository, Slot, UnknownModelError
from backend.service.served_model import ServedModel
from backend.service.settings import Settings

T = TypeVar("T")
JSON_TYPES = ("application/json",)
IMAGE_TYPES = ("image/png", "image/jpeg")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_repository(request: Request) -> ModelRepository:
    return request.app.state.models


async def get_model(request: Request) -> ServedModel:
    """The default model (MODEL_NAME), whichever version serves now."""
    return request.app.state.models.default


async def get_batcher(request: Request) -> MicroBatcher:
    models: ModelRepository = request.app.state.models
    return models.batcher(models.default_name)


async def get_chosen_slot(
    request: Request,
    model: Annotated[
        str | None, Query(description="Which model answers (GET /v2/models lists them); the default model when absent.")
    ] = None,
) -> Slot:
    """The model named by ?model=NAME (the default one without it); 404 listing the names for an unknown one."""
    models: ModelRepository = request.app.state.models
    try:
        return models.slot(models.default_name if model is None else model)
    except UnknownModelError as err:
        raise HTTPException(404, str(err)) from None


async def get_feedback_store(request: Request) -> FeedbackStore:
    return request.app.state.feedback_store


async def get_rate_limiter(request: Request) -> TokenBuckets:
    return request.app.state.feedback_limiter


async def get_heavy_work(request: Request) -> HeavyWork:
    return HeavyWork(request.app.state.heavy_work_limiter)


class HeavyWork:
    """Runs CPU-heavy work (a big batch, a photo) in a worker thread, a few at a time per process.

    The event loop keeps answering other requests meanwhile. The limit bounds memory: a queued
    request holds only its raw body, not the Python lists and arrays that parsing it makes.
    """

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        self.limiter = limiter

    async def run(self, work: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(work, limiter=self.limiter)


def media_type(request: Request) -> str | None:
    """The request's Content-Type without parameters, lower case; None when absent."""
    header = request.headers.get("content-type")
    return header.split(";", 1)[0].strip().lower() if header is not None else None


def is_json(media: str | None) -> bool:
    # no Content-Type at all is read as JSON, as FastAPI does; a declared other type is refused
    return media is None or media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def body_too_large(text: str) -> HTTPException:
    # the unread rest of the body makes the connection unusable for another request
    return HTTPException(413, text, headers={"Connection": "close"})


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, or HTTPException 413 as soon as it is known to be over max_bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise body_too_large(f"the request body ({declared} bytes) is over the limit of {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise body_too_large(f"the request body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def get_image_body(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> bytes:
    """The raw bytes of a PNG or JPEG upload; 415 for any other declared type (checked before reading)."""
    media = media_type(request)
    if media not in IMAGE_TYPES:
        raise HTTPException(
            415, f"send the picture as image/png or image/jpeg (raw bytes, not multipart), not {media or 'no Content-Type'}"
        )
    return await read_body(request, settings.body_max_bytes)


async def get_json_body(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> bytes:
    """The raw bytes of a body declared as JSON (or not declared at all); 415 for any other type."""
    media = media_type(request)
    if not is_json(media):
        raise HTTPException(415, f"send the body as application/json, not {media}")
    return await read_body(request, settings.body_max_bytes)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelDep = Annotated[ServedModel, Depends(get_model)]
RepositoryDep = Annotated[ModelRepository, Depends(get_repository)]
ChosenSlot = Annotated[Slot, Depends(get_chosen_slot)]
BatcherDep = Annotated[MicroBatcher, Depends(get_batcher)]
HeavyWorkDep = Annotated[HeavyWork, Depends(get_heavy_work)]
ImageBody = Annotated[bytes, Depends(get_image_body)]
JsonBody = Annotated[bytes, Depends(get_json_body)]
FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
RateLimiterDep = Annotated[TokenBuckets, Depends(get_rate_limiter)]
