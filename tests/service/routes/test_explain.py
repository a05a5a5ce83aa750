"""POST /explain and GET /explain/weights through the ASGI app: layers as /model describes them,
evidence that adds up, and every body /predict refuses refused here the same way."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.service.schemas import EXAMPLE_PIXELS
from backend.testing.service import serve_asgi, settings_for

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def direct_model():
    return load_model(MODEL_DIR)[0]


async def explain(client, pixels) -> dict:
    response = await client.post("/explain", content=orjson.dumps({"pixels": pixels}), headers=JSON)
    assert response.status_code == 200, response.text
    return response.json()


async def test_explain_layers_match_the_model_card(client, mnist_data):
    card = (await client.get("/model")).json()
    body = await explain(client, mnist_data.test.images[0].tolist())
    sizes = card["members"][body["member"]]["layer_sizes"]
    assert body["members"] == len(card["members"]) and body["layer_sizes"] == sizes
    assert [len(layer) for layer in body["activations"]] == sizes[1:]
    assert math.isclose(sum(body["activations"][-1]), 1.0, abs_tol=1e-5)
    assert all(value >= 0 for layer in body["activations"][:-1] for value in layer)  # ReLU units


async def test_explain_evidence_adds_up_to_the_score_difference(client, mnist_data, direct_model):
    for x in mnist_data.test.images[:8]:
        body = await explain(client, x.tolist())
        assert body["exact"] is True and len(body["evidence"]) == 784
        assert math.isclose(sum(body["evidence"]) + body["bias"], body["score_difference"], rel_tol=1e-4)
        assert body["digit"] == int(direct_model.predict(x[np.newaxis])[0]) != body["runner_up"]
        assert body["probabilities"][body["digit"]] == max(body["probabilities"])


async def test_explain_names_the_units_that_mattered_with_their_weights(client, direct_model):
    body = await explain(client, EXAMPLE_PIXELS)
    units = body["units"]
    assert units and [abs(u["contribution"]) for u in units] == sorted((abs(u["contribution"]) for u in units), reverse=True)
    first_layer = direct_model.members[body["member"]].weights[0]
    for unit in units:
        np.testing.assert_allclose(unit["weights"], first_layer[unit["index"]], rtol=1e-6)
        assert math.isclose(unit["activation"], body["activations"][0][unit["index"]], rel_tol=1e-5, abs_tol=1e-6)


async def test_unit_weights_are_the_first_layers_row(client, direct_model):
    response = await client.get("/explain/weights/1/17")
    assert response.status_code == 200
    body = response.json()
    assert (body["member"], body["layer"], body["unit"]) == (1, 1, 17)
    np.testing.assert_allclose(body["weights"], direct_model.members[1].weights[0][17], rtol=1e-6)
    assert math.isclose(body["bias"], float(direct_model.members[1].biases[0][17]), rel_tol=1e-6)


@pytest.mark.parametrize(
    "path, words",
    [("/explain/weights/3/0", "no network 3: the model has 3"), ("/explain/weights/0/800", "no unit 800: the first hidden layer has 800")],
)
async def test_unit_weights_out_of_range_is_a_404_saying_what_exists(client, path, words):
    response = await client.get(path)
    assert response.status_code == 404
    assert words in response.json()["detail"]


async def test_unit_weights_with_a_negative_index_is_a_422(client):
    response = await client.get("/explain/weights/0/-1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "unit"]


BAD_BODIES = {
    "short": orjson.dumps({"pixels": [0.5] * 783}),
    "long": orjson.dumps({"pixels": [0.5] * 785}),
    "nested": orjson.dumps({"pixels": [[0.5]] * 784}),
    "above-1": orjson.dumps({"pixels": [0.5] * 783 + [1.5]}),
    "below-0": orjson.dumps({"pixels": [-0.01] + [0.5] * 783}),
    "string": orjson.dumps({"pixels": [0.5] * 100 + ["0.5"] + [0.5] * 683}),
    "boolean": orjson.dumps({"pixels": [0.5] * 100 + [True] + [0.5] * 683}),
    "null": orjson.dumps({"pixels": [0.5] * 100 + [None] + [0.5] * 683}),
    "string-field": orjson.dumps({"pixels": "0.5, 0.5"}),
    "object-field": orjson.dumps({"pixels": {"0": 0.5}}),
    "nan": b'{"pixels": [' + b"0.25, " * 300 + b"NaN" + b", 0.25" * 483 + b"]}",
    "infinity": b'{"pixels": [' + b"0.25, " * 300 + b"1e999" + b", 0.25" * 483 + b"]}",
    "truncated-json": b'{"pixels": [0.1, 0.2',
    "empty-body": b"",
    "not-an-object": b"[0.5, 0.5]",
    "missing-field": b'{"pixel": []}',
    "not-utf8": b"\xff\xfe{}",
    "several-bad": orjson.dumps({"pixels": [2.0, 0.5, -1.0] + [0.5] * 781}),
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
async def test_explain_refuses_what_predict_refuses_with_the_same_answer(client, name):
    predicted = await client.post("/predict", content=BAD_BODIES[name], headers=JSON)
    explained = await client.post("/explain", content=BAD_BODIES[name], headers=JSON)
    assert 400 <= predicted.status_code < 500
    assert explained.status_code == predicted.status_code
    assert explained.json() == predicted.json()


async def test_explain_refuses_a_non_json_content_type_like_predict(client):
    body = orjson.dumps({"pixels": [0.0] * 784})
    predicted = await client.post("/predict", content=body, headers={"content-type": "text/plain"})
    explained = await client.post("/explain", content=body, headers={"content-type": "text/plain"})
    assert explained.status_code == predicted.status_code == 415
    assert explained.json() == predicted.json()


async def test_explain_is_documented_in_openapi(client):
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/explain"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Explanation")
    assert set(operation["responses"]) >= {"413", "415", "422"}
    assert "evidence" in schema["components"]["schemas"]["Explanation"]["properties"]
    assert "/explain/weights/{member}/{unit}" in schema["paths"]


async def test_explain_refuses_a_body_over_the_cap_like_predict(tmp_path):
    settings = settings_for(tmp_path, batch_max=2)
    body = b'{"pixels": [' + b" " * (settings.body_max_bytes + 1) + b"]}"
    async with serve_asgi(settings) as small:
        predicted = await small.post("/predict", content=body, headers=JSON)
        explained = await small.post("/explain", content=body, headers=JSON)
    assert explained.status_code == predicted.status_code == 413
    assert explained.json() == predicted.json()


async def test_explain_with_a_model_name_explains_that_model(client, mnist_data):
    x = mnist_data.test.images[0].tolist()
    response = await client.post("/explain?model=classic", content=orjson.dumps({"pixels": x}), headers=JSON)
    assert response.status_code == 200, response.text
    body = response.json()
    classic = load_model(MODEL_DIR / "classic")[0]
    assert body["members"] == 1 and body["layer_sizes"] == [784, 30, 10]
    assert [len(layer) for layer in body["activations"]] == [30, 10]
    assert body["digit"] == int(classic.predict(np.array([x], dtype=np.float32))[0])
    default = await explain(client, x)
    assert default["layer_sizes"] == [784, 800, 800, 10]  # the default model is still explained without ?model=


async def test_explain_with_an_unknown_model_is_a_404_listing_the_names(client):
    response = await client.post("/explain?model=nope", content=orjson.dumps({"pixels": EXAMPLE_PIXELS}), headers=JSON)
    assert response.status_code == 404
    assert "no model 'nope'" in response.json()["detail"] and "'classic'" in response.json()["detail"]


async def test_unit_weights_of_a_named_model_are_its_first_layers_row(client):
    response = await client.get("/explain/weights/0/29?model=classic")
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["weights"], load_model(MODEL_DIR / "classic")[0].members[0].weights[0][29], rtol=1e-6)
    beyond = await client.get("/explain/weights/0/30?model=classic")
    assert beyond.status_code == 404
    assert "30 (0 to 29)" in beyond.json()["detail"]
