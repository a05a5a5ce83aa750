"""scripts/bench_app.py drives the whole app in memory: every request it times is answered 200, and the figures add up."""

import re
import subprocess
import sys

from backend.paths import PROJECT_ROOT


def test_bench_app_times_health_predict_and_the_model():
    finished = subprocess.run(
        [sys.executable, "scripts/bench_app.py", "--requests", "60"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr
    figures = re.search(
        r"/health ([\d.]+) µs, /predict ([\d.]+) µs, the model alone ([\d.]+) µs; plumbing of one digit (-?[\d.]+) µs", finished.stdout
    )
    assert figures, finished.stdout
    health, predict, model, plumbing = (float(value) for value in figures.groups())
    assert 0 < health < predict and 0 < model
    assert abs(plumbing - (predict - model)) < 0.2


def test_bench_app_refuses_a_request_count_that_is_not_a_number():
    finished = subprocess.run(
        [sys.executable, "scripts/bench_app.py", "--requests", "many"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 2
    assert "invalid int value" in finished.stderr
