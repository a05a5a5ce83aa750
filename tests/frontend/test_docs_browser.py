"""/docs (Swagger UI) and /redoc (ReDoc) in a real browser (Debian's chromium) against a real server.

"Try it out" is clicked as a person would: /predict with the example body Swagger UI prefills from
/openapi.json, /predict/image with a PNG chosen in its file picker, the other routes as prefilled, each
with a bad request beside it; the answers are read from the page. The `blank` fixture (conftest.py) fails
a test whose page asked another origin for anything or logged an error (a CSP violation is one).
"""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import Locator, Page, expect

from backend.service.schemas import EXAMPLE_PIXELS
from backend.testing.browser import PageWatch
from backend.testing.service import SEVEN, stroke_digit_png

Seen = tuple[Page, PageWatch]


def open_swagger(page: Page, server_url: str) -> None:
    page.goto(server_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("draw-a-digit")


def try_out(page: Page, method: str, path: str) -> Locator:
    """Open one operation's block and press "Try it out"; returns the block."""
    operation = page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])")
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    return operation


def execute(operation: Locator) -> tuple[int, str]:
    """Press Execute; the status code and the response body Swagger UI shows."""
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status")
    expect(status).to_have_text(re.compile(r"^\s*\d{3}"), timeout=15_000)
    body = operation.locator(".live-responses-table .response-col_description pre.microlight").first
    return int(status.inner_text().strip()[:3]), body.inner_text()


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_predict_runs_from_docs_with_the_prefilled_example(blank: Seen, server_url: str) -> None:
    page, watch = blank
    open_swagger(page, server_url)
    operation = try_out(page, "post", "/predict")
    prefilled = json.loads(operation.locator("textarea.body-param__text").input_value())
    assert prefilled == {"pixels": EXAMPLE_PIXELS}, "the body is the example from /openapi.json"
    status, body = execute(operation)
    assert status == 200
    answer = json.loads(body)
    assert answer == post_json(server_url + "/predict", {"pixels": EXAMPLE_PIXELS})
    assert len(answer["probabilities"]) == 10
    assert f"{server_url}/predict" in watch.requests


def test_predict_from_docs_shows_the_422_for_a_short_body(blank: Seen, server_url: str) -> None:
    page, watch = blank
    watch.expect_failed_loads = True  # the browser logs every 4xx answer
    open_swagger(page, server_url)
    operation = try_out(page, "post", "/predict")
    operation.locator("textarea.body-param__text").fill('{"pixels": [0.5, 0.5]}')
    status, body = execute(operation)
    assert status == 422
    assert "784" in body


def test_predict_image_uploads_a_png_from_the_file_picker(blank: Seen, server_url: str) -> None:
    page, _ = blank
    open_swagger(page, server_url)
    operation = try_out(page, "post", "/predict/image")
    expect(operation.locator("select.content-type").first).to_have_value("image/png")
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda request: sent.append((request.url, request.headers.get("content-type"))))
    operation.locator("input[type=file]").set_input_files({"name": "seven.png", "mimeType": "image/png", "buffer": stroke_digit_png(SEVEN)})
    status, body = execute(operation)
    assert status == 200
    answer = json.loads(body)
    assert answer["digit"] == 7
    assert len(answer["pixels"]) == 784
    assert (server_url + "/predict/image", "image/png") in sent, "the raw PNG, not multipart"


def test_predict_image_from_docs_refuses_a_file_that_is_not_a_picture(blank: Seen, server_url: str) -> None:
    page, watch = blank
    watch.expect_failed_loads = True  # the browser logs every 4xx answer
    open_swagger(page, server_url)
    operation = try_out(page, "post", "/predict/image")
    operation.locator("input[type=file]").set_input_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture at all"})
    status, body = execute(operation)
    assert 400 <= status < 500
    assert "detail" in json.loads(body)


@pytest.mark.parametrize(
    ("method", "path", "expected_key"),
    [("get", "/health", "model_id"), ("get", "/model", "weights_sha256"), ("post", "/predict/batch", "predictions")],
)
def test_the_other_routes_run_from_docs_as_prefilled(blank: Seen, server_url: str, method: str, path: str, expected_key: str) -> None:
    page, _ = blank
    open_swagger(page, server_url)
    status, body = execute(try_out(page, method, path))
    assert status == 200
    assert expected_key in json.loads(body)


@pytest.mark.parametrize(("body", "expected_status"), [(None, 200), ('{"inputs": []}', 400)])
def test_v2_infer_runs_from_docs(blank: Seen, server_url: str, body: str | None, expected_status: int) -> None:
    page, watch = blank
    watch.expect_failed_loads = expected_status >= 400  # the browser logs every 4xx answer
    open_swagger(page, server_url)
    operation = try_out(page, "post", "/v2/models/{name}/infer")
    # the served models' names are an enum in the schema, so Swagger UI offers them in a menu
    operation.locator("tr[data-param-name='name'] select").select_option("mnist")
    if body is not None:
        operation.locator("textarea.body-param__text").fill(body)
    status, answer_text = execute(operation)
    assert status == expected_status
    answer = json.loads(answer_text)
    if expected_status == 200:
        assert answer["model_name"] == "mnist"
        assert answer["outputs"][0]["shape"] == [1, 10]
    else:
        assert "input" in answer["error"]


def test_redoc_renders_every_route_from_this_origin(blank: Seen, server_url: str) -> None:
    page, watch = blank
    page.goto(server_url + "/redoc")
    expect(page.locator("h1")).to_contain_text("draw-a-digit")
    for summary in ("Recognise the digit in a PNG or JPEG picture", "Recognise up to BATCH_MAX digits in one matrix pass"):
        expect(page.get_by_role("heading", name=summary)).to_be_visible()
    # the request body example comes from /openapi.json
    expect(page.locator("[data-section-id='operation/predict_predict_post']")).to_contain_text('"pixels"')
    assert f"{server_url}/openapi.json" in watch.requests


def test_the_drawing_page_links_to_the_docs(desktop: Seen, server_url: str) -> None:
    page, _ = desktop
    page.get_by_test_id("docs-link").click()
    page.wait_for_url(server_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("draw-a-digit")
    page.go_back()
    page.get_by_role("link", name="API reference").click()
    page.wait_for_url(server_url + "/redoc")
    expect(page.locator("h1")).to_contain_text("draw-a-digit")
