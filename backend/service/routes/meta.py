"""GET /health and GET /model: is the service up, and what model does it serve."""

from __future__ import annotations

from fastapi import APIRouter, Response

from backend.service.dependencies import ChosenSlot, ModelDep
from backend.service.routes.common import MODEL_NOT_FOUND, json_response
from backend.service.schemas import Health, ModelCard

router = APIRouter(tags=["meta"])


@router.get(
    "/health",
    summary="Liveness and readiness",
    description="200 with the model's id. The app only starts serving once the weights are loaded and checked, "
    "so any answer here means ready.",
    response_model=Health,
)
async def health(model: ModelDep) -> Response:
    return json_response({"status": "ok", "model_id": model.model_id})


@router.get(
    "/model",
    summary="The model card",
    description="Architecture of each member network, parameter count, accuracy on MNIST's validation and test "
    "sets, the training recipe and the SHA-256 of the weights file, as written beside the weights at training time. "
    "`?model=NAME` picks a model of the repository (GET /v2/models); its `model_id` is the version that answers now.",
    response_model=ModelCard,
    responses=MODEL_NOT_FOUND,
)
async def model_card(slot: ChosenSlot) -> Response:
    return json_response(slot.served.card)
