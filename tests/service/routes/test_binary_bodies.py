"""Bodies beyond plain JSON: raw pixel batches on /predict/batch, Triton's binary tensor framing on V2
infer (inputs and outputs), and gzip/deflate request bodies; each with the 4xx for a body that is cut
short, mis-sized or not what it says it is."""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import orjson
import pytest

from backend.recognition.smoke import load_smoke_sample
from backend.testing.service import ShippedReference, serve_asgi, settings_for

pytestmark = pytest.mark.anyio

OCTET = {"content-type": "application/octet-stream"}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_smoke_sample()[0][:4]


@pytest.fixture(scope="module")
def model():
    """The shipped model as the service answers with it (calibrated probabilities)."""
    return ShippedReference()


def framed(header: dict, binary: bytes) -> tuple[bytes, dict[str, str]]:
    text = orjson.dumps(header)
    return text + binary, {**OCTET, "inference-header-content-length": str(len(text))}


def binary_request(images: np.ndarray, **extra) -> dict:
    size = images.astype("<f4").nbytes
    return {
        "inputs": [{"name": "input", "shape": list(images.shape), "datatype": "FP32", "parameters": {"binary_data_size": size}}],
        **extra,
    }


# --- /predict/batch with raw pixels ------------------------------------------------------------------


async def test_batch_of_uint8_pixels_matches_the_json_batch(client, digits):
    as_bytes = np.round(digits * 255).astype(np.uint8)
    raw = await client.post("/predict/batch", content=as_bytes.tobytes(), headers=OCTET)
    assert raw.status_code == 200
    as_json = await client.post("/predict/batch", content=orjson.dumps({"images": (as_bytes / 255).tolist()}), headers=JSON)
    assert as_json.status_code == 200
    np.testing.assert_allclose(
        [p["probabilities"] for p in raw.json()["predictions"]], [p["probabilities"] for p in as_json.json()["predictions"]], atol=1e-6
    )


async def test_batch_of_float32_pixels_with_the_dtype_query(client, digits, model):
    response = await client.post("/predict/batch?dtype=float32", content=digits.astype("<f4").tobytes(), headers=OCTET)
    assert response.status_code == 200
    got = np.array([p["probabilities"] for p in response.json()["predictions"]])
    np.testing.assert_allclose(got, model.predict_proba(digits), atol=1e-5)


@pytest.mark.parametrize(
    ("query", "body", "words"),
    [
        ("", b"\x00" * 783, "not a whole number of images"),
        ("", b"", "not a whole number"),
        ("?dtype=float32", b"\x00" * 784, "3136 bytes each"),
        ("?dtype=float32", np.full(784, 1.5, "<f4").tobytes(), "in [0, 1]"),
        ("?dtype=float32", np.full(784, np.nan, "<f4").tobytes(), "in [0, 1]"),
    ],
    ids=["short-row", "empty", "float-size", "float-range", "float-nan"],
)
async def test_a_mis_sized_or_out_of_range_raw_batch_is_a_422(client, query, body, words):
    response = await client.post(f"/predict/batch{query}", content=body, headers=OCTET)
    assert response.status_code == 422
    assert words in response.json()["detail"][0]["msg"]


async def test_raw_batch_limits(tmp_path):
    async with serve_asgi(settings_for(tmp_path, batch_max=2, reload_poll_s=0)) as small:
        response = await small.post("/predict/batch", content=b"\x00" * 784 * 3, headers=OCTET)
        assert response.status_code == 422
        assert "at most 2" in response.json()["detail"][0]["msg"]
        response = await small.post("/predict/batch?dtype=int16", content=b"\x00" * 784, headers=OCTET)
        assert response.status_code == 422
        response = await small.post("/predict/batch", content=b"\x00" * 784, headers={"content-type": "text/csv"})
        assert response.status_code == 415
        assert "application/octet-stream" in response.json()["detail"]


# --- V2 binary tensors ------------------------------------------------------------------------------


@pytest.mark.parametrize("binary_output", [True, False])
async def test_v2_binary_input_and_output(client, digits, model, binary_output):
    extra = {"parameters": {"binary_data_output": True}} if binary_output else {}
    body, headers = framed(binary_request(digits, **extra), digits.astype("<f4").tobytes())
    response = await client.post("/v2/models/mnist/infer", content=body, headers=headers)
    assert response.status_code == 200
    if binary_output:
        split = int(response.headers["inference-header-content-length"])
        header = orjson.loads(response.content[:split])
        assert header["outputs"][0]["parameters"] == {"binary_data_size": 4 * 10 * 4}
        assert header["outputs"][1] == {"name": "is_digit", "shape": [4], "datatype": "BOOL", "parameters": {"binary_data_size": 4}}
        data = response.content[split:]
        assert len(data) == 4 * 10 * 4 + 4  # the outputs' bytes one after the other, in the header's order
        got = np.frombuffer(data[: 4 * 10 * 4], "<f4").reshape(4, 10)
        np.testing.assert_array_equal(np.frombuffer(data[4 * 10 * 4 :], np.bool_), model.is_digit(digits))
    else:
        assert "inference-header-content-length" not in response.headers
        got = np.array(response.json()["outputs"][0]["data"]).reshape(4, 10)
    np.testing.assert_allclose(got, model.predict_proba(digits), atol=1e-6)


async def test_v2_binary_output_asked_per_output(client, digits):
    payload = {"inputs": [{"name": "input", "shape": [4, 784], "datatype": "FP32", "data": digits.tolist()}]}
    payload["outputs"] = [{"name": "probabilities", "parameters": {"binary_data": True}}]
    response = await client.post("/v2/models/mnist/infer", content=orjson.dumps(payload), headers=JSON)
    assert response.status_code == 200
    split = int(response.headers["inference-header-content-length"])
    assert len(response.content) - split == 4 * 10 * 4


@pytest.mark.parametrize(
    ("cut", "size", "header_length", "words"),
    [
        (-4, None, None, "truncated"),
        (4, None, None, "longer than"),
        (0, 100, None, "binary_data_size must be 12544"),
        (0, None, "99999999", "Inference-Header-Content-Length"),
        (0, None, "abc", "Inference-Header-Content-Length"),
    ],
    ids=["truncated", "extra-bytes", "wrong-size", "header-past-the-end", "header-not-a-number"],
)
async def test_v2_mis_sized_binary_bodies_are_400(client, digits, cut, size, header_length, words):
    request = binary_request(digits)
    if size is not None:
        request["inputs"][0]["parameters"]["binary_data_size"] = size
    data = digits.astype("<f4").tobytes()
    data = data[:cut] if cut < 0 else data + b"\x00" * cut
    body, headers = framed(request, data)
    if header_length is not None:
        headers["inference-header-content-length"] = header_length
    response = await client.post("/v2/models/mnist/infer", content=body, headers=headers)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert words in response.json()["error"]


async def test_v2_binary_values_out_of_range_are_400(client, digits):
    bad = digits.copy()
    bad[1, 5] = np.inf
    body, headers = framed(binary_request(bad), bad.astype("<f4").tobytes())
    response = await client.post("/v2/models/mnist/infer", content=body, headers=headers)
    assert response.status_code == 400
    assert "[0, 1]" in response.json()["error"] and "inputs[0].data[789]" in response.json()["error"]


async def test_v2_bytes_after_a_header_that_declares_no_binary_input_are_400(client, digits):
    payload = {"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", "data": digits[0].tolist()}]}
    body, headers = framed(payload, b"\x00" * 8)
    response = await client.post("/v2/models/mnist/infer", content=body, headers=headers)
    assert response.status_code == 400
    assert "no input has a binary_data_size" in response.json()["error"]


async def test_v2_json_labelled_octet_stream_is_read_as_json(client, digits):
    # aiohttp (tritonclient's async client) labels every body application/octet-stream
    payload = {"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", "data": digits[0].tolist()}]}
    response = await client.post("/v2/models/mnist/infer", content=orjson.dumps(payload), headers=OCTET)
    assert response.status_code == 200
    assert response.json()["outputs"][0]["shape"] == [1, 10]
    response = await client.post("/v2/models/mnist/infer", content=b"\x01\x02 not json", headers=OCTET)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


# --- Content-Encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_bodies_are_read(client, digits, encoding):
    payload = orjson.dumps({"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", "data": digits[0].tolist()}]})
    packed = gzip.compress(payload) if encoding == "gzip" else zlib.compress(payload)
    response = await client.post("/v2/models/mnist/infer", content=packed, headers={**JSON, "content-encoding": encoding})
    assert response.status_code == 200
    raw = np.round(digits * 255).astype(np.uint8).tobytes()
    packed = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    response = await client.post("/predict/batch", content=packed, headers={**OCTET, "content-encoding": encoding})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 4


async def test_bad_compressed_bodies_are_refused(client):
    response = await client.post("/v2/models/mnist/infer", content=b"not gzip", headers={**JSON, "content-encoding": "gzip"})
    assert response.status_code == 400
    assert "gzip" in response.json()["error"]
    response = await client.post(
        "/v2/models/mnist/infer", content=gzip.compress(b"{}" * 100)[:-12], headers={**JSON, "content-encoding": "gzip"}
    )
    assert response.status_code == 400
    assert "truncated" in response.json()["error"]
    response = await client.post("/v2/models/mnist/infer", content=b"{}", headers={**JSON, "content-encoding": "br"})
    assert response.status_code == 415
    assert "gzip" in response.json()["error"]


async def test_a_compressed_bomb_stops_at_the_body_cap(tmp_path):
    async with serve_asgi(settings_for(tmp_path, batch_max=1, reload_poll_s=0)) as small:
        bomb = gzip.compress(b"0" * 10_000_000)  # about 10 kB that inflate to 10 MB, over the cap of ~84 kB
        response = await small.post("/predict/batch", content=bomb, headers={**OCTET, "content-encoding": "gzip"})
        assert response.status_code == 413
        assert "decompresses" in response.json()["detail"]
