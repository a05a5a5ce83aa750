"""The FastAPI application: wiring only (settings, lifespan, middleware, routers, the static page).

backend/main.py serves `create_app()` to uvicorn (`backend.main:app`); the launcher and the tests call
create_app(settings). The lifespan loads and checks the weights before the first request: if they are
missing, corrupt or do not match their card, start-up fails with a log line naming the file and the
process exits non-zero; it never serves half-ready. Routes live in routes/, what they need from the
app in dependencies.py, errors become responses in errors.py, request parsing is payloads.py and
images.py, the model served_model.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.cors import CORSMiddleware

from backend.nn.weights import WeightsError
from backend.service.batcher import MicroBatcher
from backend.service.dependencies import BodyBudget
from backend.service.errors import install_default_handlers
from backend.service.methods import add_method_fallbacks, frontend_mount
from backend.service.middleware import MetricsMiddleware, SecurityHeadersMiddleware
from backend.service.offload import ParseHelper
from backend.service.routes import docs, meta, metrics, predict, v2
from backend.service.schemas import add_body_schemas
from backend.service.served_model import load_served_model
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
    "Send 784 pixels (/predict, /predict/batch), a picture (/predict/image), or use the V2 inference protocol (/v2)."
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    preloaded = getattr(app.state, "preloaded_model", None)
    if preloaded is not None:
        # backend.serve loaded and checked the weights before forking this worker: its arrays are
        # shared with the other workers (one copy in RAM and in the CPU cache), and a worker that
        # gunicorn restarts later does not depend on the files still being there
        app.state.model = preloaded
    else:
        try:
            app.state.model = load_served_model(settings.model_dir)
        except WeightsError as err:
            logger.critical(UNUSABLE_WEIGHTS, err)
            raise
    app.state.batcher = MicroBatcher(app.state.model)
    app.state.heavy_work_limiter = anyio.CapacityLimiter(HEAVY_WORK_THREADS)
    app.state.body_budget = BodyBudget(settings.buffered_max_bytes)
    app.state.parse_helper = ParseHelper(settings.parse_offload_min_bytes or 2**63)
    yield
    app.state.parse_helper.close()
    logger.info("application shutdown: no request is in flight any more")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = FastAPI(
        title=SERVICE_NAME,
        version=SERVICE_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads from a CDN; routes/docs.py serves a self-contained page instead
        redoc_url=None,
    )
    app.state.settings = settings
    install_default_handlers(app)
    routers = [module.router for module in (meta, predict, v2, metrics, docs)]
    for router in routers:
        app.include_router(router)
    add_method_fallbacks(app, routers)  # after the API routes, before the page's mount
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    # add_middleware wraps what is there: the last added runs first on the way in
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"], allow_headers=["Content-Type"]
        )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)

    mount_frontend(app, settings)
    return app


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
        app.openapi_schema = add_body_schemas(schema)
    return app.openapi_schema


def configure_logging(level: str) -> None:
    """Our loggers at `level`; a stderr handler only when nothing (uvicorn, pytest) has set one up."""
    service_logger = logging.getLogger("backend")
    service_logger.setLevel(level.upper())
    if not logging.getLogger().handlers and not service_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        service_logger.addHandler(handler)
