"""Hot reload: new weights (a changed file or a new version folder) are checked and swapped in while the
service answers; bad ones are refused with a log line and the old model keeps serving.

The repository here is a copy of the small `classic` model as the default model, so copies are cheap.
A new version is that model with its weights nudged (a different file, hence a different model_id,
recognising digits as well); a broken one has its weights scrambled (it loads, but fails the smoke test).
"""

from __future__ import annotations

import asyncio
import http.client
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import orjson
import pytest

from backend.nn.weights import load_model, save_model
from backend.paths import MODEL_DIR
from backend.service.repository import ModelRepository
from backend.service.schemas import EXAMPLE_PIXELS
from backend.testing.live_server import LiveServer
from backend.testing.service import serve_asgi, settings_for

TOKEN = {"authorization": "Bearer reload-token"}


def repository_copy(root: Path) -> Path:
    """root/model_weights holding the classic model as the default model."""
    target = root / "model_weights"
    shutil.copytree(MODEL_DIR / "classic", target)
    return target


def write_variant(target: Path, scale: float = 1.001, scramble: bool = False) -> str:
    """Save the classic model, nudged (or scrambled), into `target` (atomically); returns its model_id."""
    model, card = load_model(MODEL_DIR / "classic")
    rng = np.random.default_rng(0)
    for net in model.members:
        net.weights = [rng.permutation(w.ravel()).reshape(w.shape) if scramble else w * np.float32(scale) for w in net.weights]
    keep = {k: v for k, v in card.items() if k not in ("model_id", "weights_sha256", "members", "n_parameters", "weights_file")}
    save_model(model, target, keep)
    return orjson.loads((target / "model.json").read_bytes())["model_id"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_admin_reload_swaps_in_a_new_version_folder_and_metrics_show_it(tmp_path):
    weights = repository_copy(tmp_path)
    settings = settings_for(tmp_path, model_dir=weights, admin_token="reload-token", reload_poll_s=0)
    async with serve_asgi(settings) as client:
        old = (await client.get("/model")).json()["model_id"]
        new = write_variant(weights / "2")
        assert new != old
        response = await client.post("/admin/reload", headers=TOKEN)
        assert response.status_code == 200
        assert response.json() == {"loaded": {"mnist": new}, "unchanged": [], "refused": {}}
        assert (await client.get("/model")).json()["model_id"] == new
        assert (await client.get("/health")).json()["model_id"] == new
        v2 = await client.get("/v2/models/mnist")
        assert v2.json()["versions"] == [new]
        metrics = (await client.get("/metrics")).text
        assert f'served_model_version_info{{model="mnist",version="{new}"}} 1.0' in metrics
        assert f'served_model_version_info{{model="mnist",version="{old}"}} 0.0' in metrics
        again = await client.post("/admin/reload", headers=TOKEN)
        assert again.json() == {"loaded": {}, "unchanged": ["mnist"], "refused": {}}


@pytest.mark.anyio
@pytest.mark.parametrize("damage", ["corrupt", "scrambled", "no-card-figure"])
async def test_bad_weights_are_refused_and_the_old_model_keeps_serving(tmp_path, caplog, damage):
    weights = repository_copy(tmp_path)
    settings = settings_for(tmp_path, model_dir=weights, admin_token="reload-token", reload_poll_s=0)
    async with serve_asgi(settings) as client:
        old = (await client.get("/model")).json()["model_id"]
        folder = weights / "3"
        write_variant(folder, scramble=damage == "scrambled")
        if damage == "corrupt":
            data = bytearray((folder / "model.npz").read_bytes())
            data[100] ^= 0xFF
            (folder / "model.npz").write_bytes(bytes(data))
        if damage == "no-card-figure":
            card = orjson.loads((folder / "model.json").read_bytes())
            del card["validation_accuracy"]
            (folder / "model.json").write_bytes(orjson.dumps(card))
        response = await client.post("/admin/reload", headers=TOKEN)
        assert response.status_code == 200
        reason = response.json()["refused"]["mnist"]
        expected = {"corrupt": "SHA-256", "scrambled": "built-in sample digits", "no-card-figure": "validation_accuracy"}[damage]
        assert expected in reason and str(folder) in reason
        assert f"version {old} keeps serving" in caplog.text
        assert (await client.get("/model")).json()["model_id"] == old
        predict = await client.post(
            "/predict", content=orjson.dumps({"pixels": EXAMPLE_PIXELS}), headers={"content-type": "application/json"}
        )
        assert predict.status_code == 200


@pytest.mark.anyio
async def test_the_folder_watch_picks_up_a_changed_file_and_a_new_model(tmp_path):
    weights = repository_copy(tmp_path)
    async with serve_asgi(settings_for(tmp_path, model_dir=weights, reload_poll_s=0.05)) as client:
        new = write_variant(weights)  # the default model's own files, replaced in place
        shutil.copytree(MODEL_DIR / "classic", weights / "textbook")  # a model that was not there at start-up
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ids = {e["name"]: e["version"] for e in (await client.get("/v2/models")).json()}
            if ids.get("mnist") == new and "textbook" in ids:
                break
            await asyncio.sleep(0.05)  # the watch runs on this event loop
        assert ids.get("mnist") == new and "textbook" in ids
        card = await client.get("/model?model=textbook")
        assert card.status_code == 200
        openapi = (await client.get("/openapi.json")).json()
        model_param = next(p for p in openapi["paths"]["/predict"]["post"]["parameters"] if p["name"] == "model")
        assert "textbook" in model_param["schema"]["enum"]


def test_refused_files_are_not_retried_by_the_watch_until_they_change(tmp_path, caplog):
    weights = repository_copy(tmp_path)
    repository = ModelRepository.load(weights, "mnist")
    write_variant(weights / "2", scramble=True)

    async def twice() -> tuple[dict, dict]:
        first = await repository.refresh(retry_refused=False)
        second = await repository.refresh(retry_refused=False)
        return first.refused, second.refused

    first, second = asyncio.run(twice())
    assert "mnist" in first and second == {}
    assert caplog.text.count("new weights refused") == 1


def test_reload_under_load_drops_no_request(tmp_path):
    """Two workers, eight clients posting /predict; a new version folder appears; every answer is 200 and both workers switch."""
    weights = repository_copy(tmp_path)
    with LiveServer(workers=2, model_dir=weights, env={"RELOAD_POLL_S": "0.1"}) as server:
        old = orjson.loads((weights / "model.json").read_bytes())["model_id"]
        body = orjson.dumps({"pixels": EXAMPLE_PIXELS})
        stop = threading.Event()
        results: list[tuple[int, str]] = []
        lock = threading.Lock()

        def client() -> None:
            while not stop.is_set():
                # a fresh connection each time, so the kernel spreads requests over both workers
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                try:
                    connection.request("POST", "/predict", body, {"content-type": "application/json"})
                    answer = connection.getresponse()
                    answer.read()
                    status = answer.status
                    connection.request("GET", "/health")
                    health = connection.getresponse()
                    model_id = orjson.loads(health.read())["model_id"] if health.status == 200 else ""
                    outcome = (status if health.status == 200 else health.status, model_id)
                except OSError as err:
                    outcome = (0, repr(err))
                finally:
                    connection.close()
                with lock:
                    results.append(outcome)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        staging = tmp_path / "staging"
        new = write_variant(staging)
        staging.rename(weights / "2")  # the version folder appears whole
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with lock:
                recent = results[-40:]
            if len(recent) == 40 and all(model_id == new for _, model_id in recent):
                break
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/metrics")
        metrics = connection.getresponse().read().decode()
        connection.close()
    statuses = [status for status, _ in results]
    seen = [model_id for _, model_id in results]
    assert statuses.count(200) == len(statuses), [r for r in results if r[0] != 200][:5]
    assert seen[0] == old and set(seen) == {old, new}
    assert all(model_id == new for model_id in seen[-40:])
    assert len(results) > 100
    # summed over both workers and the manager that loaded the first version: the newest write wins
    assert f'served_model_version_info{{model="mnist",version="{new}"}} 1.0' in metrics
    assert f'served_model_version_info{{model="mnist",version="{old}"}} 0.0' in metrics
