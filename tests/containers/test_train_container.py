"""The compose `train` profile: the project's image trains a tiny model into a mounted folder.

`docker compose --profile train run --rm train` with the MNIST files mounted read-only and an empty
folder for the weights, as the image's non-root user (10001) on a read-only root: classic preset, one
epoch on 10,000 images. The weights it writes load here, recognise the validation split far above
chance and match the model card written beside them; a data folder without MNIST's files ends the run with an error and writes nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from backend.nn.weights import load_model
from backend.testing.containers import Compose, DockerEngine, Images

PROJECT = "draw-a-digit-citest-train"
TRAIN = ["python", "scripts/train.py", "--out", "/weights", "--quiet", "--preset", "classic", "--epochs", "1", "--train-limit", "10000"]


@pytest.fixture
def weights_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "weights"
    folder.mkdir()
    os.chown(folder, 10001, 10001)  # the compose file's default TRAIN_USER may write it
    return folder


@pytest.fixture(scope="module")
def trainer(engine: DockerEngine, images: Images) -> Iterator[Compose]:
    compose = Compose(PROJECT, ["docker-compose.yml"], dict(engine.env))
    compose.down()
    try:
        yield compose
    finally:
        compose.down()


def run_train(compose: Compose, mnist_dir: str, weights: Path):
    env = {**compose.env, "MNIST_DATA_DIR": mnist_dir, "WEIGHTS_DIR": str(weights)}
    return Compose(compose.project, compose.files, env)("--profile", "train", "run", "--rm", "train", *TRAIN, timeout=600, check=False)


def test_train_profile_trains_a_tiny_model_into_the_mounted_folder(
    trainer: Compose, weights_dir: Path, mnist_data, timings: dict[str, float]
) -> None:
    started = time.monotonic()
    result = run_train(trainer, os.environ["MNIST_DIR"], weights_dir)
    timings["train (compose run)"] = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(path.name for path in weights_dir.iterdir()) == ["model.json", "model.npz"]
    model, card = load_model(weights_dir)
    assert all(path.stat().st_uid == 10001 for path in weights_dir.iterdir())
    accuracy = float(np.mean(model.predict(mnist_data.validation.images) == mnist_data.validation.labels))
    assert accuracy > 0.8, f"validation accuracy {accuracy:.3f} after one epoch"  # 0.916 when measured; chance is 0.1
    assert card["validation_accuracy"] == pytest.approx(accuracy, abs=1e-4), "the card must describe the weights beside it"


def test_train_profile_without_mnist_files_fails_and_writes_nothing(trainer: Compose, weights_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-mnist"
    empty.mkdir()
    result = run_train(trainer, str(empty), weights_dir)
    assert result.returncode != 0
    assert "train-images-idx3-ubyte" in result.stdout + result.stderr
    assert list(weights_dir.iterdir()) == []
