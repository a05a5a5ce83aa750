"""POST /predict's well-formed requests, answered without FastAPI's routing; everything else goes the usual way.

One digit is the request the page sends on every stroke, and what the service adds to the model's
own work is mostly the framework's per-request machinery (the router, Request and Response objects,
the exception layers), not the route's few lines. So this middleware answers a /predict that is
plainly fine, by the very calls the route makes (read_pixels, the model's micro-batcher, orjson):
a JSON body under the digit cap, 784 pixels in [0, 1] with some ink, the default model or a
`?model=` that names one. Anything else (a missing or odd header, a bad body, an unknown model, a
disconnect, a full body budget) is handed to the app with what was read of the body replayed, so the
route (routes/predict.py) answers it exactly as it would have, and stays the one place where /predict's
rules and errors are written. The answers are the same either way: tests/service/test_fast_lane.py
compares them.

It sits inside the metrics and security-header middleware (so both see its answers) and sets
scope["route"] as the router would, so the metrics label it /predict. What it leaves out: every other
route, and the page's static files.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from fastapi import HTTPException
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.service.dependencies import DIGIT_BODY_MAX_BYTES, is_json
from backend.service.payloads import PayloadError, read_pixels
from backend.service.repository import ModelRepository, Slot

PATH = "/predict"


class PredictFastLane:
    """ASGI middleware: answers the plain POST /predict itself (see the module docstring), passes the rest on."""

    def __init__(self, app: ASGIApp, route: APIRoute) -> None:
        self.app = app
        self.route = route  # the APIRoute of POST /predict, for the metrics' label and the route's own rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        models: ModelRepository = scope["app"].state.models
        slot = slot_asked_for(models, scope["query_string"])
        declared = declared_json_length(scope["headers"])
        if slot is None or declared is None:
            await self.app(scope, receive, send)
            return
        budget = scope["app"].state.body_budget
        try:
            budget.take(declared)
        except HTTPException:  # the route refuses it with the same 503
            await self.app(scope, receive, send)
            return
        try:
            received, body = await read_declared_body(receive, declared)
            pixels = read_pixels(body) if body is not None else None
        except PayloadError:
            pixels = None
        finally:
            budget.give_back(declared)
        if pixels is None or not pixels.any():
            await self.app(scope, replaying(received, receive), send)
            return
        scope["route"] = self.route
        answer = orjson.dumps(await slot.batcher.predict(pixels), option=orjson.OPT_SERIALIZE_NUMPY)
        headers = [(b"content-length", str(len(answer)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def slot_asked_for(models: ModelRepository, query_string: bytes) -> Slot | None:
    """The model asked for: the default without a query, the one `?model=NAME` names; None for any other query."""
    if not query_string:
        return models.slot(models.default_name)
    query = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(query) == 1 and query[0][0] == "model" and query[0][1] in models.names:
        return models.slot(query[0][1])
    return None


def declared_json_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length of a JSON body no longer than a digit's cap; None when either is not so."""
    length, media = None, None
    for name, value in headers:
        if name == b"content-length":
            length = value
        elif name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower().decode("latin-1")
        elif name == b"transfer-encoding" or name == b"content-encoding":
            return None  # a chunked or compressed body: the route's reader knows those
    if length is None or not length.isdigit() or int(length) > DIGIT_BODY_MAX_BYTES or not is_json(media):
        return None
    return int(length)


async def read_declared_body(receive: Receive, declared: int) -> tuple[list[Message], bytes | None]:
    """Every message received, and the body when it arrived whole at its declared length (else None)."""
    received: list[Message] = []
    chunks, size = [], 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > declared:
            return received, None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return received, b"".join(chunks) if size == declared else None


def replaying(received: list[Message], receive: Receive) -> Receive:
    """A receive() that gives the messages already read again, then reads on."""
    pending = list(received)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
