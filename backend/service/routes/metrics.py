"""GET /metrics: Prometheus' text exposition format (see backend/telemetry.py for what is counted)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend.service.telemetry import exposition

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)
