"""The loop's command lines: export the database to a dataset, score a model on it, fine-tune with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR, PROJECT_ROOT
from backend.recognition.corrections import load_corrections
from backend.service.feedback.store import Correction, FeedbackStore, database_url_for


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})}
    )


@pytest.fixture(scope="module")
def corrections_file(tmp_path_factory: pytest.TempPathFactory, mnist_data) -> Path:
    """300 training images put through the database and exported: the loop's first half."""
    folder = tmp_path_factory.mktemp("loop")
    store = FeedbackStore(database_url_for(folder / "data"))
    images, labels = mnist_data.train.images[:300], mnist_data.train.labels[:300]
    for image, label in zip(images, labels):
        store.add(Correction(image, label=int(label), predicted=int(label + 1) % 10, model_id="mlp-old"))
    store.close()
    out = folder / "feedback.npz"
    exported = run("scripts/export_feedback.py", "--out", str(out), env={"DATA_DIR": str(folder / "data"), "DATABASE_URL": ""})
    assert exported.returncode == 0, exported.stderr
    summary = json.loads(exported.stdout)
    assert summary["rows"] == 300 and len(summary["sha256"]) == 64
    return out


def test_export_from_the_database_keeps_every_drawing(corrections_file: Path, mnist_data) -> None:
    data = load_corrections(corrections_file)
    assert len(data) == 300
    np.testing.assert_array_equal(data.labels, mnist_data.train.labels[:300])
    np.testing.assert_array_equal(data.images, np.rint(mnist_data.train.images[:300] * 255).astype(np.uint8))
    assert set(data.model_ids.tolist()) == {"mlp-old"}


def test_export_from_a_server_needs_the_token(tmp_path: Path) -> None:
    result = run("scripts/export_feedback.py", "--url", "http://127.0.0.1:9", "--out", str(tmp_path / "x.npz"), env={"ADMIN_TOKEN": ""})
    assert result.returncode == 2
    assert "ADMIN_TOKEN" in result.stderr
    assert not (tmp_path / "x.npz").exists()


def test_evaluate_scores_the_model_on_the_corrections(corrections_file: Path) -> None:
    result = run("scripts/evaluate.py", "--data", str(corrections_file), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    data = load_corrections(corrections_file)
    model, card = load_model(MODEL_DIR)
    expected = float((model.predict_proba(data.inputs()).argmax(axis=1) == data.labels).mean())
    assert report["n"] == 300
    assert report["accuracy"] == pytest.approx(expected)
    assert report["model_id"] == card["model_id"]
    assert report["logged_accuracy"] == 0.0  # every logged answer was label + 1
    assert report["data"]["sha256"] == (corrections_file.parent / "feedback.npz.sha256").read_text().split()[0]
    assert sum(map(sum, report["confusion"])) == 300


def test_evaluate_names_a_corrupt_data_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    result = run("scripts/evaluate.py", "--data", str(bad), "--json")
    assert result.returncode == 1
    assert "bad.npz: cannot be read" in result.stderr


def test_fine_tuning_starts_from_the_saved_model_and_keeps_a_held_out_part(tmp_path: Path, corrections_file: Path) -> None:
    base = tmp_path / "base"
    small = ["--preset", "fast", "--no-augment", "--train-limit", "2000", "--quiet", "--epochs", "1"]
    trained = run("scripts/train.py", *small, "--layers", "32", "--seed", "3", "--out", str(base))
    assert trained.returncode == 0, trained.stderr

    # a learning rate of 1e-12: fine-tuning must leave the saved weights as they were loaded (fresh ones would differ wholly)
    frozen = tmp_path / "frozen"
    result = run(
        "scripts/train.py", *small, "--init-from", str(base), "--corrections", str(corrections_file), "--lr", "1e-12", "--out", str(frozen)
    )
    assert result.returncode == 0, result.stderr
    before, _ = load_model(base)
    after, card = load_model(frozen)
    for old, new in zip(before.members[0].parameters, after.members[0].parameters):
        np.testing.assert_allclose(old, new, atol=1e-6)
    report = card["corrections"]
    assert card["fine_tuned_from"] == str(base)
    _, base_card = load_model(base)
    assert card["parent"]["model_id"] == base_card["model_id"] and card["parent"]["command"] == base_card["command"]
    assert report["trained_on"] + report["held_out"] == 300 and 30 < report["held_out"] < 90
    assert report["held_out_accuracy"] == report["held_out_accuracy_before"]
    assert card["data"]["train_images"] == 2000 + report["trained_on"] * report["repeat"]  # mixed into training only
    assert card["data"]["validation_images"] == 5000


def test_fine_tuning_refuses_a_missing_corrections_file(tmp_path: Path) -> None:
    result = run("scripts/train.py", "--preset", "fast", "--corrections", str(tmp_path / "nope.npz"), "--out", str(tmp_path / "m"))
    assert result.returncode != 0
    assert "nope.npz: no such corrections file" in result.stderr
    assert not (tmp_path / "m").exists()


SMALL = ["--preset", "fast", "--no-augment", "--train-limit", "2000", "--quiet", "--epochs", "1", "--seed", "3"]


@pytest.fixture(scope="module")
def small_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained on 2,000 MNIST images, for the fine-tunes below to start from."""
    base = tmp_path_factory.mktemp("small") / "base"
    trained = run("scripts/train.py", *SMALL, "--layers", "32", "--out", str(base))
    assert trained.returncode == 0, trained.stderr
    return base


def test_fine_tuning_with_drawn_digits_mixes_them_in_and_scores_the_validation_splits(tmp_path: Path, small_base: Path) -> None:
    tuned = tmp_path / "tuned"
    args = [
        "--init-from",
        str(small_base),
        "--drawn-digits",
        "200",
        "--drawn-repeat",
        "3",
        "--drawn-validation",
        "100",
        "--out",
        str(tuned),
    ]
    result = run("scripts/train.py", *SMALL, *args)
    assert result.returncode == 0, result.stderr
    assert "drawn digits: 200 trained on (x3)" in result.stdout
    _, card = load_model(tuned)
    report = card["drawn_digits"]
    assert report["trained_on"] == 200 and report["repeat"] == 3 and report["split"] == "train"
    assert card["data"]["train_images"] == 2000 + 200 * 3  # mixed into training only
    assert report["validation_drawn"] == 100
    assert 0.1 <= report["validation_drawn_accuracy"] <= 1 and 0 <= report["validation_drawn_accuracy_before"] <= 1
    # the model learnt from them: on the drawn digits of another split it does better than the MNIST-only start
    assert report["validation_drawn_accuracy"] > report["validation_drawn_accuracy_before"]


def test_fine_tuning_with_number_pieces_mixes_them_in_and_scores_validation_pieces(tmp_path: Path, small_base: Path) -> None:
    tuned = tmp_path / "tuned"
    args = ["--init-from", str(small_base), "--number-pieces", "300", "--pieces-validation", "200", "--out", str(tuned)]
    result = run("scripts/train.py", *SMALL, *args)
    assert result.returncode == 0, result.stderr
    assert "number pieces: 300 trained on" in result.stdout
    _, card = load_model(tuned)
    report = card["number_pieces"]
    assert report["trained_on"] == 300 and report["split"] == "train" and report["validation_pieces"] == 200
    assert card["data"]["train_images"] == 2000 + 300  # mixed into training only, once
    assert 0.1 <= report["validation_pieces_accuracy"] <= 1 and 0.1 <= report["validation_pieces_accuracy_before"] <= 1
    before, _ = load_model(small_base)
    after, _ = load_model(tuned)
    assert any(not np.allclose(old, new) for old, new in zip(before.members[0].parameters, after.members[0].parameters))


def test_drawn_digits_are_no_part_of_a_plain_training(tmp_path: Path) -> None:
    result = run("scripts/train.py", "--preset", "fast", "--no-augment", "--train-limit", "1000", "--quiet", "--epochs", "1",
                 "--layers", "16", "--out", str(tmp_path / "m"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    _, card = load_model(tmp_path / "m")
    assert card["drawn_digits"] is None and card["number_pieces"] is None and card["data"]["train_images"] == 1000
