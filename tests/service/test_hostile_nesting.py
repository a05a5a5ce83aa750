"""Deep nesting in every field of every JSON route, against the real server: never a 5xx.

For each route's valid body, every field (and the first item of every array) is replaced in turn by an
array or an object nested 1,000 levels deep (orjson accepts that) and 100,000 deep (it does not; the
fallback parser must not crash either). Each answer must be the route's own 4xx with a message.

What this leaves out: the other attacks (test_hostile_clients.py) and random bodies (test_fuzz_api.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from backend.nn.shapes import N_INPUTS
from backend.service.dependencies import DIGIT_BODY_MAX_BYTES
from backend.service.schemas import EXAMPLE_PIXELS
from backend.testing import hostile
from backend.testing.live_server import LiveServer

PIXELS = EXAMPLE_PIXELS  # a drawing with ink: an all-blank one is refused as "no ink"
BODIES: dict[str, dict[str, Any]] = {
    "/predict": {"pixels": PIXELS},
    "/predict/batch": {"images": [PIXELS]},
    "/v2/models/mnist/infer": {
        "id": "1",
        "inputs": [{"name": "input", "shape": [1, N_INPUTS], "datatype": "FP32", "data": PIXELS, "parameters": {}}],
        "outputs": [{"name": "probabilities"}],
    },
}
DEPTHS = (1_000, 100_000)
ANY_OBJECT = {("inputs", 0, "parameters")}  # the protocol lets a client put any object here; it is ignored


def field_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """The path of every field of a JSON value, and of the first item of each array (not the body itself)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from field_paths(item, (*path, key))
    elif isinstance(value, list) and value:
        yield (*path, 0)
        yield from field_paths(value[0], (*path, 0))


def replaced(body: Any, path: tuple, text: str) -> str:
    """The body as JSON with the value at `path` replaced by raw JSON `text`."""
    marker = "\u0000NESTED\u0000"
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = marker
    return json.dumps(copy).replace(json.dumps(marker), text)


CASES = [
    (route, path, kind, depth)
    for route, body in BODIES.items()
    for path in [(), *field_paths(body)]
    for kind in ("array", "object")
    for depth in DEPTHS
]


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(workers=1) as running:
        yield running


@pytest.mark.parametrize(
    ("route", "path", "kind", "depth"), CASES, ids=[f"{r}-{'.'.join(map(str, p)) or 'body'}-{k}-{d}" for r, p, k, d in CASES]
)
def test_deep_nesting_in_any_field_is_a_clear_4xx(server: LiveServer, route: str, path: tuple, kind: str, depth: int) -> None:
    deep = hostile.nested(depth) if kind == "array" else '{"a":' * depth + "0" + "}" * depth
    body = deep if not path else replaced(BODIES[route], path, deep)
    if route == "/predict" and len(body) > DIGIT_BODY_MAX_BYTES:  # refused from its length, maybe before it is all sent
        answer = hostile.refused_upload(server.port, route, body.encode())
        # b"": the kernel reset the connection over the unread rest and dropped the 413 it held (which
        # test_hostile_clients.py reads when the client stops sending)
        assert answer.startswith(b"HTTP/1.1 413") or answer == b"", answer[:200]
        return
    status, headers, data, _ = hostile.request(server.port, "POST", route, body.encode(), {"Content-Type": "application/json"})
    if path in ANY_OBJECT and kind == "object" and depth < 1024:  # within what orjson reads: a valid request
        assert status == 200, data[:300]
        return
    assert 400 <= status < 500, (status, data[:300])
    assert headers["content-type"] == "application/json"
    assert "content-security-policy" in headers
    answer = json.loads(data)
    message = answer["error"] if route.startswith("/v2") else answer["detail"]
    assert message
    assert len(data) < 4096  # the message describes the value briefly, never echoes it


def test_the_reported_body_is_now_a_400_naming_the_shape(server: LiveServer) -> None:
    body = '{"inputs":[{"name":"input","shape":' + hostile.nested(1000) + ',"datatype":"FP32","data":[]}]}'
    status, _, data, _ = hostile.request(server.port, "POST", "/v2/models/mnist/infer", body.encode(), {"Content-Type": "application/json"})
    assert status == 400
    assert json.loads(data)["error"].startswith("inputs[0].shape: shape must be [B, 784]")


def test_a_valid_body_still_gets_its_answer(server: LiveServer) -> None:
    for route, body in BODIES.items():
        status, _, data, _ = hostile.request(server.port, "POST", route, json.dumps(body).encode(), {"Content-Type": "application/json"})
        assert status == 200, (route, data[:200])
