"""The body of POST /feedback, parsed by hand like the predict bodies: bytes in, a Correction out.

It accepts exactly what schemas.FeedbackRequest declares (tests/service/feedback/test_request_contract.py
holds the two together) and refuses the rest with the same PayloadError, so a bad body gets the
same 422 {"detail": [{"type", "loc", "msg"}]} as /predict: the pixels are checked by the very code
that checks /predict's. Left out: HTTP and storage.
"""

from __future__ import annotations

import math
import re
from typing import Any

from backend.nn.shapes import N_CLASSES
from backend.service.feedback.store import Correction
from backend.service.payloads import Loc, PayloadError, error, field_of, json_type, parse_json, rows_to_matrix
from backend.service.schemas import MODEL_ID_PATTERN, POINTS_PER_STROKE_MAX, STROKES_MAX

EXAMPLE = '{"pixels": [784 numbers in [0, 1]], "label": 0-9, "predicted": 0-9}'
_MODEL_ID = re.compile(MODEL_ID_PATTERN)


def read_feedback(body: bytes, default_model_id: str) -> Correction:
    """Body {"pixels", "label", "predicted", "model_id"?, "strokes"?} -> Correction; PayloadError naming every bad field."""
    payload = parse_json(body)
    pixels = field_of(payload, "pixels", EXAMPLE)
    errors: list[dict[str, Any]] = []
    matrix = None
    if not isinstance(pixels, list):
        errors.append(error("list_type", ("body", "pixels"), f"expected an array of 784 numbers, got {json_type(pixels)}"))
    else:
        try:
            matrix = rows_to_matrix([pixels], lambda i: ("body", "pixels"), maybe_booleans=True)
        except PayloadError as err:
            errors.extend(err.errors)
    digits = {name: _digit(payload, name, errors) for name in ("label", "predicted")}
    model_id = payload.get("model_id")
    if model_id is not None and not (isinstance(model_id, str) and _MODEL_ID.fullmatch(model_id)):
        errors.append(
            error("string_pattern_mismatch", ("body", "model_id"), "expected 1 to 64 letters, digits or _.:- (the id GET /health gives)")
        )
    strokes = payload.get("strokes")
    if strokes is not None:
        errors.extend(_stroke_errors(strokes))
    if errors:
        raise PayloadError(errors)
    assert matrix is not None
    return Correction(
        matrix[0], label=digits["label"], predicted=digits["predicted"], model_id=model_id or default_model_id, strokes=strokes
    )


def _digit(payload: dict[str, Any], name: str, errors: list[dict[str, Any]]) -> int:
    if name not in payload:
        errors.append(error("missing", ("body", name), f"field required: send {EXAMPLE}"))
        return -1
    value = payload[name]
    if type(value) is not int:  # exactly: 4.0, "4" and true are not digits
        errors.append(error("int_type", ("body", name), f"expected a whole number from 0 to 9, got {json_type(value)}"))
    elif not 0 <= value < N_CLASSES:
        kind = "greater_than_equal" if value < 0 else "less_than_equal"
        errors.append(error(kind, ("body", name), f"expected a digit from 0 to 9, got {value}"))
    return value if type(value) is int else -1


def _stroke_errors(strokes: Any) -> list[dict[str, Any]]:
    """Errors for a strokes value that is not [[[x, y], ...], ...] within the bounds; empty when it is fine."""
    loc: Loc = ("body", "strokes")
    if not isinstance(strokes, list):
        return [error("list_type", loc, f"expected an array of strokes, got {json_type(strokes)}")]
    if len(strokes) > STROKES_MAX:
        return [error("too_long", loc, f"{len(strokes)} strokes is over the maximum of {STROKES_MAX}")]
    for i, stroke in enumerate(strokes):
        if not isinstance(stroke, list):
            return [error("list_type", (*loc, i), f"expected an array of [x, y] points, got {json_type(stroke)}")]
        if not 1 <= len(stroke) <= POINTS_PER_STROKE_MAX:
            kind = "too_short" if not stroke else "too_long"
            return [error(kind, (*loc, i), f"a stroke holds 1 to {POINTS_PER_STROKE_MAX} points, this one {len(stroke)}")]
        for j, point in enumerate(stroke):
            if not (isinstance(point, list) and len(point) == 2):
                return [error("list_type", (*loc, i, j), "expected a point [x, y]")]
            for k, value in enumerate(point):
                if type(value) not in (int, float) or not math.isfinite(value):
                    return [error("float_type", (*loc, i, j, k), f"expected a finite number, got {json_type(value)}")]
    return []
