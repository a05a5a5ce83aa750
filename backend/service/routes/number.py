"""POST /predict/number: every digit of a handwritten number in a PNG or JPEG, in reading order.

The picture is decoded as for /predict/image (same limits, same errors); the segmentation is the
recogniser's (backend/recognition/segment.py), given the served network to read candidate pieces
with. The digits it keeps are then predicted once more through the served model, so each answer is
exactly what /predict would say for its 784 pixels (and counts in /metrics like any prediction).
What this module leaves out: how the digits are found (segment.py) and decoding (images.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import APIRouter, Response

from backend.recognition.openset import PieceReader
from backend.recognition.preprocess import gray_to_ink
from backend.recognition.segment import TooManyMarksError, segment_number
from backend.service.dependencies import IMAGE_TYPES, ChosenSlot, HeavyWorkDep, ImageBody, SettingsDep
from backend.service.images import decode_gray, never
from backend.service.payloads import PayloadError, error
from backend.service.routes.common import MODEL_NOT_FOUND, json_response, picture_errors
from backend.service.schemas import EXAMPLE_NUMBER, Message, NumberPrediction, ValidationErrorBody
from backend.service.served_model import ServedModel
from backend.service.settings import Settings

router = APIRouter(tags=["predict"])
NOT_A_DIGIT = "?"  # stands in the number for a group the model says is not a digit


def read_number(data: bytes, model: ServedModel, settings: Settings, should_stop: Callable[[], bool] = never) -> dict[str, Any]:
    """PNG/JPEG bytes -> {"number", "digits": [{"digit", "confidence", "probabilities", "is_digit", "box", "pixels"}]}.

    Decoded under the same pixel and time budgets as /predict/image; should_stop() true abandons the decode.
    """
    ink = gray_to_ink(decode_gray(data, settings.image_max_pixels, settings.image_decode_timeout_s, should_stop))
    # the rejector's P(digit) steers the segmentation towards pieces that each look like a digit
    reader = PieceReader(model.model, model.open_set)
    found = segment_number(ink, reader.classify, reader.digit_score if model.open_set else None)
    predictions = model.predict(np.stack([d.pixels for d in found])).as_dicts()
    digits = [
        # is_digit comes from the model's prediction when it judges that (open-set rejection); until then every group is a digit
        {**prediction, "is_digit": bool(prediction.get("is_digit", True)), "box": list(d.box), "pixels": d.pixels}
        for d, prediction in zip(found, predictions)
    ]
    number = "".join(str(d["digit"]) if d["is_digit"] else NOT_A_DIGIT for d in digits)
    return {"number": number, "digits": digits}


@router.post(
    "/predict/number",
    summary="Read every digit of a handwritten number in a PNG or JPEG picture",
    description="Body: the raw bytes of one PNG or JPEG file (`Content-Type: image/png` or `image/jpeg`; not multipart), "
    "any size up to IMAGE_MAX_PIXELS: a photo, scan or drawing of a number written on one line, dark on light or light "
    "on dark. The server finds the digits (connected strokes, pieces of one digit joined, touching digits split where the "
    "network reads the parts best), frames each the MNIST way and returns them left to right: `number` is their digits "
    f"as text (`{NOT_A_DIGIT}` for a mark that is not a digit), and each digit has its prediction, its box `[x, y, width, "
    "height]` in the picture's pixels and the 784 pixels the network was given.",
    response_model=NumberPrediction,
    responses={
        **MODEL_NOT_FOUND,
        413: {"description": "The body is over BODY_MAX_BYTES, or the image over IMAGE_MAX_PIXELS.", "model": Message},
        415: {"description": "The Content-Type is not image/png or image/jpeg.", "model": Message},
        422: {
            "description": "Not a decodable PNG/JPEG, too slow to decode, no ink in it, or far too many marks to be a number.",
            "model": ValidationErrorBody,
        },
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in IMAGE_TYPES},
        },
        "responses": {"200": {"content": {"application/json": {"example": EXAMPLE_NUMBER}}}},
    },
)
async def predict_number(body: ImageBody, slot: ChosenSlot, settings: SettingsDep, heavy_work: HeavyWorkDep) -> Response:
    with picture_errors():
        try:
            return json_response(await heavy_work.run(lambda: read_number(body, slot.served, settings, heavy_work.client_gone)))
        except TooManyMarksError as err:
            raise PayloadError([error("image_not_a_number", ("body",), str(err))]) from None
