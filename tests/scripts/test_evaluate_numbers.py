"""scripts/evaluate_numbers.py: numbers with a non-digit mark among the digits (--marks), numbers in every pen
style (--source drawn) with their misread digits counted, and the readings scored again with a looser rule for
digits of numbers (--looser), through the real /predict/number; numbers written on the pad and read the page's
way (--source pad: grouping.js under Node, then /predict/batch)."""

import json
import subprocess
import sys

from backend.paths import PROJECT_ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/evaluate_numbers.py", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )


def test_marked_numbers_are_counted_and_a_looser_rule_shows_fewer_question_marks() -> None:
    done = run("--marks", "--count", "12", "--looser", "0,0", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    marks = report["marks"]
    assert marks["numbers"] == 12
    # every number holds a mark, so "?" is in every label: a reading is exact only with a "?" in it
    assert report["exact_accuracy"] <= marks["shown_as_unknown"]
    # accepting every piece of a number with ink can only take "?"s away
    assert marks["looser_shown_as_unknown"] <= marks["shown_as_unknown"]
    assert report["looser"]["p_digit"] == 0 and report["looser"]["confidence"] == 0


def test_a_looser_rule_never_reads_fewer_plain_numbers_right() -> None:
    done = run("--count", "12", "--looser", "0,0", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "marks" not in report
    assert report["looser"]["exact_accuracy"] >= report["exact_accuracy"]


def test_numbers_are_read_by_the_weights_asked_for(tmp_path) -> None:
    classic = run("--count", "20", "--weights", str(PROJECT_ROOT / "model_weights" / "classic"), "--json")
    assert classic.returncode == 0, classic.stderr
    shipped = run("--count", "20", "--json")
    assert shipped.returncode == 0, shipped.stderr
    # the same 20 numbers (seed 0) read by the textbook 784-30-10 network: more of its digits are wrong
    assert json.loads(classic.stdout)["digit_accuracy"] < json.loads(shipped.stdout)["digit_accuracy"]
    missing = run("--weights", str(tmp_path))
    assert missing.returncode == 2 and f"--weights: {tmp_path / 'model.json'}" in missing.stderr


def test_thresholds_out_of_range_and_marks_of_stroke_numbers_are_refused() -> None:
    bad = run("--looser", "2,0.5")
    assert bad.returncode == 2 and "must be in [0, 1]" in bad.stderr
    garbled = run("--looser", "0.1")
    assert garbled.returncode == 2 and "expected two numbers P,C" in garbled.stderr
    strokes = run("--marks", "--source", "strokes")
    assert strokes.returncode == 2 and "--marks composes numbers from MNIST digits" in strokes.stderr


def test_drawn_numbers_are_read_and_their_misread_digits_counted() -> None:
    done = run("--source", "drawn", "--count", "40", "--seed", "1", "--guesses", "--misses", "40", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["source"] == "drawn" and report["numbers"] == 40
    # the tally is the listed misses' digits, written -> guessed, where the guess has the label's length
    expected: dict[str, int] = {}
    for miss in report["misses"]:
        if len(miss["guess"]) == len(miss["label"]):
            for wrote, read in zip(miss["label"], miss["guess"]):
                if wrote != read:
                    expected[f"{wrote}->{read}"] = expected.get(f"{wrote}->{read}", 0) + 1
    assert report["wrong_digits"] == expected
    assert report["guessing"]["exact_accuracy"] >= report["exact_accuracy"]
    marks = run("--marks", "--source", "drawn")
    assert marks.returncode == 2 and "leave out --source drawn" in marks.stderr


def test_pad_numbers_are_read_the_pages_way() -> None:
    done = run("--source", "pad", "--count", "30", "--seed", "2", "--misses", "30", "--looser", "0,0", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["source"] == "pad" and report["split"] is None and report["numbers"] == 30
    assert report["exact_accuracy"] >= 0.8 and report["digit_accuracy"] >= 0.9  # stroke numbers the page reads well
    assert sum(kind["touching"] + kind["apart"] for kind in report["miss_kinds"].values()) == len(report["misses"])
    assert round(1 - len(report["misses"]) / 30, 4) == report["exact_accuracy"]
    # the looser rule re-reads the pixels the page sent: accepting every piece can only take "?"s away
    assert report["looser"]["exact_accuracy"] >= report["exact_accuracy"]
    marks = run("--marks", "--source", "pad")
    assert marks.returncode == 2 and "leave out --source pad" in marks.stderr


def test_pad_numbers_drawn_as_pictures_are_read_through_predict_number() -> None:
    done = run("--source", "pad-picture", "--count", "20", "--seed", "3", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["source"] == "pad-picture" and report["numbers"] == 20
    assert report["digit_accuracy"] >= 0.5  # read, if not always whole
    assert report["numbers_with_touching"] + report["numbers_without_touching"] == 20
