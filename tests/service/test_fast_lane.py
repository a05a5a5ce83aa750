"""PredictFastLane: a plain POST /predict is answered without the router, exactly as the route answers it;
anything else reaches the app with its body replayed, so the route's rules and errors stay the only ones."""

from __future__ import annotations

import httpx
import numpy as np
import orjson
import pytest

from backend.nn.mnist import load_mnist
from backend.service.app import create_app
from backend.service.fast_lane import PredictFastLane
from backend.service.routes.predict import router as predict_router
from backend.testing.service import settings_for

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory):
    app = create_app(settings_for(tmp_path_factory.mktemp("fast_lane")))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_mnist().test.images[:12]


def digit_body(pixels: np.ndarray) -> bytes:
    return orjson.dumps({"pixels": pixels}, option=orjson.OPT_SERIALIZE_NUMPY)


class RecordingApp:
    """Stands for the rest of the app: reads the whole body it is given, answers 299 with it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send) -> None:
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                self.bodies.append(b"<disconnect>")
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def through_lane(app, body: bytes, headers: list[tuple[bytes, bytes]] | None = None, query: bytes = b"", chunks=None):
    """Send one request through PredictFastLane in front of a RecordingApp; (status, body sent, the app's recorder, scope)."""
    inner = RecordingApp()
    lane = PredictFastLane(inner, route=predict_router.routes[0])
    if headers is None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": "POST", "path": "/predict", "query_string": query, "headers": headers, "app": app}
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks or [body]) - 1} for i, chunk in enumerate(chunks or [body])
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await lane(scope, receive, send)
    body_sent = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body_sent, inner, scope


async def test_a_plain_digit_is_answered_by_the_lane_without_the_rest_of_the_app(app, digits):
    status, body, inner, scope = await through_lane(app, digit_body(digits[0]))
    assert status == 200
    answer = orjson.loads(body)
    assert answer["digit"] == int(np.argmax(answer["probabilities"]))
    assert inner.bodies == [], "the app behind the lane never saw the request"
    assert scope["route"].path == "/predict", "labelled for the metrics as the router would"
    assert app.state.body_budget.held == 0


@pytest.mark.parametrize(
    "case, body, headers, query",
    [
        ("not JSON", b"{nope", None, b""),
        ("783 pixels", orjson.dumps({"pixels": [0.5] * 783}), None, b""),
        ("a pixel out of range", orjson.dumps({"pixels": [2.0] + [0.5] * 783}), None, b""),
        ("no ink", orjson.dumps({"pixels": [0] * 784}), None, b""),
        ("an unknown model", orjson.dumps({"pixels": [0.5] * 784}), None, b"model=nope"),
        ("another query", orjson.dumps({"pixels": [0.5] * 784}), None, b"model=mnist&x=1"),
        ("no Content-Type", orjson.dumps({"pixels": [0.5] * 784}), [(b"content-length", b"3922")], b""),
        ("text/plain", b"{}", [(b"content-type", b"text/plain"), (b"content-length", b"2")], b""),
        ("no Content-Length (chunked)", b"{}", [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")], b""),
        ("a gzip body", b"{}", [(b"content-type", b"application/json"), (b"content-length", b"2"), (b"content-encoding", b"gzip")], b""),
        ("over the digit cap", b"{}", [(b"content-type", b"application/json"), (b"content-length", b"99999999")], b""),
        ("shorter than declared", b"{}", [(b"content-type", b"application/json"), (b"content-length", b"5")], b""),
    ],
)
async def test_anything_but_a_plain_digit_reaches_the_app_with_its_body_intact(app, case, body, headers, query):
    status, _, inner, _ = await through_lane(app, body, headers, query)
    assert status == 299, case
    assert inner.bodies == [body], f"{case}: the app read the body the client sent"
    assert app.state.body_budget.held == 0


async def test_a_body_in_pieces_is_read_whole_and_a_disconnect_is_handed_on(app, digits):
    body = digit_body(digits[1])
    status, _, inner, _ = await through_lane(app, body, chunks=[body[:100], body[100:2000], body[2000:]])
    assert status == 200
    assert inner.bodies == []

    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    inner = RecordingApp()
    lane = PredictFastLane(inner, route=predict_router.routes[0])
    scope = {"type": "http", "method": "POST", "path": "/predict", "query_string": b"", "headers": headers, "app": app}
    messages = [{"type": "http.request", "body": body[:100], "more_body": True}, {"type": "http.disconnect"}]

    async def receive():
        return messages.pop(0)

    async def send(message):
        raise AssertionError("no answer to a client that has gone")

    await lane(scope, receive, send)
    assert inner.bodies == [b"<disconnect>"]
    assert app.state.body_budget.held == 0


async def test_a_full_body_budget_is_left_to_the_route(app, digits):
    budget = app.state.body_budget
    budget.take(budget.limit)
    try:
        status, _, inner, _ = await through_lane(app, digit_body(digits[2]))
    finally:
        budget.give_back(budget.limit)
    assert status == 299
    assert len(inner.bodies) == 1


async def test_the_lane_and_the_route_give_the_same_answers(app, digits):
    # a body sent in chunks (no Content-Length) goes the route's way: the same digits, compared byte for byte
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        for model in ("", "?model=classic"):
            for pixels in digits:
                body = digit_body(pixels)

                async def in_pieces(body=body):
                    yield body

                by_lane = await client.post(f"/predict{model}", content=body, headers={"content-type": "application/json"})
                by_route = await client.post(f"/predict{model}", content=in_pieces(), headers={"content-type": "application/json"})
                assert by_lane.status_code == by_route.status_code == 200
                assert by_lane.content == by_route.content
                assert by_lane.headers["content-type"] == by_route.headers["content-type"] == "application/json"
                assert by_lane.headers["content-security-policy"] == by_route.headers["content-security-policy"]


async def test_errors_are_the_routes_own(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        no_ink = await client.post("/predict", json={"pixels": [0] * 784})
        unknown = await client.post("/predict?model=nope", json={"pixels": [0.5] * 784})
    assert no_ink.status_code == 422
    assert no_ink.json()["detail"][0]["type"] == "no_ink"
    assert unknown.status_code == 404
    assert "mnist" in unknown.json()["detail"]
