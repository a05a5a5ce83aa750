"""The V2 / Open Inference Protocol (KServe, Triton), so existing inference clients can call the model.

Served: server metadata (GET /v2), liveness and readiness (GET /v2/health/live -> {"live": true},
/v2/health/ready -> {"ready": true}), the model index (GET /v2/models, and Triton's POST
/v2/repository/index), model metadata and readiness (GET /v2/models/{name}[/versions/{version}][/ready]),
inference (POST /v2/models/{name}[/versions/{version}]/infer) and Triton's load call
(POST /v2/repository/models/{name}/load: re-check that model's folder and swap in new weights; it
needs ADMIN_TOKEN as a bearer token, see routes/admin.py). Every model of the repository
(repository.py) is served by its name; its one version is its card's model_id. Each takes one input,
"input", FP32 [-1, 784] (values in [0, 1]) and gives two outputs, "probabilities", FP32 [-1, 10]
(calibrated), and "is_digit", BOOL [-1] (false: not a digit at all).

Tensors travel as JSON ("data": row-major, flat or one array per image) or with Triton's binary tensor
extension: the body is the JSON header (Inference-Header-Content-Length bytes long) followed by each
input whose parameters say binary_data_size, as raw little-endian bytes; outputs come back the same
way when the request asks (parameters.binary_data_output, or binary_data on a requested output).
Errors are {"error": "..."} with 400 (404 for an unknown model or path), as the protocol says; that
includes a path under /v2 that is not one of these. Left out: unloading models, and statistics.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response

from backend.nn.shapes import N_CLASSES, N_INPUTS
from backend.service.bodies import OCTET_STREAM, InferBody, InferBodyDep
from backend.service.dependencies import HeavyWork, HeavyWorkDep, RepositoryDep, SettingsDep, require_admin
from backend.service.errors import protocol_route
from backend.service.repository import ModelRepository, UnknownModelError
from backend.service.routes.common import json_response
from backend.service.schemas import (
    EXAMPLE_PIXELS,
    InferenceRequest,
    InferenceResponse,
    LiveResponse,
    ModelMetadata,
    ModelReady,
    ReadyResponse,
    RepositoryEntry,
    ServerMetadata,
    V2Error,
    json_body,
)
from backend.service.served_model import ServedModel
from backend.service.settings import SERVICE_NAME, SERVICE_VERSION
from backend.service.v2_payloads import DATATYPE, FP32, INPUT_NAME, IS_DIGIT_NAME, OUTPUT_NAME, read_infer_request

EXTENSIONS = ["binary_tensor_data", "model_repository"]
V2_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A malformed request; the message says what is wrong.", "model": V2Error},
    404: {"description": "No model of that name and version.", "model": V2Error},
    413: {"description": "The body is over BODY_MAX_BYTES.", "model": V2Error},
    415: {"description": "The body is neither JSON nor application/octet-stream, or has an unknown Content-Encoding.", "model": V2Error},
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


def find_model(models: ModelRepository, name: str, version: str | None) -> ServedModel:
    """The model `name` (at `version`, when given); else HTTPException 404 listing what is served."""
    try:
        return models.get(name, version)
    except UnknownModelError as err:
        raise HTTPException(404, str(err)) from None


async def get_named_model(name: str, models: RepositoryDep) -> ServedModel:
    return find_model(models, name, None)


async def get_versioned_model(name: str, version: str, models: RepositoryDep) -> ServedModel:
    return find_model(models, name, version)


# two dependencies, not one with an optional version: that would make `version` a query parameter
NamedModel = Annotated[ServedModel, Depends(get_named_model)]
VersionedModel = Annotated[ServedModel, Depends(get_versioned_model)]


@router.get("", summary="Server metadata", response_model=ServerMetadata)
async def server_metadata() -> Response:
    return json_response({"name": SERVICE_NAME, "version": SERVICE_VERSION, "extensions": EXTENSIONS})


@router.get("/health/live", summary="200 while the server process runs", response_model=LiveResponse)
async def live() -> Response:
    return json_response({"live": True})


@router.get("/health/ready", summary="200 once the models are loaded (always, once serving)", response_model=ReadyResponse)
async def ready() -> Response:
    return json_response({"ready": True})


@router.get("/models", summary="The models served: names, versions, state", response_model=list[RepositoryEntry])
async def model_index(models: RepositoryDep) -> Response:
    return json_response(repository_index(models))


@router.post(
    "/repository/index", summary="The model repository index (Triton's repository extension)", response_model=list[RepositoryEntry]
)
async def repository_index_call(models: RepositoryDep) -> Response:
    # tritonclient posts an empty body, others {"ready": true}: every model here is loaded and ready either way
    return json_response(repository_index(models))


def repository_index(models: ModelRepository) -> list[dict[str, str]]:
    return [{"name": name, "version": models.get(name).model_id, "state": "READY"} for name in models.names]


@router.post(
    "/repository/models/{name}/load",
    summary="Re-check a model's folder and swap in new weights (needs ADMIN_TOKEN)",
    responses={
        400: {"description": "The new weights were refused; the old ones keep serving.", "model": V2Error},
        401: {"description": "No bearer token, or a wrong one.", "model": V2Error},
        403: {"description": "ADMIN_TOKEN is not set: model control is off.", "model": V2Error},
        404: V2_ERRORS[404],
    },
    dependencies=[Depends(require_admin)],
)
async def load_model(name: str, models: RepositoryDep) -> Response:
    if name not in models.names:
        find_model(models, name, None)  # the 404 listing the names
    report = await models.refresh(name)
    if name in report.refused:
        raise HTTPException(400, f"model {name!r}: the new weights were refused, the old ones keep serving: {report.refused[name]}")
    return json_response({})


@router.post(
    "/repository/models/{name}/unload", summary="Not supported: every model in the folder is served", responses={400: V2_ERRORS[400]}
)
async def unload_model(name: str) -> Response:
    raise HTTPException(400, "this server does not unload models: remove the model's folder and restart it")


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
            "outputs": [
                {"name": OUTPUT_NAME, "datatype": DATATYPE, "shape": [-1, N_CLASSES]},
                {"name": IS_DIGIT_NAME, "datatype": "BOOL", "shape": [-1]},
            ],
        }
    )


@router.get("/models/{name}/ready", summary="200 if the model is ready", response_model=ModelReady, responses={404: V2_ERRORS[404]})
async def model_ready(name: str, model: NamedModel) -> Response:
    return json_response({"name": name, "ready": True})


@router.get(
    "/models/{name}/versions/{version}/ready",
    summary="200 if this version is ready",
    response_model=ModelReady,
    responses={404: V2_ERRORS[404]},
)
async def model_version_ready(name: str, model: VersionedModel) -> Response:
    return json_response({"name": name, "ready": True})


INFER_EXAMPLE = {"id": "42", "inputs": [{"name": INPUT_NAME, "shape": [1, N_INPUTS], "datatype": DATATYPE, "data": EXAMPLE_PIXELS}]}
INFER_DOC = dict(
    response_model=InferenceResponse,
    responses=V2_ERRORS,
    openapi_extra=json_body(InferenceRequest, INFER_EXAMPLE),
    description="One input tensor `input`, FP32, shape [B, 784] with 1 <= B <= BATCH_MAX, data row-major (flat, "
    "or one array of 784 per image), values in [0, 1] (0 = background, 1 = ink). Returns `probabilities`, FP32 [B, 10] "
    "(calibrated), and `is_digit`, BOOL [B] (false: the image does not look like a digit); `outputs` may ask for either. "
    "Binary tensors (Triton's extension): send `Inference-Header-Content-Length: <bytes of JSON>`, the JSON with "
    '`"parameters": {"binary_data_size": B*784*4}` on the input instead of `data`, then the little-endian float32 '
    'pixels; ask for binary outputs with `"parameters": {"binary_data_output": true}` on the request.',
)


@router.post("/models/{name}/infer", summary="Inference", **INFER_DOC)
async def infer(name: str, model: NamedModel, body: InferBodyDep, settings: SettingsDep, heavy_work: HeavyWorkDep) -> Response:
    return await inference(name, model, body, settings.batch_max, heavy_work)


@router.post("/models/{name}/versions/{version}/infer", summary="Inference (one version)", **INFER_DOC)
async def infer_version(name: str, model: VersionedModel, body: InferBodyDep, settings: SettingsDep, heavy_work: HeavyWorkDep) -> Response:
    return await inference(name, model, body, settings.batch_max, heavy_work)


async def inference(name: str, model: ServedModel, body: InferBody, batch_max: int, heavy_work: HeavyWork) -> Response:
    def run() -> Response:
        # a large JSON body is parsed in the parsing helper process (offload.py), as /predict/batch's is
        request_id, images, wanted, binary_output = heavy_work.parse(read_infer_request, body.header, body.binary, batch_max)
        predictions = model.predict(images)
        response: dict[str, Any] = {"model_name": name, "model_version": model.model_id}
        if request_id is not None:
            response["id"] = request_id
        tensors = {  # name -> (values, datatype, NumPy type of its binary form)
            OUTPUT_NAME: (predictions.probabilities, DATATYPE, FP32),
            IS_DIGIT_NAME: (predictions.is_digit, "BOOL", np.dtype(np.bool_)),
        }
        outputs, raws = [], []
        for output in wanted:
            values, datatype, binary_type = tensors[output]
            entry: dict[str, Any] = {"name": output, "shape": list(values.shape), "datatype": datatype}
            if binary_output:
                raws.append(np.ascontiguousarray(values, dtype=binary_type).tobytes())
                entry["parameters"] = {"binary_data_size": len(raws[-1])}
            else:
                entry["data"] = values.ravel() if datatype == DATATYPE else values.tolist()
            outputs.append(entry)
        response["outputs"] = outputs
        if not binary_output:
            return json_response(response)
        header = orjson.dumps(response)
        return Response(header + b"".join(raws), media_type=OCTET_STREAM, headers={"Inference-Header-Content-Length": str(len(header))})

    return await heavy_work.run(run)


# Registered by the app after every other route (methods.add_method_fallbacks included), so it sees only
# paths that nothing else serves: a wrong method on a V2 path is the fallback's 405, already in {"error"}.
unknown_paths = APIRouter(prefix="/v2", route_class=protocol_route(v2_error), include_in_schema=False)


@unknown_paths.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def not_in_protocol(request: Request) -> Response:
    """Any other path under /v2: 404 as {"error"}, which V2 clients read."""
    raise HTTPException(404, f"{request.url.path} is not part of the V2 inference protocol served here (see GET /v2/models)")
