"""POST /feedback, GET /feedback/stats and GET /feedback/rows in-process (ASGI), on a real SQLite file.

The same routes on PostgreSQL, several worker processes, kill -9 and a database taken away are in
tests/service/feedback/test_durability.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from backend.nn.shapes import N_INPUTS
from backend.service.feedback.store import SQLITE_FILE
from backend.testing.service import serve_asgi, settings_for

pytestmark = pytest.mark.anyio
TOKEN = "s3cret-admin-token"


def body(label: int = 4, predicted: int = 9, **extra) -> dict:
    pixels = np.zeros(N_INPUTS)
    pixels[300:320] = 1.0
    return {"pixels": pixels.tolist(), "label": label, "predicted": predicted, **extra}


@pytest.fixture
async def open_client(tmp_path: Path):
    async with serve_asgi(settings_for(tmp_path, feedback_rate=0, admin_token=TOKEN)) as client:
        yield client


async def test_a_correction_is_committed_before_201(open_client, tmp_path: Path) -> None:
    response = await open_client.post("/feedback", json=body(label=4, predicted=9, strokes=[[[1, 2], [3.5, 4]]]))
    assert response.status_code == 201
    row_id = response.json()["id"]
    assert isinstance(row_id, int)
    # read back with a separate connection to the file: it is there, committed
    with sqlite3.connect(tmp_path / "data" / SQLITE_FILE) as db:
        label, predicted, model_id, pixels, strokes = db.execute(
            "SELECT label, predicted, model_id, pixels, strokes FROM feedback WHERE id = ?", (row_id,)
        ).fetchone()
    health = (await open_client.get("/health")).json()
    assert (label, predicted, model_id) == (4, 9, health["model_id"])  # model_id left out: the served model's
    assert len(pixels) == N_INPUTS and pixels[300] == 255 and pixels[0] == 0
    assert strokes == "[[[1,2],[3.5,4]]]"


async def test_stats_count_what_was_sent(open_client) -> None:
    for label, predicted in [(4, 9), (4, 4), (1, 7)]:
        assert (await open_client.post("/feedback", json=body(label, predicted, model_id="mlp-abc"))).status_code == 201
    response = await open_client.get("/feedback/stats")
    assert response.status_code == 200
    stats = response.json()
    assert stats["total"] == 3
    assert stats["by_label"]["4"] == 2 and stats["by_label"]["1"] == 1 and sum(stats["by_label"].values()) == 3
    assert stats["by_predicted"]["9"] == 1 and stats["by_predicted"]["7"] == 1 and stats["by_predicted"]["4"] == 1
    assert stats["model_right"] == pytest.approx(1 / 3)


async def test_stats_of_nothing(open_client) -> None:
    response = await open_client.get("/feedback/stats")
    assert response.status_code == 200
    assert response.json()["total"] == 0 and response.json()["model_right"] is None


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"label": 10}, ["body", "label"], "less_than_equal"),
        ({"label": -1}, ["body", "label"], "greater_than_equal"),
        ({"label": 4.0}, ["body", "label"], "int_type"),
        ({"label": True}, ["body", "label"], "int_type"),
        ({"predicted": "7"}, ["body", "predicted"], "int_type"),
        ({"model_id": "has spaces"}, ["body", "model_id"], "string_pattern_mismatch"),
        ({"strokes": [[[1, 2, 3]]]}, ["body", "strokes", 0, 0], "list_type"),
        ({"strokes": [[]]}, ["body", "strokes", 0], "too_short"),
        ({"strokes": [[[0, 0]] * 257]}, ["body", "strokes", 0], "too_long"),
        ({"strokes": [[[0, 0]]] * 33}, ["body", "strokes"], "too_long"),
    ],
)
async def test_bad_fields_get_a_422_naming_them(open_client, change: dict, loc: list, kind: str) -> None:
    response = await open_client.post("/feedback", json={**body(), **change})
    assert response.status_code == 422
    [entry] = response.json()["detail"]
    assert (entry["loc"], entry["type"]) == (loc, kind)


async def test_missing_label_is_named(open_client) -> None:
    sent = body()
    del sent["label"]
    response = await open_client.post("/feedback", json=sent)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "label"]


@pytest.mark.parametrize(
    "pixels",
    [[0.5] * 783, [0.5] * 783 + [1.5], [0.5] * 783 + ["0.5"], [0.5] * 783 + [None], "not a list"],
    ids=["short", "out-of-range", "string", "null", "not-a-list"],
)
async def test_bad_pixels_get_the_same_422_as_predict(open_client, pixels) -> None:
    feedback = await open_client.post("/feedback", json={**body(), "pixels": pixels})
    predict = await open_client.post("/predict", json={"pixels": pixels})
    assert feedback.status_code == 422
    assert predict.status_code == 422
    assert feedback.json() == predict.json()


async def test_not_json_gets_the_same_422_as_predict(open_client) -> None:
    feedback = await open_client.post("/feedback", content=b"{nope", headers={"Content-Type": "application/json"})
    predict = await open_client.post("/predict", content=b"{nope", headers={"Content-Type": "application/json"})
    assert feedback.status_code == 422
    assert feedback.json() == predict.json()


async def test_another_content_type_is_415(open_client) -> None:
    response = await open_client.post("/feedback", content=b"label=4", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


async def test_a_body_larger_than_any_correction_is_413_before_it_is_read(open_client) -> None:
    huge = b'{"pixels": [' + b"0," * 300_000 + b"0]}"
    response = await open_client.post("/feedback", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "over the limit" in response.json()["detail"]
    largest = body(strokes=[[[0.123456789012345678, 0.987654321098765432]] * 256] * 32)
    assert (await open_client.post("/feedback", json=largest)).status_code == 201  # the largest legal body fits


async def test_a_client_over_its_burst_gets_429_with_retry_after(tmp_path: Path) -> None:
    async with serve_asgi(settings_for(tmp_path, feedback_rate=0.5, feedback_burst=3)) as client:
        statuses = [(await client.post("/feedback", json=body())).status_code for _ in range(3)]
        refused = await client.post("/feedback", content=b"not even JSON", headers={"Content-Type": "application/json"})
        assert statuses == [201, 201, 201]
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"  # one token at 0.5 a second
        assert "too many corrections" in refused.json()["detail"]
        assert (await client.get("/feedback/stats")).json()["total"] == 3
        assert (await client.post("/predict", json={"pixels": body()["pixels"]})).status_code == 200  # predictions are not limited


async def test_the_row_cap_answers_507(tmp_path: Path) -> None:
    async with serve_asgi(settings_for(tmp_path, feedback_rate=0, feedback_max_rows=2)) as client:
        assert [(await client.post("/feedback", json=body())).status_code for _ in range(2)] == [201, 201]
        full = await client.post("/feedback", json=body())
        assert full.status_code == 507
        assert "full (2 rows)" in full.json()["detail"]


async def test_a_locked_database_answers_503_while_predict_serves(tmp_path: Path) -> None:
    async with serve_asgi(settings_for(tmp_path, feedback_rate=0, feedback_busy_timeout_ms=100)) as client:
        assert (await client.post("/feedback", json=body())).status_code == 201
        holder = sqlite3.connect(tmp_path / "data" / SQLITE_FILE, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            refused = await client.post("/feedback", json=body())
            predicted = await client.post("/predict", json={"pixels": body()["pixels"]})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert "cannot be stored right now" in refused.json()["detail"]
        assert predicted.status_code == 200
        assert (await client.post("/feedback", json=body())).status_code == 201


async def test_a_data_dir_that_cannot_exist_still_serves_predictions(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the data folder should be")
    async with serve_asgi(settings_for(tmp_path, data_dir=tmp_path / "blocker" / "data")) as client:
        assert (await client.post("/predict", json={"pixels": body()["pixels"]})).status_code == 200
        refused = await client.post("/feedback", json=body())
        assert refused.status_code == 503
        assert (await client.get("/feedback/stats")).status_code == 503


async def test_metrics_count_corrections_by_label(open_client) -> None:
    def count(text: str, label: str) -> float:
        for line in text.splitlines():
            if line.startswith(f'feedback_corrections_total{{label="{label}"}}'):
                return float(line.split()[-1])
        return 0.0

    before = (await open_client.get("/metrics")).text
    assert (await open_client.post("/feedback", json=body(label=6, predicted=0))).status_code == 201
    assert (await open_client.post("/feedback", json=body(label=99))).status_code == 422  # refused: not counted
    after = (await open_client.get("/metrics")).text
    assert count(after, "6") == count(before, "6") + 1


async def test_admin_rows_need_the_token(open_client) -> None:
    created = (await open_client.post("/feedback", json=body(label=2, predicted=3))).json()["id"]
    assert (await open_client.get("/feedback/rows")).status_code == 401
    wrong = await open_client.get("/feedback/rows", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    response = await open_client.get("/feedback/rows", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    [row] = response.json()["rows"]
    assert (row["id"], row["label"], row["predicted"]) == (created, 2, 3)
    assert len(row["pixels"]) == N_INPUTS and row["pixels"][300] == 255
    after = await open_client.get(f"/feedback/rows?after_id={created}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert after.status_code == 200 and after.json() == {"rows": []}
    bad = await open_client.get("/feedback/rows?limit=0", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 422


async def test_admin_routes_do_not_exist_without_a_token(tmp_path: Path) -> None:
    async with serve_asgi(settings_for(tmp_path)) as client:
        response = await client.get("/feedback/rows", headers={"Authorization": "Bearer "})
        assert response.status_code == 404
        assert "/feedback/rows" not in (await client.get("/openapi.json")).json()["paths"]
