"""The hand-written body parser: what it accepts equals what the documented schema allows."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.service.payloads import (
    PayloadError,
    brief,
    flat_to_matrix,
    read_images,
    read_pixels,
)

valid_value = st.one_of(st.floats(0, 1), st.integers(0, 1))
invalid_value = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 0 <= v <= 1),
    st.integers().filter(lambda v: not 0 <= v <= 1),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
    st.lists(st.floats(0, 1), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def body(pixels) -> bytes:
    """Written with Python's json, which emits NaN and Infinity as a careless client would."""
    return json.dumps({"pixels": pixels}).encode()


@settings(max_examples=60, deadline=None)
@given(st.lists(valid_value, min_size=784, max_size=784))
def test_any_784_numbers_in_range_are_accepted_as_float32(pixels):
    matrix = read_pixels(orjson.dumps({"pixels": pixels}))
    assert matrix.shape == (1, 784) and matrix.dtype == np.float32
    assert np.allclose(matrix[0], np.array(pixels, dtype=np.float32))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 783), invalid_value)
def test_one_bad_value_anywhere_is_named_by_its_index(index, value):
    pixels = [0.5] * 784
    pixels[index] = value
    with pytest.raises(PayloadError) as raised:
        read_pixels(body(pixels))
    assert raised.value.errors[0]["loc"] == ["body", "pixels", index]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2000).filter(lambda n: n != 784))
def test_any_other_length_is_refused(length):
    with pytest.raises(PayloadError) as raised:
        read_pixels(orjson.dumps({"pixels": [0.0] * length}))
    assert raised.value.errors[0]["loc"] == ["body", "pixels"]
    assert str(length) in raised.value.errors[0]["msg"]


def test_batch_fast_path_and_slow_path_agree():
    rng = np.random.default_rng(3)
    images = rng.random((4, 784)).tolist()
    fast = read_images(orjson.dumps({"images": images}), 10)
    slow = read_images(orjson.dumps({"images": images, "note": "text with t and f"}), 10)  # 't'/'f' bytes force the slow path
    assert fast.shape == (4, 784)
    assert np.array_equal(fast, slow)


@pytest.mark.parametrize("text", ["0.5", "1", "1e-1"])
def test_a_number_written_as_a_string_is_refused_though_numpy_would_read_it(text):
    # np.array(["0.5"], dtype=float) is 0.5: the quick conversion must never see a string
    pixels = [0.0] * 784
    pixels[300] = text
    with pytest.raises(PayloadError) as raised:
        read_pixels(orjson.dumps({"pixels": pixels}))
    assert raised.value.errors[0]["loc"] == ["body", "pixels", 300]
    with pytest.raises(PayloadError) as raised:
        read_images(orjson.dumps({"images": [[0.0] * 784, pixels]}), 5)
    assert raised.value.errors[0]["loc"] == ["body", "images", 1, 300]


def test_errors_are_capped_so_a_bad_batch_is_not_echoed_back():
    with pytest.raises(PayloadError) as raised:
        read_images(orjson.dumps({"images": [[2.0] * 784] * 50}), 100)
    assert len(raised.value.errors) == 10


def test_flat_tensor_data_is_reshaped_row_major():
    values = list(np.linspace(0, 1, 2 * 784))
    matrix = flat_to_matrix(values, 2, ("body", "data"), maybe_booleans=False)
    assert matrix.shape == (2, 784)
    assert matrix[1, 0] == np.float32(values[784])


def test_summary_reads_like_a_path():
    with pytest.raises(PayloadError) as raised:
        read_images(orjson.dumps({"images": [[0.0] * 783 + [7]]}), 5)
    assert str(raised.value).startswith("images[0][783]: must be within [0, 1]")


def test_brief_shows_a_deeply_nested_value_in_a_few_characters():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert brief(deep) == "[[[[...]]]]"
    assert brief({"a": list(range(20))}) == "{'a': [0, 1, 2, 3, 4, 5, 6, 7, ...]}"
    assert brief("x" * 500) == repr("x" * 77)[:77] + "..."
    assert brief([1, 785]) == "[1, 785]"
