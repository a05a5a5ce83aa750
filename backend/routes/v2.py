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

from typing import Any

from fastapi import APIRouter, Request, Response

from backend.inference import ServedModel
from backend.payloads import N_PIXELS, PayloadError, error, field_of, flat_to_matrix, json_type, parse_json, rows_to_matrix
from backend.routes.common import is_json, json_response, media_type, run_heavy, served_model, settings_of
from backend.schemas import EXAMPLE_PIXELS, InferenceRequest, InferenceResponse, ModelMetadata, ServerMetadata, V2Error, json_body
from backend.settings import SERVICE_NAME, SERVICE_VERSION

router = APIRouter(prefix="/v2", tags=["v2 inference protocol"])

INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"
DATATYPE = "FP32"
V2_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A malformed request; the message says what is wrong.", "model": V2Error},
    404: {"description": "No model of that name and version.", "model": V2Error},
    413: {"description": "The body is over BODY_MAX_BYTES.", "model": V2Error},
    415: {"description": "The body is not declared as JSON.", "model": V2Error},
}


def v2_error(message: str, status_code: int = 400) -> Response:
    return json_response({"error": message}, status_code)


def find_model(request: Request, name: str, version: str | None) -> ServedModel | None:
    """The served model if `name` (and `version`, when given) designate it."""
    model = served_model(request)
    if name != settings_of(request).model_name or (version is not None and version != model.model_id):
        return None
    return model


def not_found(request: Request, name: str, version: str | None) -> Response:
    served = f"{settings_of(request).model_name!r} (version {served_model(request).model_id!r})"
    asked = repr(name) if version is None else f"{name!r} version {version!r}"
    return v2_error(f"no model {asked}; this server serves {served}", 404)


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
async def model_metadata(request: Request, name: str) -> Response:
    return metadata(request, name, None)


@router.get("/models/{name}/versions/{version}", summary="Model metadata (one version)", response_model=ModelMetadata, responses={404: V2_ERRORS[404]})
async def model_version_metadata(request: Request, name: str, version: str) -> Response:
    return metadata(request, name, version)


def metadata(request: Request, name: str, version: str | None) -> Response:
    model = find_model(request, name, version)
    if model is None:
        return not_found(request, name, version)
    return json_response(
        {
            "name": name,
            "versions": [model.model_id],
            "platform": "numpy-mlp",
            "inputs": [{"name": INPUT_NAME, "datatype": DATATYPE, "shape": [-1, N_PIXELS]}],
            "outputs": [{"name": OUTPUT_NAME, "datatype": DATATYPE, "shape": [-1, 10]}],
        }
    )


@router.get("/models/{name}/ready", summary="200 if the model is ready", response_class=Response, responses={404: V2_ERRORS[404]})
async def model_ready(request: Request, name: str) -> Response:
    return readiness(request, name, None)


@router.get("/models/{name}/versions/{version}/ready", summary="200 if this version is ready", response_class=Response, responses={404: V2_ERRORS[404]})
async def model_version_ready(request: Request, name: str, version: str) -> Response:
    return readiness(request, name, version)


def readiness(request: Request, name: str, version: str | None) -> Response:
    if find_model(request, name, version) is None:
        return not_found(request, name, version)
    return Response(status_code=200)


INFER_EXAMPLE = {"id": "42", "inputs": [{"name": INPUT_NAME, "shape": [1, N_PIXELS], "datatype": DATATYPE, "data": EXAMPLE_PIXELS}]}
INFER_DOC = dict(
    response_model=InferenceResponse,
    responses=V2_ERRORS,
    openapi_extra=json_body(InferenceRequest, INFER_EXAMPLE),
    description="One input tensor `input`, FP32, shape [B, 784] with 1 <= B <= BATCH_MAX, data row-major (flat, "
    "or one array of 784 per image), values in [0, 1] (0 = background, 1 = ink). Returns `probabilities`, FP32 [B, 10].",
)


@router.post("/models/{name}/infer", summary="Inference", **INFER_DOC)
async def infer(request: Request, name: str) -> Response:
    return await inference(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", summary="Inference (one version)", **INFER_DOC)
async def infer_version(request: Request, name: str, version: str) -> Response:
    return await inference(request, name, version)


async def inference(request: Request, name: str, version: str | None) -> Response:
    model = find_model(request, name, version)
    if model is None:
        return not_found(request, name, version)
    media = media_type(request)
    if not is_json(media):
        return v2_error(f"send the request as application/json, not {media}", 415)
    body = await request.body()
    batch_max = settings_of(request).batch_max

    def run() -> dict[str, Any]:
        request_id, images = read_infer_request(body, batch_max)
        probabilities = model.predict(images).probabilities
        response: dict[str, Any] = {"model_name": name, "model_version": model.model_id}
        if request_id is not None:
            response["id"] = request_id
        response["outputs"] = [{"name": OUTPUT_NAME, "shape": list(probabilities.shape), "datatype": DATATYPE, "data": probabilities.ravel()}]
        return response

    try:
        return json_response(await run_heavy(request, run))
    except PayloadError as err:
        return v2_error(str(err))


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
        raise PayloadError([error("value_error", (*loc, "name"), f"unknown input {tensor['name']!r}; the model's input is {INPUT_NAME!r}")])
    if tensor["datatype"] != DATATYPE:
        raise PayloadError([error("value_error", (*loc, "datatype"), f"datatype must be {DATATYPE!r}, got {tensor['datatype']!r}")])
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
    if not (isinstance(shape, list) and len(shape) == 2 and all(type(n) is int for n in shape) and shape[1] == N_PIXELS):
        raise PayloadError([error("value_error", loc, f"shape must be [B, {N_PIXELS}] (B images of 28x28 pixels), got {shape!r}")])
    if not 1 <= shape[0] <= batch_max:
        raise PayloadError([error("value_error", loc, f"the batch size must be 1 to {batch_max}, got {shape[0]}")])
    return shape[0]


def check_requested_outputs(outputs: Any) -> None:
    if outputs is None:
        return
    if not isinstance(outputs, list) or not all(isinstance(o, dict) and o.get("name") == OUTPUT_NAME for o in outputs):
        raise PayloadError([error("value_error", ("body", "outputs"), f"the model's only output is {OUTPUT_NAME!r}")])
