"""/health, /model, /openapi.json, /metrics and the static page at / (/docs and /redoc: test_docs.py)."""

from __future__ import annotations

import logging
import re

import orjson
import pytest

from backend.paths import MODEL_DIR
from backend.service.routes.meta import without_private
from backend.service.schemas import EXAMPLE_PIXELS
from backend.testing.service import INDEX_HTML, serve_asgi, settings_for

pytestmark = pytest.mark.anyio

CARD = orjson.loads((MODEL_DIR / "model.json").read_bytes())

JSON = {"Content-Type": "application/json"}


async def test_health_names_the_loaded_model(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model_id": CARD["model_id"]}


async def test_health_does_not_accept_post(client):
    response = await client.post("/health")
    assert 400 <= response.status_code < 500


async def test_model_card_is_the_card_beside_the_weights_less_versions_and_commands(client):
    response = await client.get("/model")
    assert response.status_code == 200
    body = response.json()
    assert body == without_private(CARD)
    for key in ("members", "n_parameters", "weights_sha256", "test_accuracy", "training"):
        assert body[key] == CARD[key]
    for key in ("versions", "command", "trained_as", "from"):  # at no depth
        assert f'"{key}":' not in response.text
    if CARD.get("members_from"):  # a mixed ensemble still says where each network came from, without the paths
        assert [o["seed"] for o in body["members_from"]] == [o["seed"] for o in CARD["members_from"]]


def test_private_fields_are_dropped_at_every_depth():
    card = {
        "command": "python scripts/combine.py --mix /home/me/a:0",
        "parent": {"command": "python scripts/train.py", "model_id": "mlp-0123456789ab"},
        "members_from": [{"from": "/home/me/a", "seed": 3, "parent": {"trained_as": ["python scripts/train.py"]}}],
        "test_accuracy": 0.99,
    }
    public = {"parent": {"model_id": "mlp-0123456789ab"}, "members_from": [{"seed": 3, "parent": {}}], "test_accuracy": 0.99}
    assert without_private(card) == public


async def test_model_card_details_full_shows_the_whole_card(tmp_path):
    async with serve_asgi(settings_for(tmp_path, model_card_details="full")) as full:
        response = await full.get("/model")
    assert response.status_code == 200
    assert response.json() == CARD
    assert "versions" in CARD and "command" in CARD


async def test_openapi_documents_hand_parsed_bodies_with_examples(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    predict = schema["paths"]["/predict"]["post"]
    body = predict["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/PredictRequest"}
    assert body["example"] == {"pixels": EXAMPLE_PIXELS}
    pixels = schema["components"]["schemas"]["PredictRequest"]["properties"]["pixels"]
    assert (pixels["minItems"], pixels["maxItems"]) == (784, 784)
    assert pixels["items"] == {"type": "number", "minimum": 0, "maximum": 1}
    assert predict["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Prediction"}
    assert "422" in predict["responses"] and "413" in predict["responses"]
    assert "InferenceRequest" in schema["components"]["schemas"] and "RequestInput" in schema["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', response.text))
    assert refs <= set(schema["components"]["schemas"]), "every $ref resolves"
    assert {"image/png", "image/jpeg"} <= set(schema["paths"]["/predict/image"]["post"]["requestBody"]["content"])


def value(text: str, series: str) -> float:
    """One series' value in a /metrics text (0 when it is not there yet)."""
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_metrics_count_requests_by_route_and_predictions_by_digit(client):
    before = (await client.get("/metrics")).text
    answer = (await client.post("/predict", content=orjson.dumps({"pixels": EXAMPLE_PIXELS}), headers=JSON)).json()
    await client.post("/predict", content=b"{", headers=JSON)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    ok = 'http_requests_total{method="POST",route="/predict",status="200"}'
    bad = 'http_requests_total{method="POST",route="/predict",status="422"}'
    digit = f'digit_predictions_total{{digit="{answer["digit"]}"}}'
    assert value(after, ok) == value(before, ok) + 1
    assert value(after, bad) == value(before, bad) + 1
    assert value(after, digit) == value(before, digit) + 1
    assert value(after, 'http_request_duration_seconds_count{route="/predict"}') >= 2
    assert 'http_request_duration_seconds_bucket{le="0.005",route="/predict"}' in after


async def test_metrics_count_the_models_compute_time_per_image(client):
    model_id = (await client.get("/model")).json()["model_id"]
    seconds, images = f'model_compute_cpu_seconds_total{{model_id="{model_id}"}}', f'model_compute_images_total{{model_id="{model_id}"}}'
    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.post("/predict", content=orjson.dumps({"pixels": EXAMPLE_PIXELS}), headers=JSON)).status_code == 200
    batch = await client.post("/predict/batch", content=orjson.dumps({"images": [EXAMPLE_PIXELS] * 4}), headers=JSON)
    assert batch.status_code == 200
    after = (await client.get("/metrics")).text
    assert value(after, images) == value(before, images) + 7
    assert value(after, seconds) > value(before, seconds)


async def test_metrics_count_no_compute_for_a_refused_request(client):
    model_id = (await client.get("/model")).json()["model_id"]
    images = f'model_compute_images_total{{model_id="{model_id}"}}'
    before = (await client.get("/metrics")).text
    assert (await client.post("/predict", content=orjson.dumps({"pixels": [0.0] * 784}), headers=JSON)).status_code == 422
    assert (await client.post("/predict", content=b"{", headers=JSON)).status_code == 422
    assert value((await client.get("/metrics")).text, images) == value(before, images)


async def test_static_page_is_served_at_the_root_with_security_headers(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.text == INDEX_HTML
    script = await client.get("/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    for r in (response, script):
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"


async def test_security_headers_are_on_api_answers_and_errors_too(client):
    for response in (
        await client.get("/health"),
        await client.post("/predict", content=b"[]", headers=JSON),
        await client.get("/no-such-file.txt"),
        await client.get("/docs"),
    ):
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_no_cors_by_default(client):
    response = await client.options("/predict", headers={"origin": "https://elsewhere.example", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in response.headers
    response = await client.get("/health", headers={"origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_cors_allows_only_the_configured_origins(tmp_path):
    async with serve_asgi(settings_for(tmp_path, cors_origins=("https://app.example",))) as cors:
        allowed = await cors.options(
            "/predict",
            headers={
                "origin": "https://app.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        refused = await cors.options("/predict", headers={"origin": "https://evil.example", "access-control-request-method": "POST"})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers


async def test_missing_page_logs_a_warning_and_the_api_still_works(tmp_path, caplog):
    settings = settings_for(tmp_path)
    (settings.frontend_dir / "index.html").unlink()
    with caplog.at_level(logging.WARNING, logger="backend"):
        async with serve_asgi(settings) as client:
            assert (await client.get("/")).status_code == 404
            assert (await client.get("/health")).status_code == 200
    assert any("index.html" in record.getMessage() for record in caplog.records)


async def test_missing_frontend_folder_is_not_a_crash(tmp_path, caplog):
    settings = settings_for(tmp_path).model_copy(update={"frontend_dir": tmp_path / "nowhere"})
    with caplog.at_level(logging.WARNING, logger="backend"):
        async with serve_asgi(settings) as client:
            assert (await client.get("/")).status_code == 404
            assert (await client.get("/health")).status_code == 200
    assert any("nowhere" in record.getMessage() for record in caplog.records)
