"""POST /predict, /predict/batch and /predict/image: a digit (or many) from pixels or from a picture.

The JSON routes read the raw body and hand it to payloads.py (orjson + whole-array checks) rather
than declaring a pydantic body: the checks are the same, the cost a fraction. A bad body raises
PayloadError, which the app's error handlers (errors.py) turn into FastAPI's usual 422 {"detail": [{"loc", "msg", "type"}]}.
Work that can take long (a big batch, decoding a photo) runs in the thread pool, so the event loop
keeps answering other requests meanwhile. A single digit is quicker to compute than to hand over: it
goes to the MicroBatcher (batcher.py), which runs concurrent single digits as one matrix. A plain
/predict is answered before it reaches this module, by fast_lane.py, with the same calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response

from backend.service.bodies import OCTET_STREAM, BatchBody
from backend.service.dependencies import (
    IMAGE_TYPES,
    MODEL_PARAMETER,
    ChosenSlot,
    HeavyWorkDep,
    ImageBody,
    SettingsDep,
    chosen_slot,
    digit_json_body,
)
from backend.service.images import (
    image_to_pixels,
)
from backend.service.payloads import PayloadError, error, read_images, read_pixels
from backend.service.routes.common import ERROR_RESPONSES, MODEL_NOT_FOUND, json_response, picture_errors
from backend.service.schemas import (
    EXAMPLE_PIXELS,
    BatchRequest,
    BatchResponse,
    ImagePrediction,
    Message,
    Prediction,
    PredictRequest,
    ValidationErrorBody,
    json_body,
)

router = APIRouter(tags=["predict"])


def _batch_body_doc() -> dict[str, Any]:
    doc = json_body(BatchRequest, {"images": [EXAMPLE_PIXELS, EXAMPLE_PIXELS]})
    doc["requestBody"]["content"][OCTET_STREAM] = {"schema": {"type": "string", "format": "binary"}}
    return doc


@router.post(
    "/predict",
    summary="Recognise one digit from 784 pixels",
    description='Body: `{"pixels": [784 numbers]}`, the 28x28 digit row by row, 0.0 = background and 1.0 = ink '
    "(white on black, as in MNIST), already framed the MNIST way (see /predict/image for raw pictures). "
    "`is_digit` is false when the drawing does not look like a digit at all (a letter, a doodle); `digit` is then "
    "only the best guess. 422 `no_ink` when every pixel is 0.",
    response_model=Prediction,
    responses=ERROR_RESPONSES,
    openapi_extra={**json_body(PredictRequest, {"pixels": EXAMPLE_PIXELS}), "parameters": [MODEL_PARAMETER]},
)
async def predict(request: Request) -> Response:
    # A plain, well-formed request never gets here: fast_lane.PredictFastLane answers it by these same
    # calls without the router. This route answers the rest (every error, a chunked body) and is what
    # the API docs describe. It takes the body and the model by plain calls rather than as FastAPI
    # dependencies (DigitJsonBody, ChosenSlot) for the same reason: less work per request.
    async with digit_json_body(request) as body:
        slot = chosen_slot(request, request.query_params.get("model"))
        pixels = read_pixels(body)
        if not pixels.any():
            raise PayloadError([error("no_ink", ("body", "pixels"), "no ink: every pixel is 0, so there is no drawing to recognise")])
        return json_response(await slot.batcher.predict(pixels))


@router.post(
    "/predict/batch",
    summary="Recognise up to BATCH_MAX digits in one matrix pass",
    description='Body: `{"images": [[784 numbers], ...]}` with 1 to BATCH_MAX images (default 1000). '
    "Or, for bulk scoring, `Content-Type: application/octet-stream` and the raw pixels, image after image, row by row: "
    "N x 784 bytes of uint8 (0-255), or N x 784 x 4 bytes of little-endian float32 in [0, 1] with `?dtype=float32`. "
    "Returns one prediction per image, in order; an image without ink gets `is_digit: false`.",
    response_model=BatchResponse,
    responses=ERROR_RESPONSES,
    openapi_extra=_batch_body_doc(),
)
async def predict_batch(body: BatchBody, slot: ChosenSlot, settings: SettingsDep, heavy_work: HeavyWorkDep) -> Response:
    model = slot.served

    def classify() -> dict[str, Any]:
        images = body if isinstance(body, np.ndarray) else heavy_work.parse(read_images, body, settings.batch_max)
        return {"predictions": model.predict(images).as_dicts()}

    return json_response(await heavy_work.run(classify))


@router.post(
    "/predict/image",
    summary="Recognise the digit in a PNG or JPEG picture",
    description="Body: the raw bytes of one PNG or JPEG file (`Content-Type: image/png` or `image/jpeg`; not "
    "multipart), any size up to IMAGE_MAX_PIXELS: a photo or scan of one digit, dark on light or light on dark. "
    "The server crops to the ink, scales it to 20 px and centres it by centre of mass in 28x28 (as MNIST was made) "
    "and returns the prediction with the 784 pixels it used; `is_digit` is false when it does not look like a digit.",
    response_model=ImagePrediction,
    responses={
        **MODEL_NOT_FOUND,
        413: {"description": "The body is over BODY_MAX_BYTES, or the image over IMAGE_MAX_PIXELS.", "model": Message},
        415: {"description": "The Content-Type is not image/png or image/jpeg.", "model": Message},
        422: {"description": "Not a decodable PNG/JPEG, too slow to decode, or no ink in it.", "model": ValidationErrorBody},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in IMAGE_TYPES},
        }
    },
)
async def predict_image(body: ImageBody, slot: ChosenSlot, settings: SettingsDep, heavy_work: HeavyWorkDep) -> Response:
    model = slot.served

    def classify() -> dict[str, Any]:
        pixels = image_to_pixels(body, settings.image_max_pixels, settings.image_decode_timeout_s, heavy_work.client_gone)
        prediction = model.predict(pixels[np.newaxis, :]).as_dicts()[0]
        return {**prediction, "pixels": pixels}

    with picture_errors():
        return json_response(await heavy_work.run(classify))
