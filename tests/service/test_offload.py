"""The parsing helper process (offload.py): same answers as parsing in place, errors intact, small bodies untouched.

What this leaves out: its effect on /health under load (tests/service/test_hostile_images.py measures it on the real server).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import orjson
import pytest

from backend.service.offload import ParseHelper
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
