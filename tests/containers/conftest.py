"""The container tests' engine and images, shared by every module in tests/containers.

The whole suite (`pytest`) leaves this folder out unless --containers is given (`make test-containers`). The session installs what is missing
(scripts/containers/ensure_docker_tools.sh), starts dockerd unless an engine already answers, and builds
the images once; each module brings its own compose project up and takes it down again (down first
as well, so a run killed half-way leaves nothing that breaks the next). dockerd is stopped by its PID
when the session ends, also after a failure, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from backend.paths import PROJECT_ROOT
from backend.testing.containers import DockerEngine, Images, docker, ensure_images

TIMINGS: dict[str, float] = {}
COUNTS: dict[str, int] = {}


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # pytest then runs the fixtures' teardown: compose down, dockerd stopped


@pytest.fixture(scope="session")
def engine() -> Iterator[DockerEngine]:
    previous = signal.signal(signal.SIGTERM, _interrupted)
    started = time.monotonic()
    subprocess.run([str(PROJECT_ROOT / "scripts" / "containers" / "ensure_docker_tools.sh")], check=True, timeout=900)
    TIMINGS["tools"] = time.monotonic() - started
    started = time.monotonic()
    try:
        with DockerEngine() as docker_engine:
            TIMINGS["engine start"] = time.monotonic() - started
            yield docker_engine
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def images(engine: DockerEngine) -> Images:
    built = ensure_images(engine.env)
    for name, seconds in built.seconds.items():
        TIMINGS[f"image {name}"] = seconds
    if engine.pid is not None:  # our own engine: drop the untagged images earlier builds left (the cache stays)
        docker("image", "prune", "--force", env=engine.env, timeout=120)
    return built


@pytest.fixture(scope="session")
def timings() -> dict[str, float]:
    """Seconds per phase (building, compose up, docker stop, ...), printed at the end of the run."""
    return TIMINGS


@pytest.fixture(scope="session")
def counts() -> dict[str, int]:
    """Numbers worth reporting besides times (requests sent, failed), printed at the end of the run."""
    return COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("container test phases (seconds)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:>40}: {seconds:6.1f}")
    for name, count in COUNTS.items():
        terminalreporter.write_line(f"{name:>40}: {count:6d}")
