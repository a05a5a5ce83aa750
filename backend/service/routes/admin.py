"""POST /admin/reload: check the model folder now and swap in new weights (the same as the folder watch, at once).

The caller must send `Authorization: Bearer <ADMIN_TOKEN>`; the token is compared in constant time.
Without ADMIN_TOKEN set, the route (and V2's load call: both use dependencies.require_admin) answers 403. The
reload runs in the worker that received the call and answers what it did there; the other workers
see the same files changed and follow within RELOAD_POLL_S (repository.py). What this module leaves
out: the checks themselves (repository.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel

from backend.service.dependencies import RepositoryDep, SettingsDep, require_admin
from backend.service.routes.common import json_response
from backend.service.schemas import Message


class ReloadResult(BaseModel):
    loaded: dict[str, str]
    unchanged: list[str]
    refused: dict[str, str]


router = APIRouter(tags=["admin"])


@router.post(
    "/admin/reload",
    summary="Check the model folder and swap in new weights (needs ADMIN_TOKEN)",
    description="Every model whose files changed (or that gained a newer version folder) is checked (card, SHA-256, shapes, "
    "a smoke test on built-in sample digits) and swapped in; a refused one keeps its old weights serving. 200 says what happened, "
    "by model name. `?model=NAME` checks one model only.",
    response_model=ReloadResult,
    responses={
        401: {"description": "No bearer token, or a wrong one.", "model": Message},
        403: {"description": "ADMIN_TOKEN is not set.", "model": Message},
        404: {"description": "No model of that name.", "model": Message},
    },
)
async def reload_models(
    request: Request,
    models: RepositoryDep,
    settings: SettingsDep,
    model: Annotated[str | None, Query(description="Only this model.")] = None,
) -> Response:
    await require_admin(request, settings)
    if model is not None and model not in models.names:
        raise HTTPException(404, f"no model {model!r}; this server serves {', '.join(map(repr, models.names))}")
    report = await models.refresh(model)
    return json_response({"loaded": report.loaded, "unchanged": report.unchanged, "refused": report.refused})
