"""The real inference clients, used as an integrator outside the project would: tritonclient (sync and
async, HTTP) and the kserve SDK, with their defaults, against the real server (backend.serve).

Each answer is compared with the model run in-process on the same digits, so a client that decodes
garbage fails. The error cases check that the clients can read the server's errors (the V2 {"error"}).
"""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
import tritonclient.http.aio as triton_aio
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from tritonclient.utils import InferenceServerException

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.smoke import load_smoke_sample
from backend.testing.live_server import LiveServer
from backend.testing.service import ShippedReference

ADMIN_TOKEN = "s3cret-for-tests"


@pytest.fixture(scope="module")
def server():
    with LiveServer(workers=1, env={"ADMIN_TOKEN": ADMIN_TOKEN, "RELOAD_POLL_S": "0"}) as running:
        yield running


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """Five sample digits (5, 784) float32 and what the default model says about them (5, 10)."""
    images = load_smoke_sample()[0][:5]
    return images, ShippedReference().predict_proba(images)  # calibrated, as the service answers


def address(server: LiveServer) -> str:
    return server.url.removeprefix("http://")


def triton_inputs(images: np.ndarray, binary: bool) -> list[triton.InferInput]:
    tensor = triton.InferInput("input", list(images.shape), "FP32")
    tensor.set_data_from_numpy(images, binary_data=binary)
    return [tensor]


@pytest.mark.parametrize("binary_input", [True, False])
@pytest.mark.parametrize("binary_output", [None, True, False])
def test_tritonclient_sync_infer(server, digits, binary_input, binary_output):
    images, expected = digits
    client = triton.InferenceServerClient(address(server))
    outputs = None if binary_output is None else [triton.InferRequestedOutput("probabilities", binary_data=binary_output)]
    result = client.infer("mnist", triton_inputs(images, binary_input), outputs=outputs)
    probabilities = result.as_numpy("probabilities")
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert result.get_response()["model_version"] == client.get_model_metadata("mnist")["versions"][0]


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_tritonclient_compressed_requests(server, digits, algorithm):
    images, expected = digits
    client = triton.InferenceServerClient(address(server))
    result = client.infer("mnist", triton_inputs(images, True), request_compression_algorithm=algorithm)
    np.testing.assert_allclose(result.as_numpy("probabilities"), expected, atol=1e-5)


def test_tritonclient_health_metadata_and_repository(server):
    client = triton.InferenceServerClient(address(server))
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("mnist") and client.is_model_ready("classic")
    assert not client.is_model_ready("cifar")
    index = client.get_model_repository_index()
    assert {entry["name"] for entry in index} >= {"mnist", "classic"}
    assert all(entry["state"] == "READY" for entry in index)
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]


def test_tritonclient_reads_the_servers_errors(server, digits):
    client = triton.InferenceServerClient(address(server))
    with pytest.raises(InferenceServerException, match="no model 'cifar'.*'mnist'"):
        client.infer("cifar", triton_inputs(digits[0], True))
    with pytest.raises(InferenceServerException, match="not part of the V2"):
        client.get_model_config("mnist")  # Triton's own route, not in the open protocol
    with pytest.raises(InferenceServerException, match="ADMIN_TOKEN"):
        client.load_model("classic")
    with pytest.raises(InferenceServerException, match="does not unload"):
        client.unload_model("classic")


def test_tritonclient_load_model_with_the_admin_token(server):
    client = triton.InferenceServerClient(address(server))
    client.load_model("classic", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # nothing changed: a no-op that succeeds
    assert client.is_model_ready("classic")


def test_tritonclient_infers_on_another_named_model(server, digits):
    images, _ = digits
    classic, _ = load_model(MODEL_DIR / "classic")
    result = triton.InferenceServerClient(address(server)).infer("classic", triton_inputs(images, True))
    np.testing.assert_allclose(result.as_numpy("probabilities"), classic.predict_proba(images), atol=1e-5)


@pytest.mark.parametrize("binary_input", [True, False])
def test_tritonclient_async_infer(server, digits, binary_input):
    images, expected = digits

    async def run() -> tuple[np.ndarray, bool]:
        client = triton_aio.InferenceServerClient(address(server))
        try:
            live = await client.is_server_live()
            result = await client.infer("mnist", triton_inputs(images, binary_input))
            return result.as_numpy("probabilities"), live
        finally:
            await client.close()

    probabilities, live = asyncio.run(run())
    assert live
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_tritonclient_async_error_is_readable(server, digits):
    async def run() -> None:
        client = triton_aio.InferenceServerClient(address(server))
        try:
            await client.infer("mnist", triton_inputs(digits[0][:, :700].copy(), True))
        finally:
            await client.close()

    with pytest.raises(InferenceServerException, match=r"shape must be \[B, 784\]"):
        asyncio.run(run())


@pytest.mark.parametrize("binary", [True, False])
def test_kserve_sdk_health_and_infer(server, digits, binary):
    images, expected = digits

    async def run():
        client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0))
        try:
            live = await client.is_server_live(server.url)
            ready = await client.is_server_ready(server.url)
            model_ready = await client.is_model_ready(server.url, "mnist")
            tensor = InferInput("input", list(images.shape), "FP32")
            tensor.set_data_from_numpy(images, binary_data=binary)
            response = await client.infer(server.url, InferRequest("mnist", [tensor]), model_name="mnist")
            return live, ready, model_ready, response
        finally:
            await client.close()

    live, ready, model_ready, response = asyncio.run(run())
    assert live is True and ready is True and model_ready is True
    np.testing.assert_allclose(response.outputs[0].as_numpy(), expected, atol=1e-5)


def test_kserve_sdk_unknown_model_is_an_http_error_with_the_message(server, digits):
    async def run():
        client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0))
        try:
            tensor = InferInput("input", [1, 784], "FP32")
            tensor.set_data_from_numpy(digits[0][:1], binary_data=False)
            await client.infer(server.url, InferRequest("cifar", [tensor]), model_name="cifar")
        finally:
            await client.close()

    with pytest.raises(httpx.HTTPStatusError, match="no model 'cifar'"):
        asyncio.run(run())
