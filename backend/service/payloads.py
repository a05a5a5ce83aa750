"""Fast, strict parsing of the JSON bodies that carry pixels: bytes in, a (B, 784) float32 matrix out.

Why by hand: for a /predict the model's forward pass is cheap, so parsing matters. The body is parsed
with orjson and checked with whole-array NumPy operations; only a body that fails those checks takes
the slow path, which walks the values to say exactly which ones are wrong. It costs a fraction of
validating the same body with the pydantic models (README, performance).

The contract is the request models in schemas.py: this parser accepts exactly what they accept (a
JSON object with the field, a list, nested right, exactly 784 numbers per image, JSON booleans,
strings and nulls are not numbers, finite, within [0, 1], a batch of 1 to batch_max images), and
tests/service/test_contract.py holds the two together. Errors are raised as PayloadError holding entries in FastAPI's own format,
{"type", "loc", "msg"} with loc like ["body", "images", 3, 17], so clients see one error shape.

What this module leaves out: HTTP (the routes turn PayloadError into a 422 or, for the V2 protocol, a
400) and image files (images.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from backend.nn.shapes import N_INPUTS

MAX_ERRORS = 10  # enough to see a pattern without echoing a whole bad batch back

Loc = tuple[str | int, ...]


class PayloadError(ValueError):
    """A body that is not a valid request; `errors` are FastAPI-style {"type", "loc", "msg"} dicts."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(self.summary_of(errors))
        self.errors = errors

    def __reduce__(self) -> tuple[type[PayloadError], tuple[list[dict[str, Any]]]]:
        # rebuilt from its errors when it comes back from the parsing helper process (offload.py)
        return (PayloadError, (self.errors,))

    @staticmethod
    def summary_of(errors: list[dict[str, Any]]) -> str:
        """One line naming each problem, e.g. 'images[3][17]: must be within [0, 1], got 1.5'."""
        return "; ".join(f"{_path(e['loc'])}: {e['msg']}" if e["type"] != "json_invalid" and _path(e["loc"]) else e["msg"] for e in errors)


def _path(loc: Loc) -> str:
    """["body", "images", 3, 17] -> "images[3][17]"."""
    parts = loc[1:] if loc and loc[0] == "body" else loc
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def error(kind: str, loc: Loc, msg: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "loc": list(loc), "msg": msg, **extra}


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    return {bool: "boolean", str: "string", dict: "object", list: "array", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def brief(value: Any, depth: int = 3, width: int = 80) -> str:
    """A client's value for an error message: repr-like, containers below `depth` levels shown as [...]
    or {...}, at most 8 items per container and `width` characters in all.

    Never recursive past `depth`, so a value nested a thousand levels deep (which orjson accepts) costs
    no more than a flat one; plain repr() would hit Python's recursion limit.
    """

    def show(item: Any, levels: int) -> str:
        if isinstance(item, list):
            if levels == 0:
                return "[...]"
            return "[" + ", ".join(show(x, levels - 1) for x in item[:8]) + (", ..." if len(item) > 8 else "") + "]"
        if isinstance(item, dict):
            if levels == 0:
                return "{...}"
            shown = ", ".join(f"{show(k, 0)}: {show(x, levels - 1)}" for k, x in list(item.items())[:8])
            return "{" + shown + (", ..." if len(item) > 8 else "") + "}"
        if isinstance(item, str) and len(item) > width:
            return repr(item[:width])
        return repr(item)

    text = show(value, depth)
    return text if len(text) <= width else text[: width - 3] + "..."


# A body that orjson refuses only for a NaN, an Infinity or a number beyond a double is parsed again by
# Python's json module, so that the value checks can say which element it is; that second parse costs
# several times the first and holds the GIL (blocking the event loop), so only bodies this small get it.
REPARSE_MAX_BYTES = 1_000_000


def parse_json(body: bytes) -> Any:
    """Parse a JSON body; raise PayloadError (json_invalid, with the position) if it is not JSON.

    NaN, Infinity and numbers too large for a double (1e999) are not JSON orjson accepts; Python's json
    module reads them, so such a body of up to REPARSE_MAX_BYTES is parsed again and the value checks
    name the offending element. Anything else orjson refuses is refused at once: no second parse.
    """
    if not body.strip():
        raise PayloadError([error("missing", ("body",), "the request body is empty: send a JSON object")])
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        non_json_number = _non_json_number(body, err)
        message = f"JSON decode error at character {err.pos}: {err.msg}"
        if non_json_number and len(body) <= REPARSE_MAX_BYTES:
            try:
                return json.loads(body)
            except (ValueError, RecursionError):
                pass
        elif non_json_number:
            message = f"JSON decode error at character {err.pos}: {non_json_number} is not a number (send finite numbers in [0, 1])"
        raise PayloadError([error("json_invalid", ("body", err.pos), message, ctx={"error": err.msg})]) from None


def _non_json_number(body: bytes, err: orjson.JSONDecodeError) -> str | None:
    """ "NaN", "Infinity" or "a number beyond a double" when that is what orjson stopped at, else None."""
    if "infinity when parsed" in err.msg:
        return "a number beyond a double"
    at = body[max(err.pos - 1, 0) : err.pos + 8]
    for token in (b"NaN", b"Infinity"):
        if token in at:
            return token.decode()
    return None


def field_of(payload: Any, name: str, example: str) -> Any:
    """payload[name], or PayloadError if payload is not an object or lacks the field."""
    if not isinstance(payload, dict):
        raise PayloadError([error("model_attributes_type", ("body",), f"expected a JSON object like {example}, got {json_type(payload)}")])
    if name not in payload:
        raise PayloadError([error("missing", ("body", name), f"field required: send {example}")])
    return payload[name]


def may_hold_booleans(body: bytes) -> bool:
    """False when the body cannot contain true/false (no 't' or 'f' byte at all); a cheap memchr.

    NumPy silently turns True into 1.0 inside a numeric list, so a body that might hold a boolean
    takes the slow path, which looks at every value's type.
    """
    return b"t" in body or b"f" in body


def value_kinds(body: bytes) -> tuple[bool, bool]:
    """(may hold booleans, holds only numbers) for a body with one key, scanning for 't' and 'f' once.

    Only numbers: the key is the body's only string and no true, false or null can be in it, so every
    value is a number (or a list) and NumPy may convert the lists straight to float64, without its type
    discovery, which costs about a fifth more on a large batch. The keys ("pixels", "images") hold no 't', 'f'
    or 'n'.
    """
    booleans = may_hold_booleans(body)
    return booleans, not booleans and body.count(b'"') == 2 and b"n" not in body


def read_pixels(body: bytes) -> np.ndarray:
    """Body {"pixels": [784 numbers]} -> (1, 784) float32."""
    pixels = field_of(parse_json(body), "pixels", '{"pixels": [784 numbers in [0, 1]]}')
    loc = ("body", "pixels")
    if not isinstance(pixels, list):
        raise PayloadError([error("list_type", loc, f"expected an array of {N_INPUTS} numbers, got {json_type(pixels)}")])
    return rows_to_matrix([pixels], lambda i: loc, *value_kinds(body))


def read_images(body: bytes, batch_max: int) -> np.ndarray:
    """Body {"images": [[784 numbers], ...]} with 1 to batch_max images -> (B, 784) float32."""
    images = field_of(parse_json(body), "images", '{"images": [[784 numbers in [0, 1]], ...]}')
    loc = ("body", "images")
    check_batch(images, loc, batch_max)
    return rows_to_matrix(images, lambda i: (*loc, i), *value_kinds(body))


def check_batch(images: Any, loc: Loc, batch_max: int) -> None:
    """images must be a list of 1 to batch_max items."""
    if not isinstance(images, list):
        raise PayloadError([error("list_type", loc, f"expected an array of images, got {json_type(images)}")])
    if not images:
        raise PayloadError([error("too_short", loc, f"the batch is empty: send 1 to {batch_max} images", ctx={"min_length": 1})])
    if len(images) > batch_max:
        raise PayloadError(
            [error("too_long", loc, f"{len(images)} images is over the maximum of {batch_max} per request", ctx={"max_length": batch_max})]
        )


def rows_to_matrix(rows: list[Any], row_loc: Callable[[int], Loc], maybe_booleans: bool, numbers_only: bool = False) -> np.ndarray:
    """A list of B rows of 784 numbers in [0, 1] -> (B, 784) float32, or PayloadError naming the bad values.

    row_loc(i) is where row i sits in the request, e.g. ("body", "images", i). numbers_only: the body
    was seen to hold no strings, booleans or nulls (value_kinds), so no value needs its type looked at.
    """
    # shapes first, on the lists themselves: a 10-million-value row is refused before NumPy copies it
    well_shaped = all(type(row) is list and len(row) == N_INPUTS for row in rows)
    if well_shaped and numbers_only:
        matrix = _float_array(rows)
    elif well_shaped and not maybe_booleans:
        matrix = _numeric_array(rows)
    else:
        matrix = None
    if matrix is not None and matrix.ndim == 2:
        check_range(matrix, lambda index: (*row_loc(index[0]), index[1]))
        return matrix.astype(np.float32)
    errors: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            errors.append(error("list_type", row_loc(i), f"expected an array of {N_INPUTS} numbers, got {json_type(row)}"))
        elif len(row) != N_INPUTS:
            kind = "too_short" if len(row) < N_INPUTS else "too_long"
            errors.append(error(kind, row_loc(i), f"expected exactly {N_INPUTS} numbers (28x28, row by row), got {len(row)}"))
        else:
            errors.extend(value_errors(row, lambda j, i=i: (*row_loc(i), j), MAX_ERRORS - len(errors)))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise PayloadError(errors)
    # only a false alarm of may_hold_booleans gets here: every value was checked one by one above
    return np.array(rows, dtype=np.float64).astype(np.float32)


def flat_to_matrix(values: list[Any], n_rows: int, loc: Loc, maybe_booleans: bool) -> np.ndarray:
    """A flat list of n_rows * 784 numbers in [0, 1] (row-major) -> (n_rows, 784) float32."""
    expected = n_rows * N_INPUTS
    if len(values) != expected:
        raise PayloadError(
            [
                error(
                    "too_short" if len(values) < expected else "too_long",
                    loc,
                    f"holds {len(values)} values; shape [{n_rows}, {N_INPUTS}] needs {expected}",
                )
            ]
        )
    flat = _numeric_array(values)
    if flat is not None and flat.ndim == 1 and not maybe_booleans:
        check_range(flat, lambda index: (*loc, index[0]))
        return flat.astype(np.float32).reshape(n_rows, N_INPUTS)
    errors = value_errors(values, lambda k: (*loc, k), MAX_ERRORS)
    if errors:
        raise PayloadError(errors)
    return np.array(values, dtype=np.float64).astype(np.float32).reshape(n_rows, N_INPUTS)


def _float_array(values: list[Any]) -> np.ndarray | None:
    """np.array(values, float64), or None when NumPy cannot (ragged nesting, an int too big for a double)."""
    try:
        return np.array(values, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        return None


def _numeric_array(values: list[Any]) -> np.ndarray | None:
    """np.array(values) when NumPy reads it as a regular array of ints or floats, else None.

    Strings give a string array, null or oversized integers an object array, ragged nesting an
    error: all None here, so the caller takes the slow path that names the culprit.
    """
    try:
        array = np.array(values)
    except (ValueError, TypeError, OverflowError):
        return None
    return array if array.dtype.kind in "fi" else None


def check_range(array: np.ndarray, loc_of: Callable[[tuple[int, ...]], Loc]) -> None:
    """Raise PayloadError if any value is NaN, infinite or outside [0, 1]; loc_of maps an index to its loc."""
    # min/max propagate NaN, and NaN fails both comparisons: one cheap pass covers all three cases
    if array.size and array.min() >= 0 and array.max() <= 1:
        return
    bad = np.argwhere(~((array >= 0) & (array <= 1)))[:MAX_ERRORS]
    raise PayloadError([_range_error(float(array[tuple(index)]), loc_of(tuple(int(i) for i in index))) for index in bad])


def value_errors(values: list[Any], loc_of: Callable[[int], Loc], limit: int) -> list[dict[str, Any]]:
    """Errors for the values of one list that are not numbers in [0, 1], at most `limit` of them."""
    errors = []
    for j, value in enumerate(values):
        kind = type(value)
        if kind is not float and kind is not int:  # exact types: bool is a subclass of int, not a number here
            found = "an array" if kind is list else json_type(value)
            scalar = {"input": value} if kind in (str, bool) or value is None else {}
            errors.append(error("float_type", loc_of(j), f"expected a number in [0, 1], got {found}", **scalar))
        elif not 0 <= value <= 1:  # NaN fails this too
            errors.append(_range_error(value, loc_of(j)))
        if len(errors) >= limit:
            break
    return errors


def _range_error(value: float | int, loc: Loc) -> dict[str, Any]:
    if isinstance(value, float) and not math.isfinite(value):
        name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return error("finite_number", loc, f"expected a finite number in [0, 1], got {name}")
    if isinstance(value, int) and abs(value) >= 10**15:
        return error(
            "less_than_equal" if value > 0 else "greater_than_equal",
            loc,
            f"must be within [0, 1] (0 = background, 1 = ink), got an integer of {len(str(abs(value)))} digits",
        )
    kind, ctx = ("greater_than_equal", {"ge": 0}) if value < 0 else ("less_than_equal", {"le": 1})
    return error(kind, loc, f"must be within [0, 1] (0 = background, 1 = ink), got {value}", ctx=ctx, input=value)
