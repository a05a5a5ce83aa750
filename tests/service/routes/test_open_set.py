""" "Not a digit" through the API: is_digit on every single-digit answer (/predict, /predict/batch items,
/predict/image, V2's is_digit tensor), the calibrated probabilities, and 422 "no ink" for a blank /predict."""

from __future__ import annotations

import shutil

import numpy as np
import orjson
import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.negatives import render_strokes
from backend.recognition.preprocess import ink_to_mnist
from backend.recognition.sketches import LETTERS, SHAPES
from backend.testing.service import SEVEN, ShippedReference, serve_asgi, settings_for, stroke_digit_png

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}
X_STROKES = [[(60, 60), (240, 340)], [(240, 60), (60, 340)]]


@pytest.fixture(scope="module")
def reference() -> ShippedReference:
    return ShippedReference()


def drawn(figure) -> np.ndarray:
    """A figure of sketches.py drawn with the page's own pen share (0.16), framed as the page frames it."""
    return ink_to_mnist(render_strokes(figure, np.random.default_rng(0), pen_share=0.16))


async def post(client, path: str, payload) -> tuple[int, dict]:
    response = await client.post(path, content=orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), headers=JSON)
    return response.status_code, response.json()


async def test_predict_without_any_ink_is_422_no_ink(client):
    status, body = await post(client, "/predict", {"pixels": [0.0] * 784})
    assert status == 422
    (entry,) = body["detail"]
    assert (entry["loc"], entry["type"]) == (["body", "pixels"], "no_ink")
    assert "no ink" in entry["msg"]


async def test_predict_with_one_faint_pixel_is_answered_not_refused(client):
    pixels = [0.0] * 784
    pixels[406] = 0.05
    status, body = await post(client, "/predict", {"pixels": pixels})
    assert status == 200
    assert body["is_digit"] is False  # a speck is no digit, but it is a drawing: an answer, not an error


async def test_mnist_digits_are_digits_and_the_answer_is_calibrated(client, mnist_data, reference):
    images = mnist_data.test.images[:20]
    for image, expected, is_digit in zip(images, reference.predict_proba(images), reference.is_digit(images)):
        status, body = await post(client, "/predict", {"pixels": image})
        assert status == 200
        assert body["is_digit"] is bool(is_digit)
        assert np.allclose(body["probabilities"], expected, atol=1e-6)
        assert body["confidence"] == max(body["probabilities"])
    assert reference.is_digit(images).sum() >= 19


@pytest.mark.parametrize("figure", [LETTERS["X"], LETTERS["A"], SHAPES["smiley"], SHAPES["star"]], ids=["X", "A", "smiley", "star"])
async def test_a_letter_or_a_doodle_is_not_a_digit_but_keeps_a_best_guess(client, figure):
    status, body = await post(client, "/predict", {"pixels": drawn(figure)})
    assert status == 200
    assert body["is_digit"] is False
    assert 0 <= body["digit"] <= 9 and len(body["probabilities"]) == 10


async def test_batch_items_each_say_whether_they_are_digits(client, mnist_data):
    images = [mnist_data.test.images[0], drawn(LETTERS["X"]), np.zeros(784, np.float32)]
    status, body = await post(client, "/predict/batch", {"images": images})
    assert status == 200
    assert [p["is_digit"] for p in body["predictions"]] == [True, False, False]  # a blank item: no ink, no digit


async def test_image_of_a_drawn_x_is_not_a_digit_and_a_seven_is(client):
    x = await client.post("/predict/image", content=stroke_digit_png(X_STROKES), headers={"content-type": "image/png"})
    seven = await client.post("/predict/image", content=stroke_digit_png(SEVEN), headers={"content-type": "image/png"})
    assert x.status_code == seven.status_code == 200
    assert x.json()["is_digit"] is False
    assert (seven.json()["is_digit"], seven.json()["digit"]) == (True, 7)


async def test_v2_metadata_lists_the_is_digit_tensor(client):
    response = await client.get("/v2/models/mnist")
    assert response.status_code == 200
    assert {"name": "is_digit", "datatype": "BOOL", "shape": [-1]} in response.json()["outputs"]


async def test_v2_infer_returns_is_digit_beside_the_probabilities(client, mnist_data, reference):
    images = np.stack([mnist_data.test.images[1], drawn(LETTERS["X"])])
    tensor = {"name": "input", "shape": [2, 784], "datatype": "FP32", "data": images}
    status, body = await post(client, "/v2/models/mnist/infer", {"inputs": [tensor]})
    assert status == 200
    probabilities, is_digit = body["outputs"]
    assert (is_digit["name"], is_digit["datatype"], is_digit["shape"], is_digit["data"]) == ("is_digit", "BOOL", [2], [True, False])
    assert np.allclose(np.reshape(probabilities["data"], (2, 10)), reference.predict_proba(images), atol=1e-6)
    status, body = await post(client, "/v2/models/mnist/infer", {"inputs": [tensor], "outputs": [{"name": "is_digit"}]})
    assert status == 200
    assert [output["name"] for output in body["outputs"]] == ["is_digit"]


async def test_v2_infer_names_both_outputs_when_asked_for_another(client):
    tensor = {"name": "input", "shape": [1, 784], "datatype": "FP32", "data": [0.5] * 784}
    status, body = await post(client, "/v2/models/mnist/infer", {"inputs": [tensor], "outputs": [{"name": "logits"}]})
    assert status == 400
    assert "'probabilities'" in body["error"] and "'is_digit'" in body["error"]


async def test_a_model_folder_without_a_rejector_serves_raw_probabilities_and_calls_ink_a_digit(tmp_path, mnist_data):
    folder = tmp_path / "weights"
    folder.mkdir()
    for name in ("model.npz", "model.json"):
        shutil.copy(MODEL_DIR / name, folder / name)
    image = drawn(LETTERS["X"])
    async with serve_asgi(settings_for(tmp_path, model_dir=folder)) as bare:
        status, body = await post(bare, "/predict", {"pixels": image})
    assert status == 200
    assert body["is_digit"] is True
    assert np.allclose(body["probabilities"], load_model(folder)[0].predict_proba(image[None, :])[0], atol=1e-6)


async def test_a_rejector_for_another_digit_model_stops_the_start(tmp_path):
    folder = tmp_path / "weights"
    shutil.copytree(MODEL_DIR, folder)
    card = orjson.loads((folder / "rejector.json").read_bytes())
    card["digit_model_id"] = "mlp-000000000000"
    (folder / "rejector.json").write_bytes(orjson.dumps(card))
    with pytest.raises(Exception, match="mlp-000000000000"):
        async with serve_asgi(settings_for(tmp_path, model_dir=folder)):
            pass
