"""The V2 / Open Inference Protocol (KServe, Triton), so existing inference clients can call the model.

Served: server metadata (GET /v2), liveness and readiness (GET /v2/health/live, /v2/health/ready),
model metadata and readiness (GET /v2/models/{name}[/versions/{version}][/ready]) and inference
(POST /v2/models/{name}[/versions/{version}]/infer) with JSON tensors. The model's name is the
MODEL_NAME setting ("mnist"); its one version is the card's model_id. It takes one input, "input",
FP32 [-1, 784] (row-major data, flat or one array per image, values in [0, 1]) and gives one output,
"probabilities", FP32 [-1, 10]. Errors are {"error": "..."} with 400 (404 for an unknown model), as
the protocol says. Left out: the binary tensor extension, model repository calls, and statistics.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response

from backend.nn.shapes import N_CLASSES, N_INPUTS
from backend.service.dependencies import HeavyWork, HeavyWorkDep, JsonBody, ModelDep, SettingsDep
from backend.service.errors import protocol_route
from backend.service.payloads import (
    PayloadError,
    brief,
    error,
    field_of,
    flat_to_matrix,
    json_type,
    parse_json,
    rows_to_matrix,
)
from backend.service.routes.common import json_response
from backend.service.schemas import (
    EXAMPLE_PIXELS,
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ServerMetadata,
    V2Error,
    json_body,
)
from backend.service.served_model import ServedModel
from backend.service.settings import SERVICE_NAME, SERVICE_VERSION, Settings

INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"
DATATYPE = "FP32"
V2_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A malformed request; the message says what is wrong.", "model": V2Error},
    404: {"description": "No model of that name and version.", "model": V2Error},
    413: {"description": "The body is over BODY_MAX_BYTES.", "model": V2Error},
    415: {"description": "The body is not declared as JSON.", "model": V2Error},
    503: {
        "description": "The worker holds BUFFERED_MAX_BYTES of request bodies already: retry after Retry-After seconds.",
        "model": V2Error,
    },
}


def v2_error(status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The protocol's error body: {"error": message}."""
    return json_response({"error": message}, status_code, headers)


# every error raised in these routes (404, 413, 415, a malformed body) is answered as {"error"}
router = APIRouter(prefix="/v2", tags=["v2 inference protocol"], route_class=protocol_route(v2_error))


def find_model(model: ServedModel, settings: Settings, name: str, version: str | None) -> ServedModel:
    """The served model if `name` (and `version`, when given) designate it; else HTTPException 404."""
    if name == settings.model_name and (version is None or version == model.model_id):
        return model
    served = f"{settings.model_name!r} (version {model.model_id!r})"
    asked = brief(name) if version is None else f"{brief(name)} version {brief(version)}"
    raise HTTPException(404, f"no model {asked}; this server serves {served}")


async def get_named_model(name: str, model: ModelDep, settings: SettingsDep) -> ServedModel:
    return find_model(model, settings, name, None)


async def get_versioned_model(name: str, version: str, model: ModelDep, settings: SettingsDep) -> ServedModel:
    return find_model(model, settings, name, version)


# two dependencies, not one with an optional version: that would make `version` a query parameter
NamedModel = Annotated[ServedModel, Depends(get_named_model)]
VersionedModel = Annotated[ServedModel, Depends(get_versioned_model)]


@router.get("", summary="Server metadata", response_model=ServerMetadata)
async def server_metadata() -> Response:
    return json_response({"name": SERVICE_NAME, "version": SERVICE_VERSION, "extensions": []})


@router.get("/health/live", summary="200 while the server process runs", status_code=200, response_class=Response)
async def live() -> Response:
    return Response(status_code=200)


@router.get("/health/ready", summary="200 once the model is loaded (always, once serving)", status_code=200, response_class=Response)
async def ready() -> Response:
    return Response(status_code=200)


@router.get("/models/{name}", summary="Model metadata", response_model=ModelMetadata, responses={404: V2_ERRORS[404]})
async def model_metadata(name: str, model: NamedModel) -> Response:
    return metadata(name, model)


@router.get(
    "/models/{name}/versions/{version}",
    summary="Model metadata (one version)",
    response_model=ModelMetadata,
    responses={404: V2_ERRORS[404]},
)
async def model_version_metadata(name: str, model: VersionedModel) -> Response:
    return metadata(name, model)


def metadata(name: str, model: ServedModel) -> Response:
    return json_response(
        {
            "name": name,
            "versions": [model.model_id],
            "platform": "numpy-mlp",
            "inputs": [{"name": INPUT_NAME, "datatype": DATATYPE, "shape": [-1, N_INPUTS]}],
            "outputs": [{"name": OUTPUT_NAME, "datatype": DATATYPE, "shape": [-1, N_CLASSES]}],
        }
    )


@router.get("/models/{name}/ready", summary="200 if the model is ready", response_class=Response, responses={404: V2_ERRORS[404]})
async def model_ready(model: NamedModel) -> Response:
    return Response(status_code=200)


@router.get(
    "/models/{name}/versions/{version}/ready",
    summary="200 if this version is ready",
    response_class=Response,
    responses={404: V2_ERRORS[404]},
)
async def model_version_ready(model: VersionedModel) -> Response:
    return Response(status_code=200)


INFER_EXAMPLE = {"id": "42", "inputs": [{"name": INPUT_NAME, "shape": [1, N_INPUTS], "datatype": DATATYPE, "data": EXAMPLE_PIXELS}]}
INFER_DOC = dict(
    response_model=InferenceResponse,
    responses=V2_ERRORS,
    openapi_extra=json_body(InferenceRequest, INFER_EXAMPLE),
    description="One input tensor `input`, FP32, shape [B, 784] with 1 <= B <= BATCH_MAX, data row-major (flat, "
    "or one array of 784 per image), values in [0, 1] (0 = background, 1 = ink). Returns `probabilities`, FP32 [B, 10].",
)


@router.post("/models/{name}/infer", summary="Inference", **INFER_DOC)
async def infer(name: str, model: NamedModel, body: JsonBody, settings: SettingsDep, heavy_work: HeavyWorkDep) -> Response:
    return await inference(name, model, body, settings.batch_max, heavy_work)


@router.post("/models/{name}/versions/{version}/infer", summary="Inference (one version)", **INFER_DOC)
async def infer_version(name: str, model: VersionedModel, body: JsonBody, settings: SettingsDep, heavy_work: HeavyWorkDep) -> Response:
    return await inference(name, model, body, settings.batch_max, heavy_work)


async def inference(name: str, model: ServedModel, body: bytes, batch_max: int, heavy_work: HeavyWork) -> Response:
    def run() -> dict[str, Any]:
        request_id, images = heavy_work.parse(read_infer_request, body, batch_max)
        probabilities = model.predict(images).probabilities
        response: dict[str, Any] = {"model_name": name, "model_version": model.model_id}
        if request_id is not None:
            response["id"] = request_id
        response["outputs"] = [
            {"name": OUTPUT_NAME, "shape": list(probabilities.shape), "datatype": DATATYPE, "data": probabilities.ravel()}
        ]
        return response

    return json_response(await heavy_work.run(run))


def read_infer_request(body: bytes, batch_max: int) -> tuple[str | None, Any]:
    """Body of an infer call -> (its id or None, images (B, 784) float32); PayloadError if malformed."""
    payload = parse_json(body)
    example = '{"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", "data": [...]}]}'
    inputs = field_of(payload, "inputs", example)
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise PayloadError([error("string_type", ("body", "id"), f"id must be a string, got {json_type(request_id)}")])
    if not isinstance(inputs, list) or len(inputs) != 1:
        raise PayloadError([error("list_type", ("body", "inputs"), f"the model takes exactly one input tensor, {INPUT_NAME!r}")])
    check_requested_outputs(payload.get("outputs"))
    tensor, loc = inputs[0], ("body", "inputs", 0)
    if not isinstance(tensor, dict):
        raise PayloadError([error("model_attributes_type", loc, f"an input tensor is an object like {example}")])
    missing = [key for key in ("name", "shape", "datatype", "data") if key not in tensor]
    if missing:
        raise PayloadError([error("missing", (*loc, missing[0]), f"the input tensor lacks {', '.join(missing)}")])
    if tensor["name"] != INPUT_NAME:
        raise PayloadError(
            [error("value_error", (*loc, "name"), f"unknown input {brief(tensor['name'])}; the model's input is {INPUT_NAME!r}")]
        )
    if tensor["datatype"] != DATATYPE:
        raise PayloadError([error("value_error", (*loc, "datatype"), f"datatype must be {DATATYPE!r}, got {brief(tensor['datatype'])}")])
    parameters = tensor.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise PayloadError([error("dict_type", (*loc, "parameters"), f"parameters must be an object, got {json_type(parameters)}")])
    if "binary_data_size" in (parameters or {}):
        raise PayloadError([error("value_error", (*loc, "parameters"), "the binary tensor extension is not supported: send data as JSON")])
    n_images = check_shape(tensor["shape"], (*loc, "shape"), batch_max)
    data = tensor["data"]
    if not isinstance(data, list):
        raise PayloadError([error("list_type", (*loc, "data"), f"data must be an array of numbers, got {json_type(data)}")])
    maybe_booleans = b"true" in body or b"false" in body  # keys here hold 't' and 'f', so look for the words
    if data and isinstance(data[0], list):  # one array per image
        if len(data) != n_images:
            raise PayloadError([error("value_error", (*loc, "data"), f"holds {len(data)} images; shape says {n_images}")])
        return request_id, rows_to_matrix(data, lambda i: (*loc, "data", i), maybe_booleans)
    return request_id, flat_to_matrix(data, n_images, (*loc, "data"), maybe_booleans)


def check_shape(shape: Any, loc: tuple, batch_max: int) -> int:
    """Shape must be [B, 784] with 1 <= B <= batch_max; returns B."""
    if not (isinstance(shape, list) and len(shape) == 2 and all(type(n) is int for n in shape) and shape[1] == N_INPUTS):
        raise PayloadError([error("value_error", loc, f"shape must be [B, {N_INPUTS}] (B images of 28x28 pixels), got {brief(shape)}")])
    if not 1 <= shape[0] <= batch_max:
        raise PayloadError([error("value_error", loc, f"the batch size must be 1 to {batch_max}, got {shape[0]}")])
    return shape[0]


def check_requested_outputs(outputs: Any) -> None:
    if outputs is None:
        return
    if not isinstance(outputs, list) or not all(isinstance(o, dict) and o.get("name") == OUTPUT_NAME for o in outputs):
        raise PayloadError([error("value_error", ("body", "outputs"), f"the model's only output is {OUTPUT_NAME!r}")])
