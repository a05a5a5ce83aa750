"""GET /health and GET /model: is the service up, and what model does it serve."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from backend.service.dependencies import ChosenSlot, ModelDep, SettingsDep
from backend.service.routes.common import MODEL_NOT_FOUND, json_response
from backend.service.schemas import Health, ModelCard

router = APIRouter(tags=["meta"])
# what the build used (interpreter and library versions, command lines and folders with local paths): shown
# only with MODEL_CARD_DETAILS=full, since they tell an attacker more than they tell a user
PRIVATE_CARD_FIELDS = ("versions", "command", "trained_as", "from", "fine_tuned_from")


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
    "`?model=NAME` picks a model of the repository (GET /v2/models); its `model_id` is the version that answers now. "
    "The software versions and training commands are shown only when the server is set to MODEL_CARD_DETAILS=full.",
    response_model=ModelCard,
    responses=MODEL_NOT_FOUND,
)
async def model_card(slot: ChosenSlot, settings: SettingsDep) -> Response:
    card = slot.served.card
    if settings.model_card_details == "full":
        return json_response(card)
    return json_response(without_private(card))


def without_private(value: Any) -> Any:
    """The card less PRIVATE_CARD_FIELDS at every depth: a fine-tune's `parent` and each origin in a mixed
    ensemble's `members_from` carry their own commands and folders."""
    if isinstance(value, dict):
        return {key: without_private(item) for key, item in value.items() if key not in PRIVATE_CARD_FIELDS}
    if isinstance(value, list):
        return [without_private(item) for item in value]
    return value
