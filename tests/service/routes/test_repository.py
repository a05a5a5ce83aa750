"""The model repository over HTTP: every model folder served by name (?model=, V2 per name), the index,
404s that list the names, the OpenAPI schema naming them, and the V2 protocol's own health bodies and errors."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.smoke import load_smoke_sample
from backend.testing.service import serve_asgi, settings_for

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}
CARDS = {
    name: orjson.loads((folder / "model.json").read_bytes()) for name, folder in (("mnist", MODEL_DIR), ("classic", MODEL_DIR / "classic"))
}


@pytest.fixture(scope="module")
def classic():
    return load_model(MODEL_DIR / "classic")[0]


async def test_v2_models_index_lists_every_model_with_its_version(client):
    response = await client.get("/v2/models")
    assert response.status_code == 200
    index = {entry["name"]: entry for entry in response.json()}
    for name, card in CARDS.items():
        assert index[name] == {"name": name, "version": card["model_id"], "state": "READY"}
    assert response.json()[0]["name"] == "mnist"  # the default model first


@pytest.mark.parametrize("body", [b"", b'{"ready": true}'])
async def test_repository_index_post_answers_the_same(client, body):
    response = await client.post("/v2/repository/index", content=body, headers=JSON)
    assert response.status_code == 200
    assert response.json() == (await client.get("/v2/models")).json()


async def test_predict_picks_the_named_model(client, classic):
    image = load_smoke_sample()[0][:1]
    response = await client.post("/predict?model=classic", content=orjson.dumps({"pixels": image[0].tolist()}), headers=JSON)
    assert response.status_code == 200
    np.testing.assert_allclose(response.json()["probabilities"], classic.predict_proba(image)[0], atol=1e-6)
    default = await client.post("/predict", content=orjson.dumps({"pixels": image[0].tolist()}), headers=JSON)
    named = await client.post("/predict?model=mnist", content=orjson.dumps({"pixels": image[0].tolist()}), headers=JSON)
    assert default.status_code == named.status_code == 200
    assert default.json() == named.json() != response.json()


async def test_batch_image_and_model_card_take_the_model_too(client, classic):
    images = load_smoke_sample()[0][:3]
    response = await client.post("/predict/batch?model=classic", content=orjson.dumps({"images": images.tolist()}), headers=JSON)
    assert response.status_code == 200
    assert [p["digit"] for p in response.json()["predictions"]] == classic.predict_proba(images).argmax(axis=1).tolist()
    card = await client.get("/model?model=classic")
    assert card.status_code == 200
    assert card.json()["model_id"] == CARDS["classic"]["model_id"]
    assert (await client.get("/model")).json()["model_id"] == CARDS["mnist"]["model_id"]
    v2 = await client.get("/v2/models/classic")
    assert v2.status_code == 200
    assert v2.json()["versions"] == [CARDS["classic"]["model_id"]]


@pytest.mark.parametrize("path", ["/predict?model=cifar", "/predict/batch?model=cifar", "/model?model=cifar"])
async def test_an_unknown_model_is_a_404_listing_the_names(client, path):
    method = client.get if path.startswith("/model") else client.post
    kwargs = {} if path.startswith("/model") else {"content": orjson.dumps({"pixels": [0.0] * 784}), "headers": JSON}
    response = await method(path, **kwargs)
    assert response.status_code == 404
    assert "'cifar'" in response.json()["detail"] and "'mnist'" in response.json()["detail"] and "'classic'" in response.json()["detail"]


async def test_v2_unknown_model_lists_the_names(client):
    response = await client.get("/v2/models/cifar")
    assert response.status_code == 404
    assert "'classic'" in response.json()["error"]


async def test_openapi_names_the_models_and_bounds_batches(tmp_path):
    async with serve_asgi(settings_for(tmp_path, batch_max=7)) as small:
        response = await small.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    params = {p["name"]: p for p in schema["paths"]["/predict"]["post"]["parameters"]}
    assert {"mnist", "classic"} <= set(params["model"]["schema"]["enum"])
    v2_params = {p["name"]: p for p in schema["paths"]["/v2/models/{name}/infer"]["post"]["parameters"]}
    assert "classic" in v2_params["name"]["schema"]["enum"]
    assert schema["components"]["schemas"]["BatchRequest"]["properties"]["images"]["maxItems"] == 7
    assert "application/octet-stream" in schema["paths"]["/predict/batch"]["post"]["requestBody"]["content"]


async def test_v2_health_bodies(client):
    live, ready = await client.get("/v2/health/live"), await client.get("/v2/health/ready")
    assert live.status_code == ready.status_code == 200
    assert live.json() == {"live": True} and ready.json() == {"ready": True}
    model = await client.get("/v2/models/classic/ready")
    assert model.status_code == 200
    assert model.json() == {"name": "classic", "ready": True}


@pytest.mark.parametrize("path", ["/v2/models/mnist/config", "/v2/nothing", "/v2/", "/v2/models/mnist/stats"])
async def test_unknown_v2_paths_are_404_in_the_protocols_shape(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert set(response.json()) == {"error"}
    assert path in response.json()["error"]


async def test_a_wrong_method_on_a_v2_path_is_405_in_the_protocols_shape(client):
    response = await client.get("/v2/models/mnist/infer")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["error"]
    response = await client.post("/v2/health/live")
    assert response.status_code == 405
    assert set(response.json()) == {"error"}


async def test_admin_reload_needs_the_token(tmp_path):
    async with serve_asgi(settings_for(tmp_path, reload_poll_s=0)) as off:
        response = await off.post("/admin/reload")
        assert response.status_code == 403
        assert "ADMIN_TOKEN" in response.json()["detail"]
    async with serve_asgi(settings_for(tmp_path, admin_token="t0ken", reload_poll_s=0)) as on:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic t0ken"}):
            response = await on.post("/admin/reload", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"] == "Bearer"
        response = await on.post("/admin/reload", headers={"authorization": "Bearer t0ken"})
        assert response.status_code == 200
        assert response.json()["loaded"] == {} and "mnist" in response.json()["unchanged"]
        response = await on.post("/admin/reload?model=cifar", headers={"authorization": "Bearer t0ken"})
        assert response.status_code == 404
        v2 = await on.post("/v2/repository/models/mnist/load", headers={"authorization": "Bearer wrong"})
        assert v2.status_code == 401
        assert set(v2.json()) == {"error"}
