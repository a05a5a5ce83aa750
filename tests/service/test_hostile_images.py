"""Cheap uploads that cost the server dear, against the real server (two workers, loopback).

  - a PNG of 40 megapixels that compresses to ~150 KB: refused from its header (413), and one just
    under the pixel budget decodes within the memory the budget promises;
  - a PNG of 1.58 million empty chunks (19 MB): refused after its first few thousand (422), and a
    decode over its CPU budget is stopped;
  - 16 slow uploads whose clients hang up at once: the work not yet started is never started, the
    one under way is abandoned, and the next client's picture is answered promptly;
  - a batch-sized JSON body with a NaN at its end: refused without a second, slower parse;
  - the largest legal batches, one after another: /health keeps answering within 100 ms.

What this leaves out: the connection-level attacks (test_hostile_clients.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from backend.service.images import DecodeTimeoutError, EmptyImageError, image_to_pixels
from backend.testing import hostile
from backend.testing.live_server import LiveServer, descendants
from backend.testing.service import SEVEN, stroke_digit_png

DECODE_TIMEOUT_S = 1.0
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(workers=2, env={"IMAGE_DECODE_TIMEOUT_S": str(DECODE_TIMEOUT_S)}) as running:
        running.wait_for_workers(2)
        running.wait_until_quiet()
        yield running


def peak_rss_kib(server: LiveServer) -> int:
    """The largest resident size each worker has had (VmHWM), added up."""
    total = 0
    for pid in descendants(server.pid)[1:]:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def post_png(server: LiveServer, body: bytes) -> tuple[int, dict, float]:
    status, _, data, seconds = hostile.request(server.port, "POST", "/predict/image", body, {"Content-Type": "image/png"}, timeout=60)
    return status, orjson.loads(data), seconds


def test_a_40_megapixel_png_is_refused_from_its_header(server: LiveServer) -> None:
    status, body, seconds = post_png(server, hostile.huge_blank_png(8000, 5000))
    assert status == 413
    assert body["detail"] == "the image is 8000x5000 = 40.0 megapixels, over the limit of 12"
    assert seconds < 1.0


def test_a_picture_just_under_the_pixel_budget_stays_within_its_memory(server: LiveServer) -> None:
    before = peak_rss_kib(server)
    status, body, _ = post_png(server, hostile.huge_blank_png(4000, 2990))
    grown_mb = (peak_rss_kib(server) - before) / 1024
    assert status == 422
    assert body["detail"][0]["type"] == "image_empty"
    assert grown_mb < 12 * 8.5 + 20, f"peak RSS grew {grown_mb:.0f} MB"  # the settings' promise: ~8.5 bytes a pixel


def test_a_png_of_millions_of_empty_chunks_is_refused_early(server: LiveServer) -> None:
    status, body, seconds = post_png(server, hostile.many_chunks_png(1_580_000))
    assert status == 422
    assert body["detail"][0]["type"] == "image_invalid"
    assert body["detail"][0]["msg"] == "the image is split into more than 5000 tiny chunks"
    assert seconds < 1.5


def test_a_decode_over_its_cpu_budget_is_stopped() -> None:
    with pytest.raises(DecodeTimeoutError, match="the image took more than 0.01 s of CPU to decode"):
        image_to_pixels(hostile.huge_blank_png(4000, 2990), 12_000_000, budget_s=0.01)


def test_a_decode_within_its_budget_goes_through_the_same_guard() -> None:
    with pytest.raises(EmptyImageError):
        image_to_pixels(hostile.huge_blank_png(400, 300), 12_000_000, budget_s=5.0)


def test_uploads_whose_clients_hung_up_are_not_worked_on(server: LiveServer) -> None:
    slow = hostile.huge_blank_png(4000, 2990)  # 12 MP: a fifth of a second of CPU or more each
    cpu_before = server.cpu_seconds()
    for _ in range(16):
        hostile.send_and_hang_up(server.port, "/predict/image", slow, "image/png")
    time.sleep(0.3)
    status, body, seconds = post_png(server, stroke_digit_png(SEVEN))
    time.sleep(0.5)
    burned = server.cpu_seconds() - cpu_before
    assert status == 200
    assert body["digit"] == 7
    assert seconds < 3.0
    assert burned < 16 * 0.2 / 3, f"{burned:.1f} CPU seconds for 16 abandoned uploads"
    metrics = hostile.request(server.port, "GET", "/metrics")[2].decode()
    assert 'route="/predict/image",status="499"' in metrics


def test_a_batch_body_with_a_nan_at_its_end_is_refused_without_a_second_parse(server: LiveServer) -> None:
    body = b'{"images": [[' + b"0, " * (6_000_000 - 1) + b"NaN]]}"
    status, _, data, _ = hostile.request(server.port, "POST", "/predict/batch", body, JSON)
    assert status == 422
    entry = orjson.loads(data)["detail"][0]
    assert entry["type"] == "json_invalid"
    assert entry["msg"] == f"JSON decode error at character {len(body) - 6}: NaN is not a number (send finite numbers in [0, 1])"


def test_a_small_body_with_a_nan_still_names_the_element(server: LiveServer) -> None:
    body = b'{"pixels": [' + b"0, " * 783 + b"NaN]}"
    status, _, data, _ = hostile.request(server.port, "POST", "/predict", body, JSON)
    assert status == 422
    entry = orjson.loads(data)["detail"][0]
    assert (entry["type"], entry["loc"]) == ("finite_number", ["body", "pixels", 783])


def test_largest_legal_batches_leave_health_answering(server: LiveServer) -> None:
    rows = ", ".join(["[" + ", ".join(["0.12345678901234567"] * 784) + "]"] * 1000)
    body = ('{"images": [' + rows + "]}").encode()  # 15.7 MB: parsed in the helper process, not under the event loop's GIL
    for _ in range(2):  # the workers' helper processes are up (the fixture waited); warm the rest of the path
        assert hostile.request(server.port, "POST", "/predict/batch", body, JSON)[0] == 200
    with hostile.HealthProbe(server.port, interval_s=0.02) as probe:
        statuses = [hostile.request(server.port, "POST", "/predict/batch", body, JSON)[0] for _ in range(4)]
    assert statuses == [200] * 4
    assert probe.failures == 0
    assert probe.p99_ms() < 100
