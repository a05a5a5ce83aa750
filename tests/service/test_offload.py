"""The parsing helper process (offload.py): same answers as parsing in place, errors intact, small bodies untouched.

What this leaves out: its effect on /health under load (tests/service/test_hostile_images.py measures it on the real server).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest

from backend.service.offload import NEVER, PARENT_CHECK_S, ParseHelper
from backend.service.payloads import PayloadError, read_images


def _pid(body: bytes) -> int:
    return os.getpid()


@pytest.fixture(scope="module")
def helper() -> Iterator[ParseHelper]:
    running = ParseHelper(min_bytes=1000)
    yield running
    running.close()


def test_a_large_body_is_parsed_in_another_process_to_the_same_matrix(helper: ParseHelper) -> None:
    images = np.random.default_rng(0).random((3, 784))
    body = orjson.dumps({"images": images}, option=orjson.OPT_SERIALIZE_NUMPY)
    assert helper.parse(_pid, body) != os.getpid()
    np.testing.assert_array_equal(helper.parse(read_images, body, 10), read_images(body, 10))


def test_a_small_body_is_parsed_in_place(helper: ParseHelper) -> None:
    assert helper.parse(_pid, b"{}") == os.getpid()


def test_a_payload_error_comes_back_with_its_entries(helper: ParseHelper) -> None:
    body = orjson.dumps({"images": [[0.5] * 783 + [2.0]] * 2})
    with pytest.raises(PayloadError) as in_place:
        read_images(body, 10)
    with pytest.raises(PayloadError) as offloaded:
        helper.parse(read_images, body, 10)
    assert offloaded.value.errors == in_place.value.errors
    assert str(offloaded.value) == str(in_place.value)


def test_start_starts_the_helper_before_any_body_comes() -> None:
    before = set(multiprocessing.active_children())
    started = ParseHelper(min_bytes=1000)
    try:
        started.start()
        assert len(set(multiprocessing.active_children()) - before) == 1
        assert started.parse(_pid, b"x" * 1000) != os.getpid()
    finally:
        started.close()


def test_start_starts_nothing_when_no_body_is_ever_large_enough() -> None:
    before = set(multiprocessing.active_children())
    never = ParseHelper(min_bytes=NEVER)
    never.start()
    assert set(multiprocessing.active_children()) == before
    assert never.parse(_pid, b"x" * 1000) == os.getpid()
    never.close()


WORKER = """
import multiprocessing, time
from backend.service.offload import ParseHelper
ParseHelper(min_bytes=1).start()
print(multiprocessing.active_children()[0].pid, flush=True)
time.sleep(60)
"""


def running(pid: int) -> bool:
    """Whether pid is a live process (a zombie waiting for its new parent to reap it is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_helper_ends_when_its_worker_is_killed() -> None:
    worker = subprocess.Popen([sys.executable, "-c", WORKER], stdout=subprocess.PIPE, text=True)
    try:
        helper = int(worker.stdout.readline())
        assert running(helper)
    finally:
        worker.kill()
        worker.wait(10)
    deadline = time.monotonic() + 10 * PARENT_CHECK_S
    while running(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(helper), "the helper outlived its worker"
