"""POST /explain and GET /explain/weights/{member}/{unit}: what the network computed for one drawing.

/explain reads its body exactly as /predict does (DigitJsonBody, payloads.read_pixels: the same checks, the
same errors; ?model=NAME picks the model, as on /predict) and answers with backend.recognition.explain's Explanation: every layer's activations,
the per-pixel evidence for the answer against the runner-up, and the first-layer units that mattered
most with their weights. /explain/weights gives any first-layer unit's weights, for the page to show
the one a user taps. Each model's Explainer (float64 copies of the weights) is made on its first /explain
and kept on app.state until that model's weights change; explaining runs in the heavy-work thread, so the event loop keeps answering.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Request, Response

from backend.recognition.explain import Explainer
from backend.service.dependencies import ChosenSlot, DigitJsonBody, HeavyWorkDep
from backend.service.payloads import read_pixels
from backend.service.routes.common import ERROR_RESPONSES, json_response
from backend.service.schemas import EXAMPLE_PIXELS, Explanation, Message, PredictRequest, UnitWeights, json_body
from backend.service.served_model import ServedModel

router = APIRouter(tags=["explain"])


def explainer_for(request: Request, name: str, model: ServedModel) -> Explainer:
    """The app's Explainer for the model served as `name`, made on first use and again when its weights change."""
    explainers: dict[str, Explainer] | None = getattr(request.app.state, "explainers", None)
    if explainers is None:
        explainers = request.app.state.explainers = {}
    explainer = explainers.get(name)
    if explainer is None or explainer.model is not model.model:
        explainer = explainers[name] = Explainer(model.model)
    return explainer


@router.post(
    "/explain",
    summary="Look inside: activations, per-pixel evidence and the units that mattered, for one digit",
    description='Body: `{"pixels": [784 numbers]}`, as for /predict (same checks, same errors). Explains one network: '
    "the ensemble member most sure of the model's answer. `evidence[i]` is pixel i's share of "
    "`score_difference` (the member's score for `digit` minus its score for `runner_up`); for a ReLU network "
    "`sum(evidence) + bias == score_difference` exactly. Costs the model's forward pass and one backward pass.",
    response_model=Explanation,
    responses=ERROR_RESPONSES,
    openapi_extra=json_body(PredictRequest, {"pixels": EXAMPLE_PIXELS}),
)
async def explain(body: DigitJsonBody, request: Request, slot: ChosenSlot, heavy_work: HeavyWorkDep) -> Response:
    pixels = read_pixels(body)
    model = slot.served

    def work() -> dict[str, Any]:
        explainer = explainer_for(request, slot.name, model)
        result = explainer.explain(pixels[0])
        return {
            "digit": result.digit,
            "runner_up": result.runner_up,
            "probabilities": result.probabilities,
            "member": result.member,
            "members": len(model.model.members),
            "layer_sizes": list(model.model.members[result.member].config.layer_sizes),
            "activations": [layer.astype(np.float32) for layer in result.activations],
            "score_difference": result.score_difference,
            "evidence": result.evidence,  # float64: the parts must add up to 1e-4 of the whole on the client too
            "bias": result.bias,
            "exact": result.exact,
            "units": [
                {"index": u.index, "activation": u.activation, "contribution": u.contribution, "weights": u.weights} for u in result.units
            ],
        }

    return json_response(await heavy_work.run(work))


@router.get(
    "/explain/weights/{member}/{unit}",
    summary="A first-layer unit's incoming weights, as a 28x28 map",
    description="The weights W_unit(1) of network `member` (0-based, as /explain's `member`) and the unit's bias.",
    response_model=UnitWeights,
    responses={404: {"description": "No such model, network or unit.", "model": Message}},
)
async def unit_weights(
    member: Annotated[int, Path(ge=0, description="0-based network index")],
    unit: Annotated[int, Path(ge=0, description="0-based unit index in the first hidden layer")],
    slot: ChosenSlot,
) -> Response:
    members = slot.served.model.members
    if member >= len(members):
        raise HTTPException(404, f"no network {member}: the model has {len(members)} (0 to {len(members) - 1})")
    weights, biases = members[member].weights[0], members[member].biases[0]
    if unit >= len(weights):
        raise HTTPException(404, f"no unit {unit}: the first hidden layer has {len(weights)} (0 to {len(weights) - 1})")
    return json_response({"member": member, "layer": 1, "unit": unit, "bias": float(biases[unit]), "weights": weights[unit]})
