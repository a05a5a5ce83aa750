"""The per-client token buckets, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from backend.service.feedback.ratelimit import TokenBuckets


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
