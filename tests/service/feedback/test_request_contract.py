"""One contract for POST /feedback: the hand parser (feedback/request.py) accepts exactly the bodies the
pydantic model schemas.FeedbackRequest (what the OpenAPI schema publishes) accepts.

Hypothesis builds valid bodies and mutates one field at a time: a label of another type or out of
range, a model id that breaks the pattern, strokes of the wrong shape or over the bounds, pixels
like /predict's contract test, a missing field, a body that is not an object.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from backend.nn.shapes import N_INPUTS
from backend.service.feedback.request import read_feedback
from backend.service.payloads import PayloadError
from backend.service.schemas import POINTS_PER_STROKE_MAX, STROKES_MAX, FeedbackRequest

ODD = [True, False, None, "4", "", [], [4], {}, 4.0, -1, 10, 9, 0, 1.5, -0.0]
ODD_IDS = ["mlp-0123", "a", "x" * 64, "x" * 65, "", "with space", "ünï", "m:1.2_3-4", 7, None, ["mlp"]]
coordinate = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(-1000, 1000))


@st.composite
def strokes(draw):
    shape = draw(st.sampled_from(["ok", "empty-list", "empty-stroke", "too-many", "too-long", "bad-point", "bad-value", "not-list"]))
    if shape == "not-list":
        return draw(st.sampled_from(["strokes", 3, {}, True]))
    if shape == "empty-list":
        return []
    if shape == "too-many":
        return [[[0, 0]]] * (STROKES_MAX + draw(st.integers(0, 1)))
    if shape == "too-long":
        return [[[0, 0]] * (POINTS_PER_STROKE_MAX + draw(st.integers(0, 1)))]
    value = draw(st.lists(st.lists(st.tuples(coordinate, coordinate).map(list), min_size=1, max_size=5), min_size=1, max_size=4))
    if shape == "empty-stroke":
        value.append([])
    elif shape == "bad-point":
        value[0][0] = draw(st.sampled_from([[1], [1, 2, 3], 5, "1,2", None]))
    elif shape == "bad-value":
        value[0][0][draw(st.integers(0, 1))] = draw(st.sampled_from([True, None, "1", [1], {}]))
    return value


@st.composite
def feedback_bodies(draw) -> bytes:
    if draw(st.integers(0, 20)) == 0:
        return json.dumps(draw(st.sampled_from([[0.5], "feedback", 3, None]))).encode()
    pixels = [0.0] * N_INPUTS
    mutation = draw(st.sampled_from(["none", "pixel", "short", "label", "predicted", "model_id", "strokes", "missing"]))
    body = {"pixels": pixels, "label": draw(st.integers(0, 9)), "predicted": draw(st.integers(0, 9))}
    if mutation == "pixel":
        pixels[draw(st.integers(0, N_INPUTS - 1))] = draw(st.sampled_from([True, None, "0.5", 1.5, -1e-9, 1, [0.5]]))
    elif mutation == "short":
        del pixels[draw(st.integers(0, N_INPUTS - 1)) :]
    elif mutation in ("label", "predicted"):
        body[mutation] = draw(st.sampled_from(ODD))
    elif mutation == "model_id":
        body["model_id"] = draw(st.sampled_from(ODD_IDS))
    elif mutation == "strokes":
        body["strokes"] = draw(strokes())
    elif mutation == "missing":
        del body[draw(st.sampled_from(["pixels", "label", "predicted"]))]
    return json.dumps(body).encode()


def parser_accepts(body: bytes) -> bool:
    try:
        read_feedback(body, "mlp-served")
    except PayloadError:
        return False
    return True


def schema_accepts(body: bytes) -> bool:
    try:
        FeedbackRequest.model_validate_json(body)
    except ValidationError:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(feedback_bodies())
def test_feedback_parser_and_schema_agree(body: bytes) -> None:
    assert parser_accepts(body) == schema_accepts(body), body[-300:]


def test_a_valid_body_becomes_the_correction_it_says() -> None:
    body = json.dumps({"pixels": [1.0] + [0.0] * (N_INPUTS - 1), "label": 3, "predicted": 8, "strokes": [[[1, 2]]]}).encode()
    correction = read_feedback(body, "mlp-served")
    assert (correction.label, correction.predicted, correction.model_id, correction.strokes) == (3, 8, "mlp-served", [[[1, 2]]])
    assert correction.pixels.shape == (N_INPUTS,) and correction.pixels[0] == 1.0


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e999"])
def test_non_finite_stroke_coordinates_are_refused_by_both(text: str) -> None:
    body = ('{"pixels": [' + ", ".join(["0"] * N_INPUTS) + '], "label": 1, "predicted": 1, "strokes": [[[0, ' + text + "]]]}").encode()
    assert not parser_accepts(body)
    assert not schema_accepts(body)
