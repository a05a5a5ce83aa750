"""The micro-batcher: concurrent single predictions become one matrix pass, each caller gets its own row."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from backend.paths import MODEL_DIR
from backend.service.batcher import MAX_ROWS, MicroBatcher
from backend.service.served_model import Predictions, load_served_model

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RecordingModel:
    """Stands in for ServedModel: answers digit = round(10 * pixel 0) and records each batch's size."""

    def __init__(self, fail: bool = False) -> None:
        self.batch_sizes: list[int] = []
        self.fail = fail

    def predict(self, images: np.ndarray) -> Predictions:
        self.batch_sizes.append(len(images))
        if self.fail:
            raise RuntimeError("model broke")
        digits = np.round(images[:, 0] * 10).astype(np.int64)
        probabilities = np.eye(10, dtype=np.float32)[digits]
        return Predictions(probabilities, digits, probabilities.max(axis=1), images.any(axis=1))


def image_of(digit: int) -> np.ndarray:
    image = np.zeros((1, 784), dtype=np.float32)
    image[0, 0] = digit / 10
    return image


async def test_concurrent_requests_share_one_pass_and_each_gets_its_own_answer():
    model = RecordingModel()
    batcher = MicroBatcher(model)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(batcher.predict(image_of(d)) for d in range(8)))
    assert [answer["digit"] for answer in answers] == list(range(8))
    assert model.batch_sizes == [8]


async def test_a_lone_request_is_answered_alone():
    model = RecordingModel()
    batcher = MicroBatcher(model)  # type: ignore[arg-type]
    assert (await batcher.predict(image_of(3)))["digit"] == 3
    assert (await batcher.predict(image_of(4)))["digit"] == 4
    assert model.batch_sizes == [1, 1]


async def test_a_long_queue_is_split_into_bounded_passes():
    model = RecordingModel()
    batcher = MicroBatcher(model)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(batcher.predict(image_of(i % 10)) for i in range(MAX_ROWS + 5)))
    assert [a["digit"] for a in answers] == [i % 10 for i in range(MAX_ROWS + 5)]
    assert model.batch_sizes == [MAX_ROWS, 5]


async def test_a_model_error_reaches_every_waiting_request():
    batcher = MicroBatcher(RecordingModel(fail=True))  # type: ignore[arg-type]
    results = await asyncio.gather(*(batcher.predict(image_of(1)) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_cancelled_request_does_not_disturb_the_others():
    model = RecordingModel()
    batcher = MicroBatcher(model)  # type: ignore[arg-type]
    tasks = [asyncio.create_task(batcher.predict(image_of(d))) for d in range(4)]
    await asyncio.sleep(0)  # all four are queued
    tasks[1].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert [results[i]["digit"] for i in (0, 2, 3)] == [0, 2, 3]


async def test_batched_answers_equal_single_answers_on_the_real_model():
    served = load_served_model(MODEL_DIR)
    images = np.random.default_rng(5).random((6, 784), dtype=np.float32)
    batched = await asyncio.gather(*(MicroBatcher(served).predict(images[i : i + 1]) for i in range(6)))
    shared = MicroBatcher(served)
    together = await asyncio.gather(*(shared.predict(images[i : i + 1]) for i in range(6)))
    for alone, joint in zip(batched, together):
        assert alone["digit"] == joint["digit"]
        assert np.allclose(alone["probabilities"], joint["probabilities"], atol=1e-6)
