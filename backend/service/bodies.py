"""Request bodies beyond plain JSON: compressed bodies, the V2 binary-tensor framing, raw pixel batches.

    Content-Encoding: gzip | deflate   the body is decompressed (what tritonclient sends with
                                       request_compression_algorithm=...), never past BODY_MAX_BYTES
                                       decompressed: a small bomb is a 413, not a full memory
    V2 infer body                      JSON, or JSON followed by binary tensors when the header
                                       Inference-Header-Content-Length says how long the JSON is;
                                       application/octet-stream is accepted as well as JSON, since that
                                       is how aiohttp (tritonclient's async client) labels every body
    /predict/batch, application/octet-stream
                                       N x 784 pixels row by row: uint8 0-255 by default, or float32
                                       little-endian in [0, 1] with ?dtype=float32

What this module leaves out: parsing the JSON itself (payloads.py) and the tensors' meaning (routes/v2.py).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import numpy as np
from fastapi import Depends, HTTPException, Query, Request

from backend.nn.shapes import N_INPUTS
from backend.service.dependencies import BodyBudget, body_too_large, get_body_budget, get_settings, is_json, media_type
from backend.service.payloads import PayloadError, check_range, error
from backend.service.settings import Settings

OCTET_STREAM = "application/octet-stream"
HEADER_LENGTH = "inference-header-content-length"
PixelType = Literal["uint8", "float32"]
PIXEL_DTYPES: dict[str, np.dtype] = {"uint8": np.dtype(np.uint8), "float32": np.dtype("<f4")}


def decompress(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """The body as sent before Content-Encoding; HTTPException 415 for an unknown coding, 400 for a broken stream, 413 past max_bytes."""
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding not in ("gzip", "deflate", "x-gzip"):
        raise HTTPException(415, f"Content-Encoding {encoding!r} is not supported: send gzip, deflate or none")
    # wbits: 16 + MAX_WBITS reads a gzip wrapper, MAX_WBITS a zlib one ("deflate" in HTTP is zlib), and
    # a raw deflate stream, which some clients send under the same name, is tried when zlib's header is absent
    attempts = [16 + zlib.MAX_WBITS] if coding != "deflate" else [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    for wbits in attempts:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, max_bytes + 1)
        except zlib.error as err:
            last = err
            continue
        if len(out) > max_bytes or inflater.unconsumed_tail:
            raise body_too_large(f"the request body decompresses to over the limit of {max_bytes} bytes")
        if not inflater.eof:
            raise HTTPException(400, f"the {coding} body is truncated")
        return out
    raise HTTPException(400, f"the body is not valid {coding} data ({last})")


class InferBody:
    """A V2 infer body split in two: the JSON header (bytes) and the binary tensor data after it (may be empty)."""

    def __init__(self, header: bytes, binary: bytes) -> None:
        self.header = header
        self.binary = binary


async def get_infer_body(
    request: Request, settings: Annotated[Settings, Depends(get_settings)], budget: Annotated[BodyBudget, Depends(get_body_budget)]
) -> AsyncIterator[InferBody]:
    media = media_type(request)
    framed = request.headers.get(HEADER_LENGTH)
    # V2 clients (tritonclient's sync client) send no Content-Type at all; the answer is a prediction and
    # changes nothing, so a body without one is read as the protocol's JSON here, unlike the page's routes
    if not (media is None or is_json(media) or media == OCTET_STREAM):
        raise HTTPException(415, f"send the body as application/json (or binary tensors as application/octet-stream), not {media}")
    async with budget.holding(request, settings.body_max_bytes) as sent:
        body = decompress(sent, request.headers.get("content-encoding"), settings.body_max_bytes)
        if framed is None:
            yield InferBody(body, b"")
            return
        if not framed.isdigit() or int(framed) > len(body):
            raise HTTPException(400, f"Inference-Header-Content-Length is {framed!r}, but the body holds {len(body)} bytes")
        split = int(framed)
        yield InferBody(body[:split], body[split:])


async def get_batch_body(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    budget: Annotated[BodyBudget, Depends(get_body_budget)],
    dtype: Annotated[
        PixelType, Query(description="For application/octet-stream bodies: uint8 (0-255, the default) or float32 (little-endian, 0.0-1.0).")
    ] = "uint8",
) -> AsyncIterator[bytes | np.ndarray]:
    """A JSON body as bytes (for payloads.read_images), or an octet-stream body as images (N, 784) float32 in [0, 1]."""
    media = media_type(request)
    if not (is_json(media) or media == OCTET_STREAM):
        raise HTTPException(415, f"send the body as application/json or application/octet-stream, not {media or 'without a Content-Type'}")
    async with budget.holding(request, settings.body_max_bytes) as sent:
        body = decompress(sent, request.headers.get("content-encoding"), settings.body_max_bytes)
        yield body if is_json(media) else pixels_from_bytes(body, PIXEL_DTYPES[dtype], settings.batch_max)


def pixels_from_bytes(body: bytes, dtype: np.dtype, batch_max: int) -> np.ndarray:
    """Raw rows of 784 pixels -> images (N, 784) float32 in [0, 1]; PayloadError if the size or a value is wrong."""
    row_bytes = N_INPUTS * dtype.itemsize
    if not body or len(body) % row_bytes:
        raise PayloadError(
            [
                error(
                    "value_error",
                    ("body",),
                    f"{len(body)} bytes is not a whole number of images of {N_INPUTS} {dtype.name} pixels ({row_bytes} bytes each)",
                )
            ]
        )
    n_images = len(body) // row_bytes
    if n_images > batch_max:
        raise PayloadError([error("too_long", ("body",), f"the batch holds {n_images} images; at most {batch_max} are allowed")])
    values = np.frombuffer(body, dtype=dtype).reshape(n_images, N_INPUTS)
    if dtype == np.uint8:
        return values.astype(np.float32) / np.float32(255)
    images = values.astype(np.float32)
    check_range(images, lambda index: ("body", *index))
    return images


InferBodyDep = Annotated[InferBody, Depends(get_infer_body)]
BatchBody = Annotated[bytes | np.ndarray, Depends(get_batch_body)]
