"""The V2 / Open Inference Protocol routes: health, metadata, inference, and {"error": ...} for bad calls."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from backend.paths import MODEL_DIR
from backend.service.schemas import EXAMPLE_PIXELS
from backend.testing.service import ShippedReference, serve_asgi, settings_for

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}
MODEL_ID = orjson.loads((MODEL_DIR / "model.json").read_bytes())["model_id"]


def tensor(data, shape=None, name="input", datatype="FP32") -> dict:
    rows = len(data) // 784 if data and not isinstance(data[0], list) else len(data)
    return {"name": name, "shape": shape or [rows, 784], "datatype": datatype, "data": data}


async def infer(client, payload, path="/v2/models/mnist/infer"):
    response = await client.post(path, content=orjson.dumps(payload), headers=JSON)
    return response.status_code, response.json()


async def test_live_and_ready_are_200(client):
    for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/mnist/ready", f"/v2/models/mnist/versions/{MODEL_ID}/ready"):
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_server_metadata(client):
    response = await client.get("/v2")
    assert response.status_code == 200
    assert response.json()["name"] == "draw-a-digit"
    assert isinstance(response.json()["extensions"], list)


async def test_model_metadata_describes_the_tensors(client):
    response = await client.get("/v2/models/mnist")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "mnist"
    assert body["versions"] == [MODEL_ID]
    assert body["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 784]}]
    assert body["outputs"] == [
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]},
        {"name": "is_digit", "datatype": "BOOL", "shape": [-1]},
    ]
    versioned = await client.get(f"/v2/models/mnist/versions/{MODEL_ID}")
    assert versioned.status_code == 200
    assert versioned.json() == body


@pytest.mark.parametrize("path", ["/v2/models/resnet", "/v2/models/mnist/versions/mlp-000000000000", "/v2/models/other/ready"])
async def test_unknown_model_or_version_is_404_with_an_error(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert "mnist" in response.json()["error"]


@pytest.mark.parametrize("path", ["/v2/models/mnist", "/v2/models/mnist/ready"])
async def test_a_version_query_parameter_is_not_a_version(client, path):
    # the version is a path segment (/versions/{version}); a query string must not stand in for it
    response = await client.get(path, params={"version": "mlp-000000000000"})
    assert response.status_code == 200


async def test_only_the_versioned_paths_document_a_version(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, item in paths.items():
        if not path.startswith("/v2/models/"):
            continue
        for operation in item.values():
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            assert ("version" in names) == ("{version}" in path), (path, names)


async def test_infer_flat_and_nested_data_give_the_models_probabilities(client):
    reference = ShippedReference()  # the shipped model with its calibration, straight from backend.nn/recognition
    rng = np.random.default_rng(0)
    images = (rng.random((3, 784)) * (rng.random((3, 784)) > 0.8)).tolist()
    expected = reference.predict_proba(np.array(images, dtype=np.float32))
    for data in ([v for row in images for v in row], images):
        status, body = await infer(client, {"id": "req-7", "inputs": [tensor(data, shape=[3, 784])]})
        assert status == 200
        assert body["id"] == "req-7"
        assert body["model_name"] == "mnist" and body["model_version"] == MODEL_ID
        output, is_digit = body["outputs"]
        assert (output["name"], output["shape"], output["datatype"]) == ("probabilities", [3, 10], "FP32")
        assert (is_digit["name"], is_digit["shape"], is_digit["datatype"]) == ("is_digit", [3], "BOOL")
        assert np.allclose(np.array(output["data"]).reshape(3, 10), expected, atol=1e-6)


async def test_infer_on_a_version_path_and_with_the_output_named(client):
    payload = {"inputs": [tensor(EXAMPLE_PIXELS)], "outputs": [{"name": "probabilities"}]}
    status, body = await infer(client, payload, f"/v2/models/mnist/versions/{MODEL_ID}/infer")
    assert status == 200
    assert "id" not in body
    assert len(body["outputs"][0]["data"]) == 10


@pytest.mark.parametrize(
    "payload, words",
    [
        ({"inputs": [tensor(EXAMPLE_PIXELS, name="x")]}, "'input'"),
        ({"inputs": [tensor(EXAMPLE_PIXELS, datatype="INT8")]}, "FP32"),
        ({"inputs": [tensor(EXAMPLE_PIXELS, shape=[1, 28, 28])]}, "shape"),
        ({"inputs": [tensor(EXAMPLE_PIXELS, shape=[2, 784])]}, "needs 1568"),
        ({"inputs": [tensor(EXAMPLE_PIXELS[:-1] + [1.5])]}, "within [0, 1]"),
        ({"inputs": [tensor(EXAMPLE_PIXELS[:-1] + [True])]}, "boolean"),
        ({"inputs": [tensor(EXAMPLE_PIXELS[:-1] + ["0"])]}, "string"),
        ({"inputs": [tensor([EXAMPLE_PIXELS, EXAMPLE_PIXELS[:5]], shape=[2, 784])]}, "784"),
        ({"inputs": []}, "exactly one input"),
        ({"inputs": [tensor(EXAMPLE_PIXELS), tensor(EXAMPLE_PIXELS)]}, "exactly one input"),
        ({"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32"}]}, "data"),
        ({"inputs": [{**tensor(EXAMPLE_PIXELS), "parameters": {"binary_data_size": 3136}}]}, "binary"),
        ({"inputs": [{**tensor(EXAMPLE_PIXELS), "parameters": 5}]}, "parameters must be an object"),
        ({"inputs": [tensor(EXAMPLE_PIXELS)], "outputs": [{"name": "logits"}]}, "probabilities"),
        ({"inputs": [tensor(EXAMPLE_PIXELS)], "id": 5}, "id"),
        ({"input": [tensor(EXAMPLE_PIXELS)]}, "inputs"),
        ([1, 2], "object"),
    ],
    ids=[
        "input-name",
        "datatype",
        "shape-rank",
        "data-length",
        "range",
        "boolean",
        "string",
        "ragged",
        "no-input",
        "two-inputs",
        "no-data",
        "binary-size-without-bytes",
        "parameters-not-object",
        "unknown-output",
        "numeric-id",
        "missing-inputs",
        "not-object",
    ],
)
async def test_infer_errors_are_400_with_an_error_message(client, payload, words):
    status, body = await infer(client, payload)
    assert status == 400
    assert set(body) == {"error"}
    assert words in body["error"]


async def test_infer_rejects_non_finite_and_malformed_json(client):
    body = b'{"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", "data": [NaN' + b", 0" * 783 + b"]}]}"
    response = await client.post("/v2/models/mnist/infer", content=body, headers=JSON)
    assert response.status_code == 400
    assert "inputs[0].data[0]" in response.json()["error"] and "NaN" in response.json()["error"]
    response = await client.post("/v2/models/mnist/infer", content=b'{"inputs": [', headers=JSON)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


async def test_infer_batch_limits_and_content_type(tmp_path):
    async with serve_asgi(settings_for(tmp_path, batch_max=2)) as small:
        status, body = await infer(small, {"inputs": [tensor(EXAMPLE_PIXELS * 3)]})
        assert status == 400
        assert "1 to 2" in body["error"]
        response = await small.post("/v2/models/mnist/infer", content=b"x" * (small_cap := 2 * 784 * 25 + 64 * 1024 + 1), headers=JSON)
        assert response.status_code == 413
        assert str(small_cap - 1) in response.json()["error"]
        response = await small.post(
            "/v2/models/mnist/infer", content=orjson.dumps({"inputs": [tensor(EXAMPLE_PIXELS)]}), headers={"content-type": "text/csv"}
        )
        assert response.status_code == 415
        assert "application/json" in response.json()["error"]


async def test_infer_on_an_unknown_model_is_404(client):
    status, body = await infer(client, {"inputs": [tensor(EXAMPLE_PIXELS)]}, "/v2/models/cifar/infer")
    assert status == 404
    assert "error" in body
