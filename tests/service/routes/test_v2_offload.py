"""V2 infer bodies over PARSE_OFFLOAD_MIN_BYTES are parsed in the parsing helper process (offload.py), as
/predict/batch's are: the same answers and the same {"error"} messages as parsing in place.

What this leaves out: the effect on /health while large bodies are parsed (test_hostile_images.py
measures it on the real server for /predict/batch).
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import orjson
import pytest

from backend.testing.service import ShippedReference, serve_asgi, settings_for

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}
ROWS = 3


def infer_body(images: list[list[float]]) -> bytes:
    return orjson.dumps({"id": "big", "inputs": [{"name": "input", "shape": [len(images), 784], "datatype": "FP32", "data": images}]})


def images() -> list[list[float]]:
    rng = np.random.default_rng(1)
    return (rng.random((ROWS, 784)) * (rng.random((ROWS, 784)) > 0.8)).tolist()


async def test_a_large_infer_body_is_parsed_by_the_helper_to_the_models_answer(tmp_path) -> None:
    body = infer_body(images())
    async with serve_asgi(settings_for(tmp_path, parse_offload_min_bytes=len(body) - 1)) as client:
        before = set(multiprocessing.active_children())
        response = await client.post("/v2/models/mnist/infer", content=body, headers=JSON)
        helpers = set(multiprocessing.active_children()) - before
    assert response.status_code == 200, response.text[:300]
    assert len(helpers) == 1, "the body went to a helper process"
    output = response.json()["outputs"][0]
    expected = ShippedReference().predict_proba(np.array(images(), dtype=np.float32))
    assert np.allclose(np.array(output["data"]).reshape(ROWS, 10), expected, atol=1e-6)


async def test_a_small_infer_body_starts_no_helper(tmp_path) -> None:
    body = infer_body(images())
    async with serve_asgi(settings_for(tmp_path, parse_offload_min_bytes=len(body) + 1)) as client:
        before = set(multiprocessing.active_children())
        response = await client.post("/v2/models/mnist/infer", content=body, headers=JSON)
        assert set(multiprocessing.active_children()) == before
    assert response.status_code == 200


async def test_a_bad_pixel_in_a_large_infer_body_is_the_protocols_400_naming_it(tmp_path) -> None:
    bad = images()
    bad[2][783] = 2.0
    body = infer_body(bad)
    async with serve_asgi(settings_for(tmp_path, parse_offload_min_bytes=1000)) as offloaded:
        response = await offloaded.post("/v2/models/mnist/infer", content=body, headers=JSON)
    async with serve_asgi(settings_for(tmp_path, parse_offload_min_bytes=0)) as in_place:
        reference = await in_place.post("/v2/models/mnist/infer", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.json() == reference.json()
    assert set(response.json()) == {"error"}
    assert "inputs[0].data[2]" in response.json()["error"] and "2.0" in response.json()["error"]
