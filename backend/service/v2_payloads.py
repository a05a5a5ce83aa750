"""Reading a V2 / Open Inference Protocol infer body into images: the JSON header, and the binary tensor
data after it when the request uses Triton's binary extension (routes/v2.py describes the protocol).

Apart from the route so that the parsing helper process (offload.py) can run it on a large body
importing only this, NumPy and payloads.py, not FastAPI. What this module leaves out: splitting the
body in two (bodies.py), running the model and writing the answer (routes/v2.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.nn.shapes import N_INPUTS
from backend.service.payloads import (
    PayloadError,
    brief,
    check_range,
    error,
    field_of,
    flat_to_matrix,
    json_type,
    parse_json,
    rows_to_matrix,
)

INPUT_NAME = "input"
OUTPUT_NAME = "probabilities"
IS_DIGIT_NAME = "is_digit"
OUTPUT_NAMES = (OUTPUT_NAME, IS_DIGIT_NAME)
DATATYPE = "FP32"
FP32 = np.dtype("<f4")


def read_infer_request(header: bytes, binary: bytes, batch_max: int) -> tuple[str | None, Any, tuple[str, ...], bool]:
    """An infer call's JSON header and the binary tensor data after it (b"" if none) -> (its id or None,
    images (B, 784) float32, the output names to return, whether they go back binary); PayloadError if malformed."""
    payload = parse_json(header)
    example = '{"inputs": [{"name": "input", "shape": [1, 784], "datatype": "FP32", "data": [...]}]}'
    inputs = field_of(payload, "inputs", example)
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise PayloadError([error("string_type", ("body", "id"), f"id must be a string, got {json_type(request_id)}")])
    if not isinstance(inputs, list) or len(inputs) != 1:
        raise PayloadError([error("list_type", ("body", "inputs"), f"the model takes exactly one input tensor, {INPUT_NAME!r}")])
    wanted, binary_output = requested_outputs(payload.get("outputs"), payload.get("parameters"))
    tensor, loc = inputs[0], ("body", "inputs", 0)
    if not isinstance(tensor, dict):
        raise PayloadError([error("model_attributes_type", loc, f"an input tensor is an object like {example}")])
    parameters = tensor.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise PayloadError([error("dict_type", (*loc, "parameters"), f"parameters must be an object, got {json_type(parameters)}")])
    binary_size = (parameters or {}).get("binary_data_size")
    missing = [
        key for key in ("name", "shape", "datatype", "data") if key not in tensor and not (key == "data" and binary_size is not None)
    ]
    if missing:
        raise PayloadError([error("missing", (*loc, missing[0]), f"the input tensor lacks {', '.join(missing)}")])
    if tensor["name"] != INPUT_NAME:
        raise PayloadError(
            [error("value_error", (*loc, "name"), f"unknown input {brief(tensor['name'])}; the model's input is {INPUT_NAME!r}")]
        )
    if tensor["datatype"] != DATATYPE:
        raise PayloadError([error("value_error", (*loc, "datatype"), f"datatype must be {DATATYPE!r}, got {brief(tensor['datatype'])}")])
    n_images = check_shape(tensor["shape"], (*loc, "shape"), batch_max)
    if binary_size is not None:
        return request_id, binary_tensor(binary, binary_size, n_images, loc), wanted, binary_output
    if binary:
        raise PayloadError([error("value_error", loc, f"{len(binary)} bytes follow the JSON header, but no input has a binary_data_size")])
    data = tensor["data"]
    if not isinstance(data, list):
        raise PayloadError([error("list_type", (*loc, "data"), f"data must be an array of numbers, got {json_type(data)}")])
    maybe_booleans = b"true" in header or b"false" in header  # keys here hold 't' and 'f', so look for the words
    if data and isinstance(data[0], list):  # one array per image
        if len(data) != n_images:
            raise PayloadError([error("value_error", (*loc, "data"), f"holds {len(data)} images; shape says {n_images}")])
        return request_id, rows_to_matrix(data, lambda i: (*loc, "data", i), maybe_booleans), wanted, binary_output
    return request_id, flat_to_matrix(data, n_images, (*loc, "data"), maybe_booleans), wanted, binary_output


def binary_tensor(binary: bytes, size: Any, n_images: int, loc: tuple) -> np.ndarray:
    """The input's raw bytes (little-endian float32, B x 784) -> images (B, 784) float32; PayloadError if mis-sized or out of range."""
    expected = n_images * N_INPUTS * FP32.itemsize
    if type(size) is not int or size != expected:
        raise PayloadError(
            [
                error(
                    "value_error",
                    (*loc, "parameters", "binary_data_size"),
                    f"binary_data_size must be {expected} ({n_images} x {N_INPUTS} FP32), got {size!r}",
                )
            ]
        )
    if len(binary) != size:
        what = "truncated" if len(binary) < size else "longer than its binary_data_size"
        raise PayloadError(
            [error("value_error", loc, f"the binary tensor data is {what}: {len(binary)} bytes after the JSON header, {size} expected")]
        )
    images = np.frombuffer(binary, dtype=FP32).reshape(n_images, N_INPUTS).astype(np.float32)
    check_range(images, lambda index: (*loc, "data", index[0] * N_INPUTS + index[1]))  # the flat tensor's element
    return images


def check_shape(shape: Any, loc: tuple, batch_max: int) -> int:
    """Shape must be [B, 784] with 1 <= B <= batch_max; returns B."""
    if not (isinstance(shape, list) and len(shape) == 2 and all(type(n) is int for n in shape) and shape[1] == N_INPUTS):
        raise PayloadError([error("value_error", loc, f"shape must be [B, {N_INPUTS}] (B images of 28x28 pixels), got {brief(shape)}")])
    if not 1 <= shape[0] <= batch_max:
        raise PayloadError([error("value_error", loc, f"the batch size must be 1 to {batch_max}, got {shape[0]}")])
    return shape[0]


def requested_outputs(outputs: Any, parameters: Any) -> tuple[tuple[str, ...], bool]:
    """The output names an infer call asks for, in the model's order (all of them when it names none), and
    whether they are to go back as binary data."""
    if parameters is not None and not isinstance(parameters, dict):
        raise PayloadError([error("dict_type", ("body", "parameters"), f"parameters must be an object, got {json_type(parameters)}")])
    binary = (parameters or {}).get("binary_data_output") is True
    if outputs is None:
        return OUTPUT_NAMES, binary
    if not isinstance(outputs, list) or not all(isinstance(o, dict) and o.get("name") in OUTPUT_NAMES for o in outputs):
        raise PayloadError([error("value_error", ("body", "outputs"), f"the model's outputs are {' and '.join(map(repr, OUTPUT_NAMES))}")])
    for output in outputs:
        params = output.get("parameters")
        if isinstance(params, dict) and "binary_data" in params:
            binary = params["binary_data"] is True
    asked = {o["name"] for o in outputs}
    return tuple(name for name in OUTPUT_NAMES if name in asked) or OUTPUT_NAMES, binary
