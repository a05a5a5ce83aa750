# The draw-a-digit service: the API and the canvas page on port 8000, with the weights baked in.
#
#   docker build -t draw-a-digit .
#   docker run --rm -p 8000:8000 --read-only --tmpfs /tmp draw-a-digit
#
# The same image trains (docker-compose.yml's `train` service runs scripts/train.py in it).
# It serves with `python -m backend.serve`, the service's launcher for `backend.main:app`: it checks the
# weights once before any worker starts (unusable weights end the container with status 1 and a log line
# naming the file), then gunicorn forks WORKERS uvicorn workers from the imported app and /metrics sums
# them. Settings come from the environment (backend/service/settings.py).
# BASE_IMAGE: the official image by default; where no registry can be pulled from, a stand-in built from
# Debian's packages (scripts/containers/build_base_images.sh; `make test-containers` passes it here).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The runtime dependencies, read from pyproject.toml, in a layer of their own: editing the code does not
# reinstall them. The code itself runs from /app (below), so it is not installed a second time.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# A user without a home or a shell: the process needs to read /app and write nothing but /tmp.
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app
# ... and the feedback database (DATA_DIR): a volume in docker-compose.yml, owned by that user
RUN mkdir -p /var/lib/draw-a-digit && chown app:app /var/lib/draw-a-digit

COPY backend/ backend/
COPY frontend/ frontend/
COPY scripts/train.py scripts/train.py
COPY model_weights/ model_weights/
# bytecode now, because the root file system is read-only at run time
RUN python -m compileall -q backend scripts

# One BLAS thread per worker: the launcher would give each worker cpu_count() / WORKERS threads, and in a
# container cpu_count() is the host's, not the CPU limit. Measured on 2 busy cores, 2 BLAS threads made
# /predict 7-24x slower than 1 (threads waiting for cores); parallelism comes from the workers instead.
# PYTHONPATH: scripts/train.py (the compose `train` service) imports the backend package from /app.
ENV HOST=0.0.0.0 \
    PYTHONPATH=/app \
    PORT=8000 \
    WORKERS=2 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 \
    DATA_DIR=/var/lib/draw-a-digit

USER 10001:10001
EXPOSE 8000

# slim has no curl: ask /health with the standard library (any error or non-200 exits non-zero)
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=2).status != 200)"]

# SIGTERM (docker stop) stops accepting connections and lets in-flight requests finish for up to
# SHUTDOWN_TIMEOUT_S seconds (10 by default; compose's stop_grace_period is longer)
CMD ["python", "-m", "backend.serve"]
