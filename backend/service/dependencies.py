"""What a route handler needs from the running app, as typed FastAPI dependencies.

    async def predict(body: JsonBody, batcher: BatcherDep) -> Response: ...

The model repository (its default model, or the one a request names with ?model=), the settings, the micro-batcher and the heavy-work limiter are made once by the
app's lifespan (app.py) and kept on `app.state`; these dependencies hand them to handlers so that no
handler reads `app.state` itself. Every dependency here is `async def`: FastAPI runs a plain `def`
dependency in its thread pool, which would cost a thread hop per request.

The request body is a dependency too: `read_body` reads it under the route's cap (a declared
Content-Length over the cap is refused before a byte is read; a body sent without one is cut at the
chunk that crosses it), `JsonBody` (a batch: BODY_MAX_BYTES) and `DigitJsonBody` (one digit: what 784
numbers need, with headroom) first require a JSON Content-Type, `ImageBody` a PNG or JPEG one.
Every body is held against the worker's BodyBudget (BUFFERED_MAX_BYTES, all in-flight requests
together) from before its first byte is read until its request is answered: a request that would
take the worker over it gets 503 with Retry-After, so memory stays bounded however many clients
start uploads and stall (the protocol's body timeout then cuts the stalled ones off). All raise
HTTPException, which each router's error boundary turns into its protocol's error shape (see errors.py).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, HTTPException, Query, Request
from starlette.requests import ClientDisconnect

from backend.service.batcher import MicroBatcher
from backend.service.feedback.ratelimit import TokenBuckets
from backend.service.feedback.store import FeedbackStore
from backend.service.offload import ParseHelper
from backend.service.repository import ModelRepository, Slot, UnknownModelError
from backend.service.served_model import ServedModel
from backend.service.settings import Settings, body_cap_for

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


MODEL_QUERY_HELP = "Which model answers (GET /v2/models lists them); the default model when absent."
ModelName = Annotated[str | None, Query(description=MODEL_QUERY_HELP)]
# the same query parameter as OpenAPI declares it, for a route that reads ?model= itself (POST /predict)
MODEL_PARAMETER = {"name": "model", "in": "query", "required": False, "description": MODEL_QUERY_HELP, "schema": {"type": "string"}}


def chosen_slot(request: Request, model: str | None) -> Slot:
    """The model named by ?model=NAME (the default one without it); 404 listing the names for an unknown one."""
    models: ModelRepository = request.app.state.models
    try:
        return models.slot(models.default_name if model is None else model)
    except UnknownModelError as err:
        raise HTTPException(404, str(err)) from None


async def get_chosen_slot(request: Request, model: ModelName = None) -> Slot:
    return chosen_slot(request, model)


async def require_admin(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> None:
    """HTTPException 403 when ADMIN_TOKEN is unset, 401 unless the request carries it as a bearer token
    (compared in constant time). For every admin route: reloads, V2 model control, the stored corrections."""
    expected = settings.admin_token.get_secret_value()
    if not expected:
        raise HTTPException(403, "admin routes are off: start the server with ADMIN_TOKEN set to use them")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise HTTPException(
            401, "this route needs the admin token: Authorization: Bearer <ADMIN_TOKEN>", headers={"WWW-Authenticate": "Bearer"}
        )


async def get_feedback_store(request: Request) -> FeedbackStore:
    return request.app.state.feedback_store


async def get_rate_limiter(request: Request) -> TokenBuckets:
    return request.app.state.feedback_limiter


async def get_heavy_work(request: Request) -> HeavyWork:
    return HeavyWork(request.app.state.heavy_work_limiter, request, request.app.state.parse_helper)


class HeavyWork:
    """Runs CPU-heavy work (a big batch, a photo) in a worker thread, a few at a time per process.

    The event loop keeps answering other requests meanwhile. The limit bounds memory: a queued
    request holds only its raw body, not the Python lists and arrays that parsing it makes.
    Work whose client has hung up is not started (ClientDisconnect, counted as 499 by the metrics);
    while it runs, `client_gone()` turns true once the client has gone, for work that can stop
    half-way (decoding a picture checks it at each read and between steps).
    """

    WATCH_INTERVAL_S = 0.05

    def __init__(self, limiter: anyio.CapacityLimiter, request: Request | None = None, parse_helper: ParseHelper | None = None) -> None:
        self.limiter = limiter
        self.request = request
        self.parse_helper = parse_helper or ParseHelper(min_bytes=2**63)  # none: everything parses in place
        self._gone = threading.Event()

    def parse(self, parser: Callable[..., T], body: bytes, *args: object) -> T:
        """parser(body, *args), in the parsing helper process if the body is large (offload.py); call it inside run()'s work."""
        return self.parse_helper.parse(parser, body, *args)

    def client_gone(self) -> bool:
        return self._gone.is_set()

    async def run(self, work: Callable[[], T]) -> T:
        async with self.limiter:
            if self.request is None:
                return await anyio.to_thread.run_sync(work)
            if await self.request.is_disconnected():
                raise ClientDisconnect
            return await self._run_watched(work, self.request)

    async def _run_watched(self, work: Callable[[], T], request: Request) -> T:
        # the work's own exception is carried out of the task group by hand: raised inside it, anyio
        # would wrap it in an ExceptionGroup that the error handlers do not know
        outcome: list[tuple[bool, Any]] = []

        def captured() -> None:
            try:
                outcome.append((True, work()))
            except Exception as err:
                outcome.append((False, err))

        async with anyio.create_task_group() as watching:
            watching.start_soon(self._watch, request)
            try:
                await anyio.to_thread.run_sync(captured)
            finally:
                watching.cancel_scope.cancel()
        succeeded, value = outcome[0]
        if not succeeded:
            raise value
        return value

    async def _watch(self, request: Request) -> None:
        while not await request.is_disconnected():
            await anyio.sleep(self.WATCH_INTERVAL_S)
        self._gone.set()


def media_type(request: Request) -> str | None:
    """The request's Content-Type without parameters, lower case; None when absent."""
    header = request.headers.get("content-type")
    return header.split(";", 1)[0].strip().lower() if header is not None else None


def is_json(media: str | None) -> bool:
    # no Content-Type is refused too: a cross-site form or fetch may send a body without one and no CORS preflight
    return media is not None and (media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json")))


class BodyBudget:
    """Bytes of request bodies one worker may hold at once, all in-flight requests together.

    Used only from the event loop's thread, so plain arithmetic needs no lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, n: int) -> None:
        """Hold n more bytes, or HTTPException 503 (Retry-After) if that would go over the limit."""
        if self.held + n > self.limit:
            raise HTTPException(
                503,
                f"the server is busy reading other requests ({self.held} of its {self.limit} bytes of buffer in use): retry shortly",
                headers={"Retry-After": "1", "Connection": "close"},
            )
        self.held += n

    def give_back(self, n: int) -> None:
        self.held -= n

    @asynccontextmanager
    async def holding(self, request: Request, max_bytes: int) -> AsyncIterator[bytes]:
        """The body read under max_bytes, held against this budget until the block ends."""
        held = [0]
        try:
            yield await read_body(request, max_bytes, self, held)
        finally:
            self.give_back(held[0])


def body_too_large(text: str) -> HTTPException:
    # the unread rest of the body makes the connection unusable for another request
    return HTTPException(413, text, headers={"Connection": "close"})


async def read_body(request: Request, max_bytes: int, budget: BodyBudget | None = None, held: list[int] | None = None) -> bytes:
    """The whole body, or HTTPException 413 as soon as it is known to be over max_bytes.

    With a budget, the declared length is taken from it before reading (503 if it cannot be), and
    bytes beyond it as they arrive; held[0] counts what was taken, for the caller to give back.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise body_too_large(f"the request body ({declared} bytes) is over the limit of {max_bytes} bytes")
    held = held if held is not None else [0]
    if budget is not None and declared.isdigit():
        budget.take(int(declared))
        held[0] += int(declared)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise body_too_large(f"the request body is over the limit of {max_bytes} bytes")
        if budget is not None and size > held[0]:
            budget.take(size - held[0])
            held[0] = size
        chunks.append(chunk)
    return b"".join(chunks)


async def get_body_budget(request: Request) -> BodyBudget:
    return request.app.state.body_budget


async def get_image_body(
    request: Request, settings: Annotated[Settings, Depends(get_settings)], budget: Annotated[BodyBudget, Depends(get_body_budget)]
) -> AsyncIterator[bytes]:
    """The raw bytes of a PNG or JPEG upload; 415 for any other declared type (checked before reading)."""
    media = media_type(request)
    if media not in IMAGE_TYPES:
        raise HTTPException(
            415, f"send the picture as image/png or image/jpeg (raw bytes, not multipart), not {media or 'no Content-Type'}"
        )
    async with budget.holding(request, settings.body_max_bytes) as body:
        yield body


def require_json(request: Request) -> None:
    media = media_type(request)
    if not is_json(media):
        raise HTTPException(415, f"send the body as application/json, not {media or 'without a Content-Type'}")


async def get_json_body(
    request: Request, settings: Annotated[Settings, Depends(get_settings)], budget: Annotated[BodyBudget, Depends(get_body_budget)]
) -> AsyncIterator[bytes]:
    """The raw bytes of a body declared as JSON, up to a batch's cap; 415 for any other type or none."""
    require_json(request)
    async with budget.holding(request, settings.body_max_bytes) as body:
        yield body


DIGIT_BODY_MAX_BYTES = body_cap_for(1)  # one digit's 784 numbers, written as long as a float can be, plus headroom


def digit_json_body(request: Request) -> AbstractAsyncContextManager[bytes]:
    """The raw bytes of a JSON body that carries one digit, held against the worker's budget while the block runs:
    capped at DIGIT_BODY_MAX_BYTES; 415 for any other type."""
    require_json(request)
    return request.app.state.body_budget.holding(request, DIGIT_BODY_MAX_BYTES)


async def get_digit_json_body(request: Request) -> AsyncIterator[bytes]:
    async with digit_json_body(request) as body:
        yield body


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
DigitJsonBody = Annotated[bytes, Depends(get_digit_json_body)]
