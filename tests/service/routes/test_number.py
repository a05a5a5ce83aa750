"""POST /predict/number through the ASGI app: whole numbers read in order, and every class of bad input."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from backend.service.schemas import NumberPrediction
from backend.testing.numbers import png, written_number
from backend.testing.service import ONE, serve_asgi, settings_for, stroke_digit_png

pytestmark = pytest.mark.anyio

PNG = {"content-type": "image/png"}


def assert_digit(entry: dict) -> None:
    assert set(entry) == {"digit", "confidence", "probabilities", "is_digit", "box", "pixels"}
    assert len(entry["probabilities"]) == 10 and math.isclose(sum(entry["probabilities"]), 1.0, abs_tol=1e-5)
    assert entry["digit"] == int(np.argmax(entry["probabilities"])) and entry["confidence"] == max(entry["probabilities"])
    assert entry["is_digit"] is True
    assert len(entry["box"]) == 4 and all(isinstance(v, int) for v in entry["box"])
    assert len(entry["pixels"]) == 784 and 0 <= min(entry["pixels"]) and max(entry["pixels"]) <= 1


async def test_a_four_digit_number_is_read_in_order_with_boxes(client):
    response = await client.post("/predict/number", content=png(written_number("2026")), headers=PNG)
    assert response.status_code == 200
    body = response.json()
    NumberPrediction.model_validate(body)  # the declared contract
    assert body["number"] == "2026"
    assert [d["digit"] for d in body["digits"]] == [2, 0, 2, 6]
    for entry in body["digits"]:
        assert_digit(entry)
    lefts = [d["box"][0] for d in body["digits"]]
    assert lefts == sorted(lefts)
    for k, (x, y, w, h) in enumerate(d["box"] for d in body["digits"]):
        assert abs(x - (30 + 120 * k)) <= 10 and 20 <= w <= 100 and 100 <= h <= 150 and 0 <= y <= 200 - h  # where each was written


async def test_every_digit_answers_as_predict_would_for_its_pixels(client):
    body = (await client.post("/predict/number", content=png(written_number("3817")), headers=PNG)).json()
    assert body["number"] == "3817"
    for entry in body["digits"]:
        single = await client.post("/predict", json={"pixels": entry["pixels"]})
        assert single.status_code == 200
        assert single.json()["probabilities"] == entry["probabilities"]


async def test_light_on_dark_and_jpeg_read_the_same(client):
    ink = written_number("459")
    buffer = io.BytesIO()
    Image.fromarray(np.round((1 - ink) * 255).astype(np.uint8), "L").save(buffer, "JPEG", quality=90)
    for data, media in ((png(ink, dark_on_light=False), "image/png"), (buffer.getvalue(), "image/jpeg")):
        response = await client.post("/predict/number", content=data, headers={"content-type": media})
        assert response.status_code == 200
        assert response.json()["number"] == "459"


async def test_a_single_digit_is_a_one_digit_number(client):
    response = await client.post("/predict/number", content=stroke_digit_png(ONE), headers=PNG)
    assert response.status_code == 200
    assert response.json()["number"] == "1" and len(response.json()["digits"]) == 1


@pytest.mark.parametrize("media", ["image/gif", "application/json", None])
async def test_other_content_types_are_a_415(client, media):
    headers = {"content-type": media} if media else {}
    response = await client.post("/predict/number", content=png(written_number("12")), headers=headers)
    assert response.status_code == 415
    assert "image/png" in response.json()["detail"]


@pytest.mark.parametrize(
    "data, kind, words",
    [
        (b"not a picture", "image_invalid", "not a PNG or JPEG"),
        (b"", "image_invalid", "empty"),
        (png(written_number("12"))[:200], "image_invalid", "cannot be decoded"),
        (png(np.zeros((100, 300))), "image_empty", "no ink"),
        (
            png(np.kron(np.random.default_rng(0).random((40, 60)) > 0.5, [[1, 0, 0], [0, 0, 0], [0, 0, 0]]) * 1.0),
            "image_not_a_number",
            "marks",
        ),
    ],
    ids=["garbage", "empty-body", "truncated", "blank-page", "noise"],
)
async def test_what_cannot_be_read_is_a_422_saying_why(client, data, kind, words):
    response = await client.post("/predict/number", content=data, headers=PNG)
    assert response.status_code == 422
    [entry] = response.json()["detail"]
    assert entry["type"] == kind and entry["loc"] == ["body"]
    assert words in entry["msg"]


async def test_too_many_pixels_or_bytes_are_a_413(tmp_path):
    async with serve_asgi(settings_for(tmp_path, image_max_pixels=100_000, batch_max=10, body_max_bytes=300_000)) as small:
        response = await small.post("/predict/number", content=png(written_number("12", shape=(200, 600))), headers=PNG)
        assert response.status_code == 413
        assert "megapixels" in response.json()["detail"]
        response = await small.post("/predict/number", content=b"\x89PNG" + b"\0" * 300_000, headers=PNG)
        assert response.status_code == 413
        assert "300000 bytes" in response.json()["detail"]
        response = await small.post("/predict/number", content=png(written_number("12", shape=(150, 300), gap=20)), headers=PNG)
        assert response.status_code == 200


async def test_openapi_documents_the_route_with_an_example(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    operation = response.json()["paths"]["/predict/number"]["post"]
    assert set(operation["requestBody"]["content"]) == {"image/png", "image/jpeg"}
    assert operation["responses"]["200"]["content"]["application/json"]["example"]["number"] == "11"
    assert {"413", "415", "422"} <= set(operation["responses"])


async def test_another_model_reads_the_number_when_asked_by_name(client):
    response = await client.post("/predict/number?model=classic", content=png(written_number("40")), headers=PNG)
    assert response.status_code == 200
    body = response.json()
    assert len(body["digits"]) == 2
    for entry in body["digits"]:
        assert_digit(entry)


async def test_an_unknown_model_is_a_404_listing_the_names(client):
    response = await client.post("/predict/number?model=nope", content=png(written_number("40")), headers=PNG)
    assert response.status_code == 404
    assert "classic" in response.json()["detail"] and "mnist" in response.json()["detail"]
