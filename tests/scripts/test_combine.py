"""Members trained one per process join into the ensemble train.py would have written."""

import subprocess
import sys

import numpy as np
import pytest

from backend.nn.model import Model
from backend.nn.weights import load_model
from backend.paths import PROJECT_ROOT

TINY = ["--preset", "fast", "--epochs", "1", "--layers", "16", "--train-limit", "2000", "--quiet", "--ensemble", "1"]


def run(*args):
    return subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)


def test_combine_averages_members_and_records_the_recipe(tmp_path):
    for seed in (3, 4):
        assert run("scripts/train.py", *TINY, "--seed", str(seed), "--out", str(tmp_path / f"m{seed}")).returncode == 0
    combined = run("scripts/combine.py", str(tmp_path / "m3"), str(tmp_path / "m4"), "--out", str(tmp_path / "both"))
    assert combined.returncode == 0, combined.stderr
    model, card = load_model(tmp_path / "both")
    a, _ = load_model(tmp_path / "m3")
    b, _ = load_model(tmp_path / "m4")
    assert len(model.members) == 2 and card["training"]["ensemble"] == 2 and card["seed"] == 3
    assert card["command"].startswith("python scripts/train.py --preset fast --seed 3 --ensemble 2 --epochs 1")
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    np.testing.assert_allclose(model.predict_proba(x), (a.predict_proba(x) + b.predict_proba(x)) / 2, rtol=1e-5)


@pytest.mark.parametrize("differing", [["--dropout", "0.5"], ["--drawn-digits", "100"]], ids=["dropout", "drawn-digits"])
def test_combine_refuses_members_of_different_recipes(tmp_path, differing):
    assert run("scripts/train.py", *TINY, "--seed", "3", "--out", str(tmp_path / "a")).returncode == 0
    assert run("scripts/train.py", *TINY, "--seed", "4", *differing, "--out", str(tmp_path / "b")).returncode == 0
    refused = run("scripts/combine.py", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "both"))
    assert refused.returncode != 0 and "different recipes" in refused.stderr
    assert not (tmp_path / "both").exists()


def test_combine_records_the_drawn_digits_each_member_was_trained_with(tmp_path):
    drawn = ["--drawn-digits", "100", "--drawn-repeat", "2", "--drawn-validation", "50"]
    for seed in (3, 4):
        trained = run("scripts/train.py", *TINY, *drawn, "--seed", str(seed), "--out", str(tmp_path / f"m{seed}"))
        assert trained.returncode == 0, trained.stderr
    combined = run("scripts/combine.py", str(tmp_path / "m3"), str(tmp_path / "m4"), "--out", str(tmp_path / "both"))
    assert combined.returncode == 0, combined.stderr
    _, card = load_model(tmp_path / "both")
    assert "--drawn-digits 100 --drawn-repeat 2" in card["command"].split("#")[0]
    assert [report["trained_on"] for report in card["drawn_digits"]] == [100, 100] and card["number_pieces"] is None


@pytest.fixture(scope="module")
def two_trainings(tmp_path_factory):
    """A 2-network ensemble (seeds 3, 4) and a single network of another recipe (seed 9, dropout 0.5)."""
    root = tmp_path_factory.mktemp("trainings")
    pair = run("scripts/train.py", *TINY, "--ensemble", "2", "--seed", "3", "--out", str(root / "pair"))
    other = run("scripts/train.py", *TINY, "--seed", "9", "--dropout", "0.5", "--out", str(root / "other"))
    assert pair.returncode == 0 and other.returncode == 0, pair.stderr + other.stderr
    return root / "pair", root / "other"


def test_mix_joins_a_picked_network_with_another_recipe_and_records_each_origin(tmp_path, two_trainings):
    pair_dir, other_dir = two_trainings
    combined = run("scripts/combine.py", "--mix", f"{pair_dir}:1", str(other_dir), "--out", str(tmp_path / "mixed"))
    assert combined.returncode == 0, combined.stderr
    model, card = load_model(tmp_path / "mixed")
    pair, pair_card = load_model(pair_dir)
    other, other_card = load_model(other_dir)
    x = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    second_of_pair = Model([pair.members[1]]).predict_proba(x)
    np.testing.assert_allclose(model.predict_proba(x), (second_of_pair + other.predict_proba(x)) / 2, rtol=1e-5)

    assert card["command"] == f"python scripts/combine.py --mix {pair_dir}:1 {other_dir} --out {tmp_path / 'mixed'}"
    origins = card["members_from"]
    assert [(o["model_id"], o["member"], o["seed"]) for o in origins] == [(pair_card["model_id"], 1, 4), (other_card["model_id"], 0, 9)]
    assert [o["command"] for o in origins] == [pair_card["command"], other_card["command"]]
    assert card["seed"] == card["training"]["seed"] == 4 and card["training"]["ensemble"] == 2
    assert card["member_validation_accuracy"][1] == other_card["validation_accuracy"]  # a single network's own figure
    rows = [(r["member"], r["epoch"], r["train_loss"]) for r in card["history"]]
    assert len(rows) == 2  # one epoch each
    assert rows == [(0, r["epoch"], r["train_loss"]) for r in pair_card["history"] if r["member"] == 1] + [
        (1, r["epoch"], r["train_loss"]) for r in other_card["history"]
    ]


def test_picking_networks_without_mix_is_refused(tmp_path, two_trainings):
    pair_dir, other_dir = two_trainings
    refused = run("scripts/combine.py", f"{pair_dir}:0", str(other_dir), "--out", str(tmp_path / "mixed"))
    assert refused.returncode != 0 and "--mix" in refused.stderr
    assert not (tmp_path / "mixed").exists()


@pytest.mark.parametrize(
    ("picks", "message"),
    [([":2"], "holds networks 0 to 1"), ([":0", ":0"], "named twice"), ([":1", ""], "named twice")],
    ids=["missing", "twice", "twice-whole"],
)
def test_mix_refuses_a_network_the_folder_does_not_hold_or_one_named_twice(tmp_path, two_trainings, picks, message):
    pair_dir, _ = two_trainings
    refused = run("scripts/combine.py", "--mix", *[f"{pair_dir}{pick}" for pick in picks], "--out", str(tmp_path / "mixed"))
    assert refused.returncode != 0 and message in refused.stderr
    assert not (tmp_path / "mixed").exists()
