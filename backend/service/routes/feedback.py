"""POST /feedback, GET /feedback/stats and the admin route GET /feedback/rows: corrections from people.

POST answers 201 {"id"} only once the row is committed (the store's transaction has returned), so a
client that got its 201 may forget the correction. Before anything is parsed, a per-client token
bucket (FEEDBACK_RATE, FEEDBACK_BURST) answers 429 with Retry-After; the table's cap
(FEEDBACK_MAX_ROWS) answers 507. A database that cannot be written answers 503 with Retry-After:
feedback is off for the moment while /predict, which never touches the database, goes on serving.
The database work runs in the thread pool, so a slow commit never holds up the event loop.

`admin_router` (raw rows, for scripts/export_feedback.py) is only mounted when ADMIN_TOKEN is set;
the token is compared in constant time. Left out: parsing (feedback/request.py), SQL (feedback/store.py).
"""

from __future__ import annotations

import logging
import math
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from backend.nn.shapes import N_INPUTS
from backend.service.dependencies import (
    FeedbackStoreDep,
    ModelDep,
    RateLimiterDep,
    is_json,
    media_type,
    read_body,
    require_admin,
)
from backend.service.feedback.request import read_feedback
from backend.service.feedback.store import StoreFull, StoreUnavailable
from backend.service.routes.common import ERROR_RESPONSES, json_response
from backend.service.schemas import (
    EXAMPLE_PIXELS,
    POINTS_PER_STROKE_MAX,
    STROKES_MAX,
    FeedbackCreated,
    FeedbackRequest,
    FeedbackRows,
    FeedbackStats,
    Message,
    json_body,
)
from backend.service.settings import BODY_HEADROOM_BYTES, BYTES_PER_NUMBER
from backend.service.telemetry import CORRECTIONS

logger = logging.getLogger(__name__)

RETRY_AFTER_UNAVAILABLE_S = 5
ROWS_PAGE_MAX = 1000

# the largest legal body: 784 pixels and the most strokes allowed, every number written at its longest
FEEDBACK_BODY_MAX_BYTES = (N_INPUTS + STROKES_MAX * POINTS_PER_STROKE_MAX * 2) * BYTES_PER_NUMBER + BODY_HEADROOM_BYTES

router = APIRouter(tags=["feedback"])
admin_router = APIRouter(tags=["admin"])


def unavailable(err: StoreUnavailable) -> HTTPException:
    logger.warning("feedback refused: %s", err)
    return HTTPException(
        503, "corrections cannot be stored right now; please try again later", headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)}
    )


async def rate_limited(request: Request, limiter: RateLimiterDep) -> None:
    """429 with Retry-After once this client's bucket is empty; checked before the body is read."""
    wait_s = limiter.take(request.client.host if request.client else "unknown")
    if wait_s > 0:
        raise HTTPException(
            429, "too many corrections from this client; please slow down", headers={"Retry-After": str(max(1, math.ceil(wait_s)))}
        )


async def feedback_body(request: Request) -> bytes:
    """The raw JSON body, refused (413) past FEEDBACK_BODY_MAX_BYTES: far below the cap of the batch routes."""
    media = media_type(request)
    if not is_json(media):
        raise HTTPException(415, f"send the body as application/json, not {media}")
    return await read_body(request, FEEDBACK_BODY_MAX_BYTES)


@router.post(
    "/feedback",
    status_code=201,
    summary="Store a correction: what the drawing really is",
    description="Body: the 784 pixels sent to /predict, the digit it really is (`label`), the model's answer "
    "(`predicted`), optionally the model's id and the pen strokes. Answers once the row is committed. Stored: the "
    "28x28 drawing, the strokes, the labels, the model id and a timestamp; nothing about the sender.",
    response_model=FeedbackCreated,
    responses={
        **ERROR_RESPONSES,
        413: {"description": "The body is over the most a correction with every stroke allowed can take.", "model": Message},
        429: {"description": "This client sent too many corrections; try again after Retry-After seconds.", "model": Message},
        503: {"description": "The database cannot be written right now; /predict still works.", "model": Message},
        507: {"description": "The feedback table is full (FEEDBACK_MAX_ROWS).", "model": Message},
    },
    openapi_extra=json_body(FeedbackRequest, {"pixels": EXAMPLE_PIXELS, "label": 1, "predicted": 7, "model_id": "mlp-0123456789ab"}),
)
async def add_feedback(
    _: Annotated[None, Depends(rate_limited)],  # first: FastAPI resolves dependencies in order, so before the body is read
    body: Annotated[bytes, Depends(feedback_body)],
    model: ModelDep,
    store: FeedbackStoreDep,
) -> Response:
    correction = read_feedback(body, model.model_id)
    try:
        row_id = await anyio.to_thread.run_sync(store.add, correction)
    except StoreUnavailable as err:
        raise unavailable(err) from None
    except StoreFull as err:
        raise HTTPException(507, str(err)) from None
    CORRECTIONS.labels(label=str(correction.label)).inc()
    return json_response({"id": row_id}, status_code=201)


@router.get(
    "/feedback/stats",
    summary="How many corrections, by digit, and how often the model was right",
    response_model=FeedbackStats,
    responses={503: {"description": "The database cannot be read right now.", "model": Message}},
)
async def feedback_stats(store: FeedbackStoreDep) -> Response:
    try:
        return json_response(await anyio.to_thread.run_sync(store.stats))
    except StoreUnavailable as err:
        raise unavailable(err) from None


@admin_router.get(
    "/feedback/rows",
    summary="The stored corrections, raw, a page at a time (admin)",
    description="Rows with id > after_id, in id order, at most `limit`. Needs `Authorization: Bearer <ADMIN_TOKEN>`.",
    response_model=FeedbackRows,
    responses={401: {"description": "No or wrong admin token.", "model": Message}},
    dependencies=[Depends(require_admin)],
)
async def feedback_rows(
    store: FeedbackStoreDep,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=ROWS_PAGE_MAX)] = ROWS_PAGE_MAX,
) -> Response:
    try:
        rows = await anyio.to_thread.run_sync(lambda: store.rows(after_id, limit))
    except StoreUnavailable as err:
        raise unavailable(err) from None
    return json_response({"rows": [row.as_dict() for row in rows]})
