"""Docker for the container tests (tests/containers, `make test-containers`): an engine, images, compose.

`DockerEngine` gives the tests a Docker engine and takes it away again. It uses one that already
answers (DOCKER_HOST, or the default socket) and leaves it running; otherwise it starts Debian's
`dockerd` itself on a socket, exec root and data root of its own (the data root persists, so images
built by one run are reused by the next) and stops that process by its PID when the block ends, even
when a test failed. A file lock makes concurrent runs on one machine wait for each other instead of
sharing one engine's project names.

`docker()` runs the CLI with a timeout (nothing in CI may hang), `Compose` runs `docker compose` for
one project with its files and environment, and `ensure_images()` builds the base images (from
Debian's packages when the official ones are not present), the project's image, the proxy's and the database's.

What this module leaves out: installing Docker (scripts/containers/ensure_docker_tools.sh does) and
the checks themselves (tests/containers).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backend.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

STATE_DIR = Path(os.environ.get("CONTAINER_TEST_STATE_DIR", "/var/lib/draw-a-digit-docker"))
RUN_DIR = Path(os.environ.get("CONTAINER_TEST_RUN_DIR", "/run/draw-a-digit-docker"))

# the official images the Dockerfiles default to, and the stand-ins built from Debian's packages
OFFICIAL_PYTHON = "python:3.11-slim-bookworm"
OFFICIAL_DEBIAN = "debian:bookworm-slim"
LOCAL_PYTHON = "draw-a-digit-base/python:3.11-slim-bookworm"
LOCAL_DEBIAN = "draw-a-digit-base/debian:bookworm-slim"
API_IMAGE = "draw-a-digit:latest"
PROXY_IMAGE = "draw-a-digit-proxy:latest"
POSTGRES_IMAGE = "draw-a-digit-postgres:latest"


class DockerError(RuntimeError):
    """A docker command failed or timed out; the message carries its command line and output."""


def docker(
    *args: str, env: dict[str, str], timeout: float = 120, check: bool = True, input: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `docker ARGS` in the repository root; raise DockerError on a non-zero exit (if check) or a timeout."""
    command = ["docker", *args]
    try:
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=input is None, input=input, timeout=timeout)
    except subprocess.TimeoutExpired as timed_out:
        raise DockerError(
            f"{' '.join(command)}: no answer within {timeout:.0f} s\n{_text(timed_out.stdout)}{_text(timed_out.stderr)}"
        ) from None
    if check and result.returncode != 0:
        raise DockerError(f"{' '.join(command)}: exit {result.returncode}\n{_text(result.stdout)}{_text(result.stderr)}")
    return result


def _text(output: str | bytes | None) -> str:
    if output is None:
        return ""
    return output if isinstance(output, str) else output.decode(errors="replace")


class DockerEngine:
    """A Docker engine for the duration of a `with` block: an existing one, or a dockerd started (and stopped) here.

    `env` is os.environ with DOCKER_HOST pointing at the engine: pass it to every docker command.
    """

    def __init__(self, state_dir: Path = STATE_DIR, run_dir: Path = RUN_DIR, lock_timeout_s: float = 1200) -> None:
        self.state_dir = state_dir
        self.run_dir = run_dir
        self.socket = run_dir / "docker.sock"
        self.pidfile = run_dir / "dockerd.pid"
        self.lock_timeout_s = lock_timeout_s
        self.env: dict[str, str] = dict(os.environ)
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # the dockerd this object started (or adopted) and must stop
        self._lock_file = None

    def __enter__(self) -> DockerEngine:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.stop()
        finally:
            if self._lock_file is not None:
                self._lock_file.close()  # releases the flock
                self._lock_file = None

    # --- the engine ---------------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._answers(dict(os.environ)):  # DOCKER_HOST or the default socket: someone else's engine
            log.info("using the running Docker engine")
            return
        private = {**os.environ, "DOCKER_HOST": f"unix://{self.socket}"}
        leftover = self._leftover_pid()
        if leftover is not None:  # a run that was killed before it could stop its dockerd; we hold the lock
            if self._answers(private):
                log.info("adopting dockerd %d left by an earlier run", leftover)
                self.pid, self.env = leftover, private
                return
            self._terminate(leftover)
        self.pidfile.unlink(missing_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.run_dir / "dockerd.log"
        with log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [
                    "dockerd",
                    "--host",
                    f"unix://{self.socket}",
                    "--data-root",
                    str(self.state_dir),
                    "--exec-root",
                    str(self.run_dir / "exec"),
                    "--pidfile",
                    str(self.pidfile),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C to the test run reaches pytest, which stops dockerd in order
            )
        self.pid, self.env = self.process.pid, private
        deadline = time.monotonic() + 60
        while not self._answers(private):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise DockerError(f"dockerd did not start (exit {self.process.poll()}):\n{tail}")
            time.sleep(0.5)
        log.info("started dockerd %d on %s", self.pid, self.socket)

    def stop(self) -> None:
        """Stop the dockerd started or adopted here (SIGTERM: it stops its containers and containerd), then SIGKILL."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        self._terminate(pid)
        if self.process is not None:
            self.process.wait(timeout=5)
            self.process = None
        log.info("stopped dockerd %d", pid)

    def _terminate(self, pid: int, grace_s: float = 45) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.pid == pid:
                if self.process.poll() is not None:
                    return
            elif not Path(f"/proc/{pid}").exists():
                return
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)

    def _leftover_pid(self) -> int | None:
        """The PID in our pidfile, if that process is still a dockerd on our socket."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if Path(cmdline[0].decode()).name == "dockerd" and str(self.socket).encode() in b" ".join(cmdline) else None

    @staticmethod
    def _answers(env: dict[str, str]) -> bool:
        try:
            return subprocess.run(["docker", "version"], env=env, capture_output=True, timeout=15).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def _lock(self) -> None:
        self._lock_file = (self.run_dir / "lock").open("w")
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DockerError(f"another container test run held {self.run_dir / 'lock'} for {self.lock_timeout_s:.0f} s") from None
                time.sleep(1)


# --- images -------------------------------------------------------------------------------------------------


def image_exists(name: str, env: dict[str, str]) -> bool:
    return docker("image", "inspect", name, env=env, check=False, timeout=30).returncode == 0


@dataclass
class Images:
    """The images a run built or found: the project's, the proxy's, the database's and the bases they were built from."""

    api: str = API_IMAGE
    proxy: str = PROXY_IMAGE
    postgres: str = POSTGRES_IMAGE
    python_base: str = OFFICIAL_PYTHON
    debian_base: str = OFFICIAL_DEBIAN
    seconds: dict[str, float] = field(default_factory=dict)


def ensure_images(env: dict[str, str], proxy: bool = True) -> Images:
    """Build the project's image (and the proxy's and the database's) on the official bases if present, else on local stand-ins.

    The bases are kept between runs (built once per engine); the project's image is rebuilt every run,
    with Docker's layer cache, so a change to the code is always what gets tested.
    """
    images = Images()
    started = time.monotonic()
    if not (image_exists(OFFICIAL_PYTHON, env) and image_exists(OFFICIAL_DEBIAN, env)):
        images.python_base, images.debian_base = LOCAL_PYTHON, LOCAL_DEBIAN
        result = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "containers" / "build_base_images.sh")],
            env={**env, "PYTHON_IMAGE": LOCAL_PYTHON, "DEBIAN_IMAGE": LOCAL_DEBIAN},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise DockerError(f"build_base_images.sh: exit {result.returncode}\n{result.stdout}{result.stderr}")
    images.seconds["bases"] = time.monotonic() - started
    # the classic builder: BuildKit needs the buildx plugin, which Debian 12 does not package
    build_env = {**env, "DOCKER_BUILDKIT": "0"}
    started = time.monotonic()
    docker("build", "-q", "--build-arg", f"BASE_IMAGE={images.python_base}", "-t", images.api, ".", env=build_env, timeout=900)
    images.seconds["api"] = time.monotonic() - started
    if proxy:
        started = time.monotonic()
        docker(
            "build", "-q", "--build-arg", f"BASE_IMAGE={images.debian_base}", "-t", images.proxy, "deploy/nginx", env=build_env, timeout=600
        )
        images.seconds["proxy"] = time.monotonic() - started
        started = time.monotonic()
        docker(
            "build",
            "-q",
            "--build-arg",
            f"BASE_IMAGE={images.debian_base}",
            "-t",
            images.postgres,
            "deploy/postgres",
            env=build_env,
            timeout=600,
        )
        images.seconds["postgres"] = time.monotonic() - started
    return images


# --- compose ------------------------------------------------------------------------------------------------


@dataclass
class Compose:
    """`docker compose` for one project: its name, its files (relative to the repository) and its variables."""

    project: str
    files: Sequence[str]
    env: dict[str, str]

    def __call__(self, *args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess[str]:
        files = [part for name in self.files for part in ("-f", name)]
        return docker("compose", "-p", self.project, *files, *args, env=self.env, timeout=timeout, check=check)

    def up(self, *services: str, timeout: float = 180) -> None:
        """Start the services and wait until each is healthy (or running, without a healthcheck)."""
        try:
            self("up", "--detach", "--no-build", "--wait", *services, timeout=timeout)
        except DockerError as failed:
            raise DockerError(f"{failed}\n--- logs ---\n{self.logs()}") from None

    def down(self) -> None:
        """Remove the project's containers, networks and anonymous volumes; no error if there are none."""
        self("down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=120, check=False)

    def logs(self, *services: str) -> str:
        result = self("logs", "--no-color", "--tail", "60", *services, timeout=60, check=False)
        return result.stdout + result.stderr

    def container_ids(self, service: str) -> list[str]:
        return self("ps", "--quiet", service, timeout=60).stdout.split()
