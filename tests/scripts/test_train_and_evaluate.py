"""The command lines: a short training writes a loadable model and card; evaluate prints the JSON contract."""

import json
import subprocess
import sys

from backend.nn.weights import CARD_FILE, WEIGHTS_FILE, load_model
from backend.paths import PROJECT_ROOT
from backend.recognition.learning import LEARNED_JSON


def run(*args):
    return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)


def test_train_writes_weights_and_card_then_evaluate_reads_them(tmp_path):
    out = tmp_path / "model"
    trained = run(
        "scripts/train.py",
        "--preset",
        "fast",
        "--epochs",
        "2",
        "--layers",
        "64",
        "--no-augment",
        "--train-limit",
        "3000",
        "--seed",
        "7",
        "--out",
        str(out),
        "--quiet",
    )
    assert trained.returncode == 0, trained.stderr
    assert "epoch   2/2" in trained.stdout and "test accuracy" in trained.stdout
    assert sorted(p.name for p in out.iterdir()) == [CARD_FILE, WEIGHTS_FILE]
    model, card = load_model(out)
    assert card["seed"] == 7 and card["training"]["network"]["layer_sizes"] == [784, 64, 10]
    assert card["data"]["validation_images"] == 5000 and len(card["data"]["files_sha256"]) == 4
    assert 0.85 < card["validation_accuracy"] <= 1 and 0.85 < card["test_accuracy"] <= 1
    assert sum(map(sum, card["test_confusion"])) == 10000
    assert card["versions"]["numpy"] and card["training_wall_time_s"] > 0
    history = card["history"]
    assert [(row["member"], row["epoch"]) for row in history] == [(0, 1), (0, 2)]
    for row in history:
        assert 0 < row["train_loss"] and 0 < row["validation_loss"]
        assert 0.5 < row["train_accuracy"] <= 1 and 0.5 < row["validation_accuracy"] <= 1
    assert max(row["validation_accuracy"] for row in history) == card["validation_accuracy"]
    assert "mini-batches" in card["history_measured"]

    evaluated = run("scripts/evaluate.py", "--weights", str(out), "--json", "--no-robustness")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["n"] == 10000
    assert report["accuracy"] == card["test_accuracy"]
    assert report["confusion"] == card["test_confusion"]


def test_a_fine_tune_told_to_keep_its_last_epoch_records_that_epoch(tmp_path):
    small = ("--preset", "fast", "--layers", "32", "--no-augment", "--train-limit", "2000", "--quiet")
    first = run("scripts/train.py", *small, "--epochs", "1", "--out", str(tmp_path / "base"))
    assert first.returncode == 0, first.stderr
    tuned = run(
        "scripts/train.py",
        *small,
        "--epochs",
        "3",
        "--lr",
        "0.5",
        "--keep",
        "last",
        "--init-from",
        str(tmp_path / "base"),
        "--out",
        str(tmp_path / "tuned"),
    )
    assert tuned.returncode == 0, tuned.stderr
    _, card = load_model(tmp_path / "tuned")
    assert card["training"]["keep"] == "last" and card["best_epochs"] == [3]
    assert card["validation_accuracy"] == card["history"][-1]["validation_accuracy"]  # the last epoch's weights, whatever scored best


def test_train_refuses_bad_flags(tmp_path):
    result = run("scripts/train.py", "--activation", "swish", "--out", str(tmp_path))
    assert result.returncode == 2 and "invalid choice: 'swish'" in result.stderr
    assert list(tmp_path.iterdir()) == []
    kept = run("scripts/train.py", "--keep", "middle", "--out", str(tmp_path))
    assert kept.returncode == 2 and "invalid choice: 'middle'" in kept.stderr


def test_evaluate_names_a_broken_weights_folder(tmp_path):
    result = run("scripts/evaluate.py", "--weights", str(tmp_path), "--json")
    assert result.returncode != 0
    assert "model.json: model card not found" in result.stderr


def test_evaluate_writes_the_how_it_learned_data_and_charts(tmp_path):
    data, charts = tmp_path / "how.json", tmp_path / "charts"
    done = run("scripts/evaluate.py", "--how-it-learned", "--learned-out", str(data), "--charts-out", str(charts))
    assert done.returncode == 0, done.stderr
    _, shipped = load_model(PROJECT_ROOT / "model_weights")
    wrong = sum(count for t, row in enumerate(shipped["test_confusion"]) for a, count in enumerate(row) if t != a)
    assert f"({wrong} mistakes)" in done.stdout
    assert data.read_bytes() == LEARNED_JSON.read_bytes()  # the committed page data is what the script makes now
    for name in ("curves.png", "confusion.png"):
        assert (charts / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_how_it_learned_refuses_an_output_it_cannot_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run("scripts/evaluate.py", "--how-it-learned", "--learned-out", str(blocker / "how.json"), "--charts-out", str(tmp_path))
    assert done.returncode != 0
    assert str(blocker) in done.stderr
