"""The production launcher behind `python -m backend.serve` (`make run`, the Docker image), configured from the settings.

The app is imported and the weights are loaded and checked once, here, before any worker exists:
unusable weights end the process with status 1 and a log line naming the file. Then gunicorn forks
WORKERS uvicorn workers from this already-imported process (the usual FastAPI deployment: gunicorn
as the process manager, uvicorn-worker as the worker class). Forking is what keeps start-up short
(a worker imports nothing and loads nothing: NumPy and FastAPI alone take most of a second on two
cores) and it leaves one copy of the weights, shared by all workers, in memory and in the CPU's
cache: /predict reads all the weights for every digit, so that matters. gunicorn also restarts a
worker that dies (it gets the same weights, even if the files have gone since), and stops with a
non-zero status if one cannot start.

Before anything imports NumPy or prometheus-client: BLAS gets one thread per worker (the workers are
the parallelism; see main()), and with several workers PROMETHEUS_MULTIPROC_DIR points
at a fresh folder so /metrics adds up all workers (see telemetry.py). SIGTERM (docker stop, Kubernetes)
stops accepting connections and lets in-flight requests finish for up to SHUTDOWN_TIMEOUT_S seconds,
then exits 0; Ctrl-C (SIGINT) is gunicorn's quick shutdown.

What this module leaves out: the app itself (app.py). `uvicorn backend.main:app` also runs the app
(one process, no early check, per-process metrics; the app's own lifespan still refuses bad weights),
but without the worker's connection limits (protocol.py), so it is not a supported way to serve it.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import shutil
import socket
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from backend.service.settings import (
    LOG_FORMAT,
    SERVICE_NAME,
    UNUSABLE_WEIGHTS,
    Settings,
    SettingsError,
)

logger = logging.getLogger(__name__)

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
WORKER_CLASS = "backend.service.protocol.GuardedUvicornWorker"  # uvicorn_worker.UvicornWorker with limits and read timeouts


def main() -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        logger.critical("%s", err)
        return 2
    logging.getLogger().setLevel(settings.log_level.upper())

    # one BLAS thread per worker: parallelism comes from the workers. With OpenBLAS's default of one
    # thread per core, a single /predict became tens of times slower (README, performance): its
    # threads spin against each other and anything else on the cores, and the fork does not help.
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    metrics_dir = None
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="digit-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir

    try:
        # imported only now that the environment above is set: it must be in place when NumPy and
        # prometheus-client first load
        from backend.nn.weights import WeightsError
        from backend.service.app import create_app
        from backend.service.repository import ModelRepository

        app = create_app(settings)
        try:
            app.state.preloaded_models = ModelRepository.load(settings.model_dir, settings.model_name)  # see app.lifespan
            app.state.start_parse_helper = True  # each worker starts its helper process as it starts serving (offload.py)
        except WeightsError as err:
            logger.critical(UNUSABLE_WEIGHTS, err)
            return 1
        problem = port_problem(settings.host, settings.port)
        if problem:
            logger.critical("cannot serve on %s:%d: %s", settings.host, settings.port, problem)
            return 1
        # Everything made so far (FastAPI's routes, NumPy, the model: tens of thousands of objects)
        # lives as long as the process; frozen, Python's full collections stop scanning it, which
        # took milliseconds each and showed in /predict's p99 (README, performance). It also keeps
        # the workers from writing to, and so copying, the memory pages they share with this process.
        gc.collect()
        gc.freeze()
        return GunicornServer(app, gunicorn_options(settings)).run_until_stopped()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def port_problem(host: str, port: int) -> str | None:
    """Why host:port cannot be listened on (e.g. another server has it), or None.

    The workers bind their own sockets (reuse_port below), and a gunicorn worker that cannot bind
    exits in a way that makes gunicorn start another one, forever; so the address is tried here first.
    A plain bind (no SO_REUSEPORT) also refuses to share the port with an old instance of this server.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT leftovers are fine
        try:
            probe.bind((host, port))
        except OSError as err:
            return err.strerror or str(err)
    return None


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host  # an IPv6 address
    return {
        "bind": f"{host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": WORKER_CLASS,
        # each worker listens on its own SO_REUSEPORT socket and the kernel spreads new connections
        # evenly over them; on one shared socket, whichever worker wakes first accepts a whole burst
        # of keep-alive connections and the other one idles
        "reuse_port": True,
        "graceful_timeout": math.ceil(settings.shutdown_timeout_s),  # gunicorn takes whole seconds
        "keepalive": 5,  # uvicorn's own default; gunicorn's 2 s would close idle browser connections early
        "loglevel": settings.log_level,
        "accesslog": "-" if settings.access_log else None,
        "control_socket_disable": True,  # gunicorn's admin socket: not needed, and the file system may be read-only
        "proc_name": "draw-a-digit",
        "logger_class": LauncherLog,
        "child_exit": retire_worker_metrics,
        "when_ready": lambda _arbiter: logger.info(
            "serving %s at %s (%d workers; Ctrl-C stops it)", SERVICE_NAME, url_to_open(settings.host, settings.port), settings.workers
        ),
    }


def url_to_open(host: str, port: int) -> str:
    """The address a person types in a browser: an all-interfaces bind is reached at the loopback address."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def retire_worker_metrics(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook: a dead worker's metric files are folded into the archives (telemetry.py)."""
    # imported here, not at the top: prometheus-client must first load after PROMETHEUS_MULTIPROC_DIR is
    # set (main); by the time a worker exits the app has imported it anyway, so this costs nothing
    from backend.service.telemetry import retire_worker

    try:
        retire_worker(worker.pid)
    except Exception:  # an exception here would end gunicorn's main loop: the server must outlive its metrics
        logger.exception("could not fold the metrics of worker %d into the archives", worker.pid)


class LauncherLog(GunicornLogger):
    """gunicorn's log without two misleading lines (the launcher's own line names the URL instead).

    With reuse_port the workers bind their own sockets, so the manager holds none and gunicorn logs
    "Listening at:  (pid)" with no address. And on every stop each worker logs "Error while closing
    socket [Errno 9]": uvicorn's server already closed the listening socket when it stopped accepting,
    and gunicorn's wrapper then closes the same descriptor again. Nothing is wrong in either case.
    """

    QUIET = ("Listening at:", "Error while closing socket [Errno 9]")

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        text = msg % args if args else msg
        if not text.startswith(self.QUIET):
            super().info(msg, *args, **kwargs)


class GunicornServer(BaseApplication):
    """gunicorn running an app object this process has already imported (so workers are forked from it)."""

    def __init__(self, application: Any, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # a setting an older gunicorn lacks is skipped
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application

    def run_until_stopped(self) -> int:
        """Serve until stopped; gunicorn's exit status (0 after SIGTERM, 3 if a worker could not start)."""
        try:
            self.run()
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else 1
        return 0
