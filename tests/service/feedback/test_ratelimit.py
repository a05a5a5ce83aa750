"""The per-client token buckets, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from backend.service.feedback.ratelimit import TokenBuckets
from backend.service.settings import Settings, SettingsError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)  # empty: one token comes in half a second
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(0.5)


def test_clients_have_their_own_buckets() -> None:
    limiter = TokenBuckets(rate=1.0, burst=1, clock=Clock())
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0


def test_a_refused_request_takes_nothing() -> None:
    clock = Clock()
    limiter = TokenBuckets(rate=1.0, burst=1, clock=clock)
    limiter.take("a")
    for _ in range(50):  # hammering while empty does not push the next token further away
        assert limiter.take("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert limiter.take("a") == 0.0


def test_rate_zero_means_no_limit() -> None:
    limiter = TokenBuckets(rate=0, burst=1, clock=Clock())
    assert all(limiter.take("a") == 0.0 for _ in range(1000))


def test_memory_is_bounded_forgetting_full_buckets_first() -> None:
    clock = Clock()
    limiter = TokenBuckets(rate=1.0, burst=2, max_clients=3, clock=clock)
    limiter.take("busy")
    limiter.take("busy")  # empty: must be remembered
    for client in ("x", "y"):
        limiter.take(client)
    clock.now += 1.0  # x and y are full again by now; busy has one token of two
    limiter.take("z")
    assert len(limiter._buckets) <= 3
    assert "busy" in limiter._buckets
    assert limiter.take("busy") == 0.0
    assert limiter.take("busy") > 0  # its state was kept: the second take finds it empty


def test_feedback_settings_read_from_the_environment_and_keep_secrets_out_of_repr() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://app:hunter2@db/feedback", "ADMIN_TOKEN": "t0ken", "FEEDBACK_RATE": "2.5", "FEEDBACK_MAX_ROWS": "10"}
    )
    assert settings.database_url.get_secret_value() == "postgresql://app:hunter2@db/feedback"
    assert settings.feedback_rate == 2.5 and settings.feedback_max_rows == 10
    assert "hunter2" not in repr(settings) and "t0ken" not in repr(settings)
    with pytest.raises(SettingsError, match="FEEDBACK_BURST"):
        Settings.from_env({"FEEDBACK_BURST": "0"})
    with pytest.raises(SettingsError, match="FEEDBACK_RATE"):
        Settings.from_env({"FEEDBACK_RATE": "-1"})
