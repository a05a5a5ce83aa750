"""The open-set command lines: a tiny train_rejector run writes a rejector beside a digit model, and
evaluate.py --open-set reports on it and draws the two figures; a folder without a digit model is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from backend.paths import MODEL_DIR, PROJECT_ROOT

TINY = ["--epochs", "1", "--per-class", "400", "--negatives", "300", "--drawn-digits", "100"]
TINY += ["--validation-negatives", "200", "--validation-drawn-digits", "100", "--validation-number-pieces", "100", "--hidden", "16"]


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / script), *args], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600
    )


def test_train_rejector_then_evaluate_the_open_set(tmp_path):
    for name in ("model.npz", "model.json"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    trained = run("scripts/train_rejector.py", "--weights", str(tmp_path), *TINY)
    assert trained.returncode == 0, trained.stderr
    card = json.loads((tmp_path / "rejector.json").read_text())
    assert card["recipe"]["hidden"] == [16] and card["recipe"]["epochs"] == 1
    assert card["inputs"] == "hidden" and card["rejector"]["layer_sizes"] == [2400, 16, 2]  # the ensemble's 3 x 800 hidden units
    assert card["digit_model_id"] == json.loads((MODEL_DIR / "model.json").read_text())["model_id"]
    assert 0.95 <= card["validation"]["mnist_accepted"] <= 1.0  # thresholds keep ~99% of validation digits
    assert 0 <= card["validation"]["number_pieces_accepted"] <= 1 and "doodles" in card["validation"]["negatives_rejected_by_kind"]
    low, high = card["second_look"]  # the band where borderline pictures get a second look, around the threshold
    assert 0 <= low <= card["threshold"] <= high <= 1 and card["recipe"]["second_look"] is True

    # --refit: the same network, its recipe kept, the thresholds chosen again with the new options
    refit = run(
        "scripts/train_rejector.py",
        "--weights",
        str(tmp_path),
        "--refit",
        str(tmp_path),
        "--out",
        str(tmp_path / "refit"),
        "--accept-target",
        "0.9",
        "--no-second-look",
    )
    assert refit.returncode == 0, refit.stderr
    again = json.loads((tmp_path / "refit" / "rejector.json").read_text())
    assert again["weights_sha256"] == card["weights_sha256"] and again["trained_by"] == card["command"]
    assert again["recipe"]["accept_target"] == 0.9 and again["recipe"]["epochs"] == 1 and again["recipe"]["hidden"] == [16]
    assert again["validation"]["mnist_accepted"] >= 0.9
    assert again["second_look"] is None and again["recipe"]["second_look"] is False

    evaluated = run(
        "scripts/evaluate.py", "--weights", str(tmp_path), "--json", "--no-robustness", "--open-set", "--negatives", "200",
        "--drawn-digits", "100", "--figures", str(tmp_path / "figures"),
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)["open_set"]
    assert report["negatives"]["n"] == 200 and set(report["negatives"]["rejected_by_kind"]) >= {"shapes", "font_letters", "scribbles"}
    assert 0 <= report["mnist_test"]["ece"] <= 1 and report["mnist_test"]["n"] == 10_000
    drawn = report["drawn_digits"]
    by_source = drawn["accepted_and_right_by_source"]  # pen strokes and each held-out font apart
    assert "strokes" in by_source and any(name.startswith("font/") for name in by_source)
    assert sum(v["n"] for v in by_source.values()) == drawn["n"] == 100
    overall = sum(v["n"] * v["share"] for v in by_source.values()) / drawn["n"]
    assert abs(overall - drawn["accepted_and_right"]) < 1e-9
    assert (tmp_path / "figures" / "oscr.png").stat().st_size > 1000
    assert (tmp_path / "figures" / "reliability.png").stat().st_size > 1000


def test_refit_names_a_folder_without_a_rejector(tmp_path):
    result = run("scripts/train_rejector.py", "--refit", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert str(tmp_path) in result.stderr and not (tmp_path / "out").exists()


def test_train_rejector_names_a_folder_without_a_digit_model(tmp_path):
    result = run("scripts/train_rejector.py", "--weights", str(tmp_path), *TINY)
    assert result.returncode != 0
    assert str(tmp_path) in result.stderr and "model card not found" in result.stderr
