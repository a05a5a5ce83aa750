"""POST /predict, /predict/batch, /predict/image through the ASGI app: answers, and every class of bad input."""

from __future__ import annotations

import asyncio
import math
import threading
import time

import numpy as np
import orjson
import pytest

from backend.paths import MODEL_DIR
from backend.recognition.evaluation import score_test_set
from backend.service.app import HEAVY_WORK_THREADS
from backend.service.schemas import EXAMPLE_PIXELS
from backend.service.served_model import ServedModel
from backend.testing.service import (
    ONE,
    SEVEN,
    ShippedReference,
    mnist_png,
    serve_asgi,
    settings_for,
    stroke_digit_png,
)

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def direct_model():
    """The shipped model and its calibration loaded straight from backend.nn/recognition, to compare the API against."""
    return ShippedReference()


def digit_like(seed: int) -> list[float]:
    """784 values in [0, 1], mostly background, like a drawn digit."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros(784)
    on = rng.choice(784, size=120, replace=False)
    pixels[on] = rng.uniform(0.2, 1.0, size=120)
    return pixels.tolist()


def assert_prediction(body: dict) -> None:
    assert set(body) >= {"digit", "confidence", "probabilities", "is_digit"}
    assert isinstance(body["is_digit"], bool)
    assert len(body["probabilities"]) == 10
    assert math.isclose(sum(body["probabilities"]), 1.0, abs_tol=1e-5)
    assert body["digit"] == int(np.argmax(body["probabilities"]))
    assert body["confidence"] == max(body["probabilities"])


async def post_json(client, path: str, payload) -> tuple[int, dict]:
    response = await client.post(path, content=orjson.dumps(payload), headers=JSON)
    return response.status_code, response.json()


def single_error(body: dict) -> dict:
    assert isinstance(body["detail"], list) and body["detail"], body
    return body["detail"][0]


# --- /predict -------------------------------------------------------------------------------------------


async def test_predict_returns_the_models_answer(client, direct_model):
    pixels = digit_like(1)
    status, body = await post_json(client, "/predict", {"pixels": pixels})
    assert status == 200
    assert_prediction(body)
    expected = direct_model.predict_proba(np.array([pixels], dtype=np.float32))[0]
    assert np.allclose(body["probabilities"], expected, atol=1e-6)


async def test_predict_recognises_the_documented_example_as_the_same_digit_as_the_model(client, direct_model):
    status, body = await post_json(client, "/predict", {"pixels": EXAMPLE_PIXELS})
    assert status == 200
    assert body["digit"] == int(direct_model.predict(np.array([EXAMPLE_PIXELS], dtype=np.float32))[0])


async def test_concurrent_predicts_each_get_their_own_answer(client, direct_model):
    images = [digit_like(seed) for seed in range(10, 16)]
    responses = await asyncio.gather(*(client.post("/predict", content=orjson.dumps({"pixels": p}), headers=JSON) for p in images))
    expected = direct_model.predict_proba(np.array(images, dtype=np.float32))
    for response, row in zip(responses, expected):
        assert response.status_code == 200
        assert np.allclose(response.json()["probabilities"], row, atol=1e-6)


async def test_predict_accepts_integers(client):
    response = await client.post(
        "/predict", content=orjson.dumps({"pixels": [0] * 700 + [1] * 84}), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert_prediction(response.json())


async def test_predict_refuses_a_body_without_content_type(client):
    # a cross-site form or fetch can send a body with no Content-Type (and no CORS preflight): it is not read as JSON
    response = await client.post("/predict", content=orjson.dumps({"pixels": [0] * 784}))
    assert response.status_code == 415
    assert response.json()["detail"] == "send the body as application/json, not without a Content-Type"


@pytest.mark.parametrize(
    "pixels, where, kind",
    [
        ([0.5] * 783, [], "too_short"),
        ([0.5] * 785, [], "too_long"),
        ([[0.5]] * 784, [0], "float_type"),
        ([0.5] * 783 + [1.5], [783], "less_than_equal"),
        ([-0.01] + [0.5] * 783, [0], "greater_than_equal"),
        ([0.5] * 100 + ["0.5"] + [0.5] * 683, [100], "float_type"),
        ([0.5] * 100 + [True] + [0.5] * 683, [100], "float_type"),
        ([0.5] * 100 + [None] + [0.5] * 683, [100], "float_type"),
        ("0.5, 0.5", [], "list_type"),
        ({"0": 0.5}, [], "list_type"),
    ],
    ids=["short", "long", "nested", "above-1", "below-0", "string", "boolean", "null", "string-field", "object-field"],
)
async def test_predict_rejects_bad_pixels_naming_field_and_index(client, pixels, where, kind):
    status, body = await post_json(client, "/predict", {"pixels": pixels})
    assert status == 422
    entry = single_error(body)
    assert entry["loc"] == ["body", "pixels", *where]
    assert entry["type"] == kind
    assert entry["msg"]


@pytest.mark.parametrize("token, name", [(b"NaN", "NaN"), (b"Infinity", "Infinity"), (b"-Infinity", "-Infinity"), (b"1e999", "Infinity")])
async def test_predict_rejects_non_finite_values_with_their_index(client, token, name):
    body = b'{"pixels": [' + b"0.25, " * 300 + token + b", 0.25" * 483 + b"]}"
    response = await client.post("/predict", content=body, headers=JSON)
    assert response.status_code == 422
    entry = single_error(response.json())
    assert entry["loc"] == ["body", "pixels", 300]
    assert entry["type"] == "finite_number"
    assert name in entry["msg"]


@pytest.mark.parametrize(
    "raw, loc, kind",
    [
        (b'{"pixels": [0.1, 0.2', ["body", 20], "json_invalid"),
        (b"", ["body"], "missing"),
        (b"[0.5, 0.5]", ["body"], "model_attributes_type"),
        (b'{"pixel": []}', ["body", "pixels"], "missing"),
        (b"\xff\xfe{}", ["body", 0], "json_invalid"),
    ],
    ids=["truncated-json", "empty-body", "not-an-object", "missing-field", "not-utf8"],
)
async def test_predict_rejects_malformed_bodies(client, raw, loc, kind):
    response = await client.post("/predict", content=raw, headers=JSON)
    assert response.status_code == 422
    entry = single_error(response.json())
    assert (entry["loc"], entry["type"]) == (loc, kind)


async def test_predict_reports_several_bad_values_at_once(client):
    pixels = [0.5] * 784
    pixels[3], pixels[10] = 2.0, -1.0
    status, body = await post_json(client, "/predict", {"pixels": pixels})
    assert status == 422
    assert [entry["loc"][-1] for entry in body["detail"]] == [3, 10]


async def test_predict_refuses_a_non_json_content_type(client):
    response = await client.post("/predict", content=orjson.dumps({"pixels": [0.0] * 784}), headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


async def test_predict_with_get_is_a_client_error(client):
    response = await client.get("/predict")
    assert 400 <= response.status_code < 500


# --- /predict/batch ---------------------------------------------------------------------------------------


async def test_batch_answers_each_image_in_order(client, direct_model):
    images = [digit_like(seed) for seed in range(7)]
    status, body = await post_json(client, "/predict/batch", {"images": images})
    assert status == 200
    assert len(body["predictions"]) == 7
    expected = direct_model.predict_proba(np.array(images, dtype=np.float32))
    for prediction, row in zip(body["predictions"], expected):
        assert_prediction(prediction)
        assert np.allclose(prediction["probabilities"], row, atol=1e-6)


async def test_batch_of_the_maximum_size_is_accepted_and_one_more_is_refused(tmp_path):
    async with serve_asgi(settings_for(tmp_path, batch_max=5)) as small:
        status, body = await post_json(small, "/predict/batch", {"images": [EXAMPLE_PIXELS] * 5})
        assert status == 200
        assert len(body["predictions"]) == 5
        status, body = await post_json(small, "/predict/batch", {"images": [EXAMPLE_PIXELS] * 6})
        assert status == 422
        entry = single_error(body)
        assert (entry["loc"], entry["type"]) == (["body", "images"], "too_long")
        assert "5" in entry["msg"]


@pytest.mark.parametrize(
    "images, loc, kind",
    [
        ([], ["body", "images"], "too_short"),
        ([EXAMPLE_PIXELS, EXAMPLE_PIXELS[:-1]], ["body", "images", 1], "too_short"),
        ([EXAMPLE_PIXELS, 0.5], ["body", "images", 1], "list_type"),
        ([EXAMPLE_PIXELS, [*EXAMPLE_PIXELS[:-1], "x"]], ["body", "images", 1, 783], "float_type"),
        ([EXAMPLE_PIXELS, [*EXAMPLE_PIXELS[:-1], False]], ["body", "images", 1, 783], "float_type"),
        ([[*EXAMPLE_PIXELS[:9], 3.0, *EXAMPLE_PIXELS[10:]]], ["body", "images", 0, 9], "less_than_equal"),
        (EXAMPLE_PIXELS, ["body", "images", 0], "list_type"),
        ({"a": 1}, ["body", "images"], "list_type"),
    ],
    ids=["empty", "short-row", "number-row", "string-value", "boolean-value", "out-of-range", "flat", "object"],
)
async def test_batch_rejects_bad_images_naming_index(client, images, loc, kind):
    status, body = await post_json(client, "/predict/batch", {"images": images})
    assert status == 422
    entry = single_error(body)
    assert (entry["loc"], entry["type"]) == (loc, kind)


async def test_batch_rejects_nan_from_a_lenient_json_writer(client):
    body = b'{"images": [[' + b"0.0, " * 783 + b"0.5], [" + b"0.0, " * 12 + b"NaN" + b", 0.0" * 771 + b"]]}"
    response = await client.post("/predict/batch", content=body, headers=JSON)
    assert response.status_code == 422
    entry = single_error(response.json())
    assert (entry["loc"], entry["type"]) == (["body", "images", 1, 12], "finite_number")


async def test_batch_missing_field_and_wrong_content_type(client):
    status, body = await post_json(client, "/predict/batch", {"pixels": EXAMPLE_PIXELS})
    assert status == 422
    assert single_error(body)["loc"] == ["body", "images"]
    response = await client.post("/predict/batch", content=b"images=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


async def test_batches_are_worked_on_at_most_heavy_work_threads_at_once_per_process(tmp_path, monkeypatch):
    active, peak, lock = 0, 0, threading.Lock()
    original = ServedModel.predict

    def slow_predict(self, images):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return original(self, images)

    monkeypatch.setattr(ServedModel, "predict", slow_predict)
    async with serve_asgi(settings_for(tmp_path)) as fresh:
        body = orjson.dumps({"images": [EXAMPLE_PIXELS] * 4})
        responses = await asyncio.gather(*(fresh.post("/predict/batch", content=body, headers=JSON) for _ in range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert peak == HEAVY_WORK_THREADS


async def test_body_over_the_cap_is_refused_with_413(tmp_path):
    settings = settings_for(tmp_path, batch_max=2)  # cap = 2 * 784 * 25 + 64 KiB
    async with serve_asgi(settings) as small:
        oversized = b'{"images": [' + b" " * (settings.body_max_bytes + 1) + b"]}"
        response = await small.post("/predict/batch", content=oversized, headers=JSON)
        assert response.status_code == 413
        assert str(settings.body_max_bytes) in response.json()["detail"]

        async def chunks():  # no Content-Length: the cap must count the bytes as they come
            for _ in range(settings.body_max_bytes // 4096 + 2):
                yield b" " * 4096

        response = await small.post("/predict/batch", content=chunks(), headers=JSON)
        assert response.status_code == 413


async def test_the_largest_legal_batch_fits_under_the_default_cap(tmp_path):
    settings = settings_for(tmp_path, batch_max=3)
    longest = 2.2250738585072014e-308  # the longest repr of a float64 in [0, 1]
    body = orjson.dumps({"images": [[longest] * 784] * 3})
    assert len(body) <= settings.body_max_bytes
    async with serve_asgi(settings) as small:
        response = await small.post("/predict/batch", content=body, headers=JSON)
    assert response.status_code == 200


@pytest.mark.parametrize("chunk", [1000])
async def test_batch_accuracy_on_the_mnist_test_set_equals_the_models(client, mnist_data, direct_model, chunk):
    """All 10,000 MNIST test images through /predict/batch: the same answers as backend.nn, the same accuracy
    as scripts/evaluate.py computes (backend.recognition.evaluation.score_test_set), and the card's test accuracy."""
    test = mnist_data.test
    card = orjson.loads((MODEL_DIR / "model.json").read_bytes())
    api_digits, direct_digits = [], []
    for start in range(0, len(test), chunk):
        images = test.images[start : start + chunk]
        response = await client.post(
            "/predict/batch", content=orjson.dumps({"images": images}, option=orjson.OPT_SERIALIZE_NUMPY), headers=JSON
        )
        assert response.status_code == 200
        api_digits += [p["digit"] for p in response.json()["predictions"]]
        direct_digits += direct_model.predict(images).tolist()
    api_accuracy = float(np.mean(np.array(api_digits) == test.labels))
    direct_accuracy = float(np.mean(np.array(direct_digits) == test.labels))
    print(f"accuracy through /predict/batch on {len(test)} test images: {api_accuracy:.4f}")
    assert api_digits == direct_digits
    assert api_accuracy == direct_accuracy
    assert api_accuracy == score_test_set(direct_model, test.images, test.labels)["accuracy"]
    assert abs(api_accuracy - card["test_accuracy"]) <= 0.001


# --- /predict/image ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, media", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
async def test_image_of_a_drawn_seven_is_a_seven(client, fmt, media):
    response = await client.post("/predict/image", content=stroke_digit_png(SEVEN, fmt=fmt), headers={"content-type": media})
    assert response.status_code == 200
    body = response.json()
    assert_prediction(body)
    assert body["digit"] == 7
    assert len(body["pixels"]) == 784 and 0 <= min(body["pixels"]) and max(body["pixels"]) <= 1


async def test_image_light_ink_on_dark_gives_the_same_pixels_as_dark_on_light(client):
    dark_on_light = await client.post("/predict/image", content=stroke_digit_png(ONE), headers={"content-type": "image/png"})
    light_on_dark = await client.post(
        "/predict/image", content=stroke_digit_png(ONE, ink=255, paper=0), headers={"content-type": "image/png"}
    )
    assert dark_on_light.status_code == light_on_dark.status_code == 200
    assert np.allclose(dark_on_light.json()["pixels"], light_on_dark.json()["pixels"], atol=1e-6)
    assert dark_on_light.json()["digit"] == 1


async def test_image_of_an_mnist_digit_is_read_like_the_digit_itself(client, mnist_data, direct_model):
    for index in range(5):
        pixels = mnist_data.test.images[index]
        response = await client.post("/predict/image", content=mnist_png(pixels), headers={"content-type": "image/png"})
        assert response.status_code == 200
        used = np.array(response.json()["pixels"])
        assert np.corrcoef(used, pixels)[0, 1] > 0.9  # MNIST is already framed this way: little changes
        assert response.json()["digit"] == int(direct_model.predict(pixels[None, :])[0])


@pytest.mark.parametrize("media", ["image/gif", "multipart/form-data; boundary=x", "application/json", None])
async def test_image_refuses_other_content_types(client, media):
    headers = {"content-type": media} if media else {}
    response = await client.post("/predict/image", content=stroke_digit_png(ONE), headers=headers)
    assert response.status_code == 415
    assert "image/png" in response.json()["detail"]


@pytest.mark.parametrize(
    "data, kind, words",
    [
        (b"definitely not a picture", "image_invalid", "not a PNG or JPEG"),
        (b"", "image_invalid", "empty"),
        (stroke_digit_png(ONE)[:300], "image_invalid", "cannot be decoded"),
        (stroke_digit_png([], size=(50, 50)), "image_empty", "no ink"),
    ],
    ids=["garbage", "empty-body", "truncated", "blank-page"],
)
async def test_image_that_cannot_be_read_is_a_422_saying_why(client, data, kind, words):
    response = await client.post("/predict/image", content=data, headers={"content-type": "image/png"})
    assert response.status_code == 422
    entry = single_error(response.json())
    assert entry["type"] == kind
    assert words in entry["msg"]


async def test_image_over_the_pixel_limit_is_a_413(tmp_path):
    async with serve_asgi(settings_for(tmp_path, image_max_pixels=100_000)) as small:
        response = await small.post("/predict/image", content=stroke_digit_png(ONE, size=(400, 400)), headers={"content-type": "image/png"})
        assert response.status_code == 413
        assert "megapixels" in response.json()["detail"]
        response = await small.post("/predict/image", content=stroke_digit_png(ONE, size=(300, 300)), headers={"content-type": "image/png"})
        assert response.status_code == 200
