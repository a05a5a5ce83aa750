"""The FastAPI application: wiring only (settings, lifespan, middleware, routers, the static page).

backend/main.py serves `create_app()` to uvicorn (`backend.main:app`); the launcher and the tests call
create_app(settings). The lifespan loads and checks the weights before the first request: if they are
missing, corrupt or do not match their card, start-up fails with a log line naming the file and the
process exits non-zero; it never serves half-ready. Every model folder is loaded (repository.py) and,
unless RELOAD_POLL_S is 0, watched for new weights while serving. Routes live in routes/, what they need from the
app in dependencies.py, errors become responses in errors.py, request parsing is payloads.py and
images.py, the model served_model.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware

from backend.nn.weights import WeightsError
from backend.service.dependencies import BodyBudget
from backend.service.errors import install_default_handlers
from backend.service.fast_lane import PredictFastLane
from backend.service.feedback.ratelimit import TokenBuckets
from backend.service.feedback.store import FeedbackStore, StoreUnavailable, database_url_for
from backend.service.methods import add_method_fallbacks, frontend_mount
from backend.service.middleware import MetricsMiddleware, SecurityHeadersMiddleware
from backend.service.offload import NEVER, ParseHelper
from backend.service.repository import ModelRepository
from backend.service.routes import admin, docs, explain, feedback, meta, metrics, number, predict, v2
from backend.service.schemas import add_body_schemas
from backend.service.settings import (
    LOG_FORMAT,
    SERVICE_NAME,
    SERVICE_VERSION,
    UNUSABLE_WEIGHTS,
    Settings,
)

logger = logging.getLogger(__name__)

# Big batches and photos run in a worker thread, one at a time per process (others wait holding only
# their raw bodies), while the event loop goes on answering. One per process because the launcher starts
# as many processes as cores: a second thread only makes two jobs share a core and its cache (the
# README's performance section has the measurement).
HEAVY_WORK_THREADS = 1

DESCRIPTION = (
    "Recognises handwritten digits with a multilayer perceptron written from scratch in NumPy and trained on MNIST. "
    "Send 784 pixels (/predict, /predict/batch), a picture (/predict/image), a picture of a number (/predict/number), or use the V2 inference protocol (/v2)."
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    preloaded = getattr(app.state, "preloaded_models", None)
    if preloaded is not None:
        # backend.serve loaded and checked the weights before forking this worker: its arrays are
        # shared with the other workers (one copy in RAM and in the CPU cache), and a worker that
        # gunicorn restarts later does not depend on the files still being there
        models = preloaded
    else:
        try:
            models = ModelRepository.load(settings.model_dir, settings.model_name)
        except WeightsError as err:
            logger.critical(UNUSABLE_WEIGHTS, err)
            raise
    models.on_change = lambda: setattr(app, "openapi_schema", None)  # the schema lists the names
    app.state.models = models
    app.state.heavy_work_limiter = anyio.CapacityLimiter(HEAVY_WORK_THREADS)
    app.state.feedback_limiter = TokenBuckets(settings.feedback_rate, settings.feedback_burst)
    app.state.feedback_store = store = FeedbackStore(
        database_url_for(settings.data_dir, settings.database_url.get_secret_value()),
        max_rows=settings.feedback_max_rows,
        busy_timeout_ms=settings.feedback_busy_timeout_ms,
    )
    try:  # a database that is not there yet only turns feedback off (503); predictions never depend on it
        await anyio.to_thread.run_sync(store.ensure_ready)
        logger.info("feedback is stored in %s", store.describe())
    except StoreUnavailable as err:
        logger.error("feedback is off until the database can be written (tried again on each POST /feedback): %s", err)
    watcher = asyncio.create_task(models.watch(settings.reload_poll_s)) if settings.reload_poll_s > 0 else None
    app.state.body_budget = BodyBudget(settings.buffered_max_bytes)
    app.state.parse_helper = ParseHelper(settings.parse_offload_min_bytes or NEVER)
    if getattr(app.state, "start_parse_helper", False):  # set by the launcher for its workers (see offload.py)
        app.state.parse_helper.start()
    yield
    app.state.parse_helper.close()
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    store.close()
    logger.info("application shutdown: no request is in flight any more")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = FastAPI(
        title=SERVICE_NAME,
        version=SERVICE_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI from a CDN with an inline script: routes/docs.py serves both offline
        redoc_url=None,
    )
    app.state.settings = settings
    install_default_handlers(app)
    routers = [module.router for module in (meta, predict, number, explain, v2, admin, metrics, docs, feedback)]
    if settings.admin_token.get_secret_value():
        routers.append(feedback.admin_router)
    for router in routers:
        app.include_router(router)
    add_method_fallbacks(app, routers)  # after the API routes, before the page's mount
    app.include_router(v2.unknown_paths)  # last of all: any other path under /v2 is the protocol's 404
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    # add_middleware wraps what is there: the last added runs first on the way in
    app.add_middleware(PredictFastLane, route=api_route(predict.router, "/predict", "POST"))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"], allow_headers=["Content-Type"]
        )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)

    mount_frontend(app, settings)
    return app


def api_route(router: APIRouter, path: str, method: str) -> APIRoute:
    return next(route for route in router.routes if isinstance(route, APIRoute) and route.path == path and method in route.methods)


def mount_frontend(app: FastAPI, settings: Settings) -> None:
    """Serve FRONTEND_DIR at "/", after every API route so it never shadows one."""
    if not settings.frontend_dir.is_dir():
        logger.warning("%s does not exist: the API works, but nothing is served at /", settings.frontend_dir)
        return
    if not (settings.frontend_dir / "index.html").is_file():
        logger.warning("%s is missing: the API works, but / has no page to serve", settings.frontend_dir / "index.html")
    app.router.routes.append(frontend_mount(settings.frontend_dir))


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        app.openapi_schema = add_served_names(add_body_schemas(schema), app)
    return app.openapi_schema


def add_served_names(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Settings-dependent facts the static models cannot hold: the model names served (an enum on
    ?model= and {name}) and BATCH_MAX as maxItems of a batch."""
    models = getattr(app.state, "models", None)
    names = models.names if models is not None else [app.state.settings.model_name]
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                # new dicts, not edits: a route's openapi_extra parameters are shared by every app made in this process
                operation["parameters"] = [with_names(parameter, names) for parameter in operation["parameters"]]
    components = schema.get("components", {}).get("schemas", {})
    batch_max = app.state.settings.batch_max
    if "BatchRequest" in components:
        components["BatchRequest"]["properties"]["images"]["maxItems"] = batch_max
    if "RequestInput" in components:
        components["RequestInput"]["properties"]["shape"]["description"] = f"[B, 784], 1 <= B <= {batch_max} (BATCH_MAX)."
    return schema


def with_names(parameter: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A ?model= or {name} parameter's OpenAPI entry with the served names as its enum; any other parameter as it is."""
    if parameter.get("name") not in ("model", "name"):
        return parameter
    schema = {key: value for key, value in parameter.get("schema", {}).items() if key != "anyOf"}
    return {**parameter, "schema": {**schema, "enum": names, "examples": names[:1]}}


def configure_logging(level: str) -> None:
    """Our loggers at `level`; a stderr handler only when nothing (uvicorn, pytest) has set one up."""
    service_logger = logging.getLogger("backend")
    service_logger.setLevel(level.upper())
    if not logging.getLogger().handlers and not service_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        service_logger.addHandler(handler)
