"""Methods, HEAD, and the static page's caching, compression and metrics label, on the real server.

What this leaves out: CORS preflights (tests/service/test_middleware.py).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import orjson
import pytest

from backend.paths import FRONTEND_DIR
from backend.testing import hostile
from backend.testing.live_server import LiveServer


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(workers=1) as running:
        yield running


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("GET", "/predict", "POST"),
        ("PUT", "/predict", "POST"),
        ("OPTIONS", "/predict/batch", "POST"),
        ("DELETE", "/predict/image", "POST"),
        ("POST", "/health", "GET, HEAD"),
        ("PATCH", "/model", "GET, HEAD"),
        ("POST", "/metrics", "GET, HEAD"),
    ],
)
def test_a_wrong_method_on_an_api_path_is_405_with_its_allow(server: LiveServer, method: str, path: str, allow: str) -> None:
    status, headers, body, _ = hostile.request(server.port, method, path)
    assert status == 405
    assert headers["allow"] == allow
    assert orjson.loads(body) == {"detail": f"{method} is not allowed here; allowed: {allow}"}
    assert "content-security-policy" in headers


def test_a_wrong_method_under_v2_answers_in_the_protocols_shape(server: LiveServer) -> None:
    status, headers, body, _ = hostile.request(server.port, "GET", "/v2/models/mnist/infer")
    assert status == 405
    assert headers["allow"] == "POST"
    assert orjson.loads(body) == {"error": "GET is not allowed here; allowed: POST"}


@pytest.mark.parametrize(
    "path", ["/health", "/model", "/docs", "/metrics", "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/mnist"]
)
def test_head_works_wherever_get_does(server: LiveServer, path: str) -> None:
    get_status, get_headers, _, _ = hostile.request(server.port, "GET", path)
    status, headers, body, _ = hostile.request(server.port, "HEAD", path)
    assert status == get_status == 200
    assert body == b""
    assert headers.get("content-type") == get_headers.get("content-type")


def test_head_of_an_unknown_model_is_its_404(server: LiveServer) -> None:
    status, _, body, _ = hostile.request(server.port, "HEAD", "/v2/models/nope")
    assert status == 404
    assert body == b""


def test_an_unknown_path_is_still_404(server: LiveServer) -> None:
    status, _, _, _ = hostile.request(server.port, "GET", "/no/such/thing")
    assert status == 404


def test_the_page_is_revalidated_and_its_script_compressed(server: LiveServer) -> None:
    status, headers, _, _ = hostile.request(server.port, "GET", "/")
    assert status == 200
    assert headers["cache-control"] == "no-cache"
    status, headers, body, _ = hostile.request(server.port, "GET", "/js/main.js", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == "no-cache"
    assert gzip.decompress(body) == (FRONTEND_DIR / "js" / "main.js").read_bytes()


def test_a_client_that_does_not_accept_gzip_gets_the_file_as_is(server: LiveServer) -> None:
    status, headers, body, _ = hostile.request(server.port, "GET", "/js/main.js", headers={"Accept-Encoding": "identity"})
    assert status == 200
    assert "content-encoding" not in headers
    assert body == (FRONTEND_DIR / "js" / "main.js").read_bytes()


def test_static_files_are_labelled_static_in_the_metrics(server: LiveServer) -> None:
    hostile.request(server.port, "GET", "/css/app.css")
    metrics = hostile.request(server.port, "GET", "/metrics")[2].decode()
    assert 'http_requests_total{method="GET",route="static",status="200"}' in metrics
    assert 'route="unmatched",status="200"' not in metrics
