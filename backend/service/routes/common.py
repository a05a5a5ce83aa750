"""What the route modules share: JSON responses and the documented error responses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi import HTTPException, Response
from starlette.requests import ClientDisconnect

from backend.service.images import Abandoned, DecodeTimeoutError, EmptyImageError, ImageTooLargeError, InvalidImageError
from backend.service.payloads import PayloadError, error
from backend.service.schemas import Message, ValidationErrorBody


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialise with orjson; NumPy arrays (e.g. probability rows) are written directly."""
    return Response(
        orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status_code, media_type="application/json", headers=headers
    )


MODEL_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No model of the name given in ?model=; the message lists the names served.", "model": Message},
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **MODEL_NOT_FOUND,
    413: {"description": "The body is over BODY_MAX_BYTES.", "model": Message},
    415: {"description": "The Content-Type is not one this route reads.", "model": Message},
    422: {"description": "The body is not a valid request: each entry says where and why.", "model": ValidationErrorBody},
    503: {
        "description": "The worker holds BUFFERED_MAX_BYTES of request bodies already: retry after Retry-After seconds.",
        "model": Message,
    },
}


@contextmanager
def picture_errors() -> Iterator[None]:
    """Turn what decoding an uploaded picture can raise into the HTTP errors the picture routes document."""
    try:
        yield
    except ImageTooLargeError as err:
        raise HTTPException(413, str(err)) from None
    except InvalidImageError as err:
        raise PayloadError([error("image_invalid", ("body",), str(err))]) from None
    except DecodeTimeoutError as err:
        raise PayloadError([error("image_too_slow", ("body",), str(err))]) from None
    except EmptyImageError as err:
        raise PayloadError([error("image_empty", ("body",), str(err))]) from None
    except Abandoned:
        raise ClientDisconnect from None  # no one to answer: counted as 499
