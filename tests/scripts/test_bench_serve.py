"""scripts/bench_serve.py's arithmetic: the model's time read from /metrics, and the bars judged from a run's figures."""

import importlib.util

import numpy as np
import pytest

from backend.paths import MODEL_DIR, PROJECT_ROOT
from backend.service.served_model import load_served_model
from backend.service.telemetry import exposition


@pytest.fixture(scope="module")
def bench():
    """The script as a module (it is a command line, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_serve", PROJECT_ROOT / "scripts" / "bench_serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runs(predict_us: float, model_us: float, health_us: float) -> list[dict]:
    """One run per endpoint and level, as measure() reports them, with the figures the bars read."""
    out = []
    for level in (1, 8):
        out += [
            {"endpoint": "health", "concurrency": level, "server_cpu_us_per_request": health_us},
            {
                "endpoint": "predict",
                "concurrency": level,
                "server_cpu_us_per_request": predict_us,
                "model_cpu_us_per_image": model_us,
                "p99_ms": 2.0,
            },
            {"endpoint": "batch", "concurrency": level, "server_cpu_us_per_request": 60_000.0, "digits_per_s": 9_000.0},
            {"endpoint": "binary", "concurrency": level, "server_cpu_us_per_request": 36_000.0, "digits_per_s": 14_000.0},
        ]
    return out


MODEL_ALONE = {"single_digit_us": 180.0, "batch_of_500_ms": 30.0}


def test_compute_totals_read_the_forward_passes_the_server_counted(bench):
    served = load_served_model(MODEL_DIR)
    seconds_before, images_before = bench.compute_totals(exposition()[0].decode())
    served.predict(np.random.default_rng(0).random((5, 784), dtype=np.float32))
    seconds_after, images_after = bench.compute_totals(exposition()[0].decode())
    assert images_after == images_before + 5
    assert seconds_after > seconds_before


def test_compute_totals_of_a_text_without_the_series_are_zero(bench):
    assert bench.compute_totals('http_requests_total{route="/health"} 3.0\n') == (0.0, 0.0)


def test_plumbing_bar_subtracts_the_model_as_the_server_counted_it(bench):
    checks = bench.bars(runs(predict_us=350.0, model_us=230.0, health_us=100.0), [0.8], [1, 8], MODEL_ALONE, 2, 2.5)
    plumbing = checks["plumbing_over_health"]
    assert plumbing["per_level"] == {1: 1.2, 8: 1.2}
    assert plumbing["met"] is True
    assert "against the model alone (180.0 us) per level {1: 1.7, 8: 1.7}" in plumbing["detail"]
    assert checks["predict_p99_ms_at_8"]["met"] is True


def test_plumbing_bar_is_missed_when_the_service_adds_more_than_one_and_a_half_health(bench):
    checks = bench.bars(runs(predict_us=420.0, model_us=230.0, health_us=100.0), [0.8], [1, 8], MODEL_ALONE, 2, 1.5)
    assert checks["plumbing_over_health"]["value"] == 1.9
    assert checks["plumbing_over_health"]["met"] is False
    assert checks["predict_p99_ms_at_8"]["met"] is False
