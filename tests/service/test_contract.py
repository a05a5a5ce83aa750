"""One request contract: the fast parsers (payloads.py) accept exactly the bodies the pydantic models
(schemas.py, which the OpenAPI schema is made from) accept, and refuse exactly the ones they refuse.

Hypothesis builds bodies around valid ones, mutated one way at a time (a value of another JSON type,
out of range, a row too short or too long, nesting, a missing field, a top level that is not an
object), and each body goes through both; they must agree.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError, create_model

from backend.nn.shapes import N_INPUTS
from backend.service.payloads import PayloadError, read_images, read_pixels
from backend.service.schemas import BatchRequest, Pixels, PredictRequest

BATCH_MAX = 3
# BATCH_MAX is a setting, so the published BatchRequest leaves its upper bound to the description;
# the contract is checked with the bound that a server running with BATCH_MAX=3 applies
BoundedBatchRequest = create_model("BoundedBatchRequest", images=(list[Pixels], Field(min_length=1, max_length=BATCH_MAX)))

ODD_VALUES = [True, False, None, "0.5", "", [], [0.5], {}, -0.0, 1, 0, -1, 2, 1.0000001, -1e-9, 1e308, 10**30, "NaN"]
pixel = st.one_of(st.floats(0, 1), st.integers(0, 1))


def row(draw) -> list:
    values = draw(st.lists(pixel, min_size=N_INPUTS, max_size=N_INPUTS))
    mutation = draw(st.sampled_from(["none", "value", "shorter", "longer", "nested"]))
    if mutation == "value":
        values[draw(st.integers(0, N_INPUTS - 1))] = draw(st.sampled_from(ODD_VALUES))
    elif mutation == "shorter":
        del values[draw(st.integers(0, N_INPUTS - 1)) :]
    elif mutation == "longer":
        values.extend(draw(st.lists(pixel, min_size=1, max_size=3)))
    elif mutation == "nested":
        values = [values]
    return values


@st.composite
def predict_bodies(draw) -> bytes:
    top = draw(st.sampled_from(["object", "missing", "extra", "not-object", "not-list"]))
    if top == "not-object":
        return json.dumps(draw(st.sampled_from([[0.5], "pixels", 3, None]))).encode()
    if top == "missing":
        return json.dumps({"pixel": row(draw)}).encode()
    if top == "not-list":
        return json.dumps({"pixels": draw(st.sampled_from(ODD_VALUES[:5]))}).encode()
    body = {"pixels": row(draw)}
    if top == "extra":
        body["note"] = "hello"
    return json.dumps(body).encode()


@st.composite
def batch_bodies(draw) -> bytes:
    n = draw(st.integers(0, BATCH_MAX + 1))
    images = [row(draw) for _ in range(n)]
    if draw(st.booleans()) and images:
        images[draw(st.integers(0, n - 1))] = draw(st.sampled_from(ODD_VALUES))
    return json.dumps({"images": images}).encode()


def schema_accepts(model, body: bytes) -> bool:
    try:
        model.model_validate_json(body)
    except ValidationError:
        return False
    return True


def parser_accepts(parse, body: bytes) -> bool:
    try:
        parse(body)
    except PayloadError:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(predict_bodies())
def test_predict_parser_and_schema_agree(body):
    assert parser_accepts(read_pixels, body) == schema_accepts(PredictRequest, body), body[:200]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batch_bodies())
def test_batch_parser_and_schema_agree(body):
    assert parser_accepts(lambda b: read_images(b, BATCH_MAX), body) == schema_accepts(BoundedBatchRequest, body), body[:200]


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_by_both(text):
    body = ('{"pixels": [' + ", ".join(["0"] * (N_INPUTS - 1) + [text]) + "]}").encode()
    assert not parser_accepts(read_pixels, body)
    assert not schema_accepts(PredictRequest, body)


def test_the_published_batch_model_has_the_same_lower_bound():
    empty = b'{"images": []}'
    assert not parser_accepts(lambda b: read_images(b, BATCH_MAX), empty)
    assert not schema_accepts(BatchRequest, empty)
