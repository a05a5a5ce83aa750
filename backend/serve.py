"""`python -m backend.serve`: start the service with uvicorn, configured from the settings (what `make run` does).

Before any worker starts, the weights are loaded and checked once here: unusable weights end the
process with status 1 and a log line naming the file, instead of uvicorn restarting workers that
cannot start. Then, for several workers, PROMETHEUS_MULTIPROC_DIR is pointed at a fresh folder so
/metrics sums all workers (see metrics.py), and each worker's BLAS gets cores / workers threads so
the workers do not fight over the cores. SIGTERM or Ctrl-C stops accepting connections and lets
in-flight requests finish for up to SHUTDOWN_TIMEOUT_S seconds (uvicorn's graceful shutdown).

What this module leaves out: the app itself (main.py). `uvicorn backend.main:app` works as well,
without the early weights check and with per-worker metrics.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile

logger = logging.getLogger("backend.serve")

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> int:
    from backend.settings import Settings, SettingsError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        logger.critical("%s", err)
        return 2
    logging.getLogger().setLevel(settings.log_level.upper())

    # must be set before NumPy first loads OpenBLAS, in this process and (inherited) in the workers
    blas_threads = str(max(1, (os.cpu_count() or 1) // settings.workers))
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, blas_threads)

    from backend.inference import load_served_model
    from backend.nn.weights import WeightsError

    try:
        load_served_model(settings.model_dir)
    except WeightsError as err:
        logger.critical("cannot serve, the weights are unusable: %s", err)
        return 1

    metrics_dir = None
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="digit-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        import uvicorn

        uvicorn.run(
            "backend.main:app",
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            timeout_graceful_shutdown=settings.shutdown_timeout_s,
            access_log=settings.access_log,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
