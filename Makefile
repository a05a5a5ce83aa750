# Two commands on a fresh machine: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# the shared MNIST copy beside the repo, when there is one; otherwise the loader's own cache/download
MNIST_DIR ?= $(if $(wildcard ../shared/datasets/mnist),$(abspath ../shared/datasets/mnist),)
export MNIST_DIR

.PHONY: install dev browser postgres fonts run test test-containers lint format train evaluate bench-train bench-serve soak

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed
browser:
	scripts/ensure_browser_tools.sh
postgres:
	scripts/ensure_postgres.sh

fonts:
	scripts/ensure_fonts.sh

run: install
	HOST=$(HOST) PORT=$(PORT) $(PY) -m backend.serve

# style first (seconds), then every test; CI runs this target
test: dev browser postgres fonts lint
	$(PY) -m pytest

# real containers (tests/containers): installs Docker and Compose v2 if missing, starts dockerd unless one
# runs (stopped again at the end), builds the images, then compose up / checks / down; CI runs it after `test`
test-containers: dev
	$(PY) -m pytest tests/containers --containers

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

train: install
	$(PY) scripts/train.py

evaluate: install
	$(PY) scripts/evaluate.py --json

# benchmarks (numbers in the README); bench-train installs PyTorch 2.13.0 (CPU) for the comparison only
bench-train: install
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) scripts/bench_train.py --repeats 3

bench-serve: install
	@command -v wrk >/dev/null || { echo "bench-serve needs wrk: apt-get install -y wrk" >&2; exit 2; }
	$(PY) scripts/bench_serve.py

soak: dev
	$(PY) scripts/soak.py
