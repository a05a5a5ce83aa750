"""Where errors become HTTP responses: one boundary per protocol.

The service speaks two error dialects. The default one is FastAPI's: {"detail": "..."} for an
HTTPException and {"detail": [{"type", "loc", "msg"}]} (422) for a body that is not a valid request,
raised by the parsers as PayloadError. The V2 / Open Inference Protocol wants {"error": "..."} with
400 for a bad request. Handlers raise the same exceptions whichever protocol they speak; the app's
exception handlers (`install_default_handlers`) render the default dialect, and a router that speaks
another passes `route_class=protocol_route(render)`, whose handlers catch those exceptions first.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from backend.service.middleware import SECURITY_HEADERS
from backend.service.payloads import PayloadError

Render = Callable[[int, str, dict[str, str] | None], Response]


async def payload_error_handler(request: Request, exc: Exception) -> Response:
    """A PayloadError is answered like any FastAPI validation error: 422 {"detail": [...]}."""
    assert isinstance(exc, PayloadError)
    return await request_validation_exception_handler(request, RequestValidationError(exc.errors))


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    """A bug: 500 {"detail": ...} with the security headers (Starlette's own 500 is bare text/plain, and
    is sent from outside every middleware). Starlette logs the traceback after sending this."""
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    return Response(b'{"detail":"internal server error"}', status_code=500, media_type="application/json", headers=headers)


def install_default_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PayloadError, payload_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)


def protocol_route(render: Render, bad_request_status: int = 400) -> type[APIRoute]:
    """An APIRoute class whose errors are rendered by `render(status, message, headers)`.

    HTTPException keeps its status; PayloadError and FastAPI's own validation errors (a path or
    query parameter) become `bad_request_status` with their one-line summary.
    """

    class ProtocolRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    return await handler(request)
                except HTTPException as err:
                    return render(err.status_code, str(err.detail), err.headers)
                except PayloadError as err:
                    return render(bad_request_status, str(err), None)
                except RequestValidationError as err:
                    return render(bad_request_status, PayloadError.summary_of(list(err.errors())), None)

            return handle

    return ProtocolRoute
