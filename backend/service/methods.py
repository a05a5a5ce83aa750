"""Wrong methods on API paths, HEAD wherever GET works, and the static page's caching, compression and metrics label.

The page is mounted at "/", after every API route, and a mount matches every path: without more, a
`GET /predict` fell through to it (404) and `PUT /predict` got the mount's 405 "Allow: GET, HEAD".
`add_method_fallbacks` adds, after the API routes and before the mount, one route per API path that
catches every other method: HEAD is answered by the path's GET route (uvicorn sends no body for it),
anything else gets 405 with the path's own Allow, in its protocol's error shape ({"error"} under /v2).

`frontend_mount` is the page's mount: responses say how to cache them (`no-cache` for everything
whose name has no content hash, so a new deploy is seen at once but unchanged files are answered
304 from their ETag; a year, immutable, for names like app.3f2a9c1d.js), compressed with gzip when
the client accepts it, and the request is labelled route="static" in /metrics.
What this module leaves out: CORS preflights (CORSMiddleware answers them before routing, when configured).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
VERSIONED_NAME = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")
LONG_CACHE = "public, max-age=31536000, immutable"
GZIP_MIN_BYTES = 512


class LabelledRoute(Route):
    """A Route that, like FastAPI's routes, leaves itself in scope["route"] for the metrics' label."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match != Match.NONE:
            child["route"] = self
        return match, child


class OtherMethods:
    """The ASGI app behind a path's fallback route: HEAD through the GET route, else 405 with Allow."""

    def __init__(self, path: str, routes: list[APIRoute]) -> None:
        self.get = next((route for route in routes if "GET" in route.methods), None)
        allowed = {method for route in routes for method in route.methods} | ({"HEAD"} if self.get else set())
        self.allow = ", ".join(method for method in METHODS if method in allowed)
        self.v2 = path.startswith("/v2")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "HEAD" and self.get is not None:
            as_get = {**scope, "method": "GET"}
            _, child = self.get.matches(as_get)
            await self.get.handle({**as_get, **child}, receive, send)
            return
        message = f"{scope['method']} is not allowed here; allowed: {self.allow}"
        body = {"error": message} if self.v2 else {"detail": message}
        response = Response(orjson.dumps(body), status_code=405, media_type="application/json", headers={"Allow": self.allow})
        await response(scope, receive, send)


def add_method_fallbacks(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """After the API routes (those of `routers`, included without a prefix): one route per API path for the methods it does not serve."""
    by_path: dict[str, list[APIRoute]] = {}
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                by_path.setdefault(route.path, []).append(route)
    for path, routes in by_path.items():
        served = {method for route in routes for method in route.methods}
        others = [method for method in METHODS if method not in served]
        app.router.routes.append(LabelledRoute(path, OtherMethods(path, routes), methods=others, include_in_schema=False))


class CachedStaticFiles(StaticFiles):
    """StaticFiles whose answers carry Cache-Control (see the module's docstring)."""

    def file_response(self, full_path: Any, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(full_path, *args, **kwargs)
        response.headers["Cache-Control"] = LONG_CACHE if VERSIONED_NAME.search(Path(full_path).name) else "no-cache"
        return response


class LabelledMount(Mount):
    """A Mount that leaves itself in scope["route"], so the metrics label its requests "static"."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match != Match.NONE:
            child["route"] = self
        return match, child


def frontend_mount(directory: Path) -> Mount:
    """The page's files at "/": cached as above, gzip-compressed for clients that accept it."""
    files: ASGIApp = CachedStaticFiles(directory=directory, html=True, check_dir=False)
    return LabelledMount("/", app=GZipMiddleware(files, minimum_size=GZIP_MIN_BYTES), name="frontend")
