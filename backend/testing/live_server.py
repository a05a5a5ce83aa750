"""The real server in a subprocess on a free loopback port: for the soak and serving benchmarks, the
process-level tests, the page's browser tests and the README's screenshots.

`LiveServer.start()` runs `python -m backend.serve` (what the container and `make run` run:
gunicorn forking uvicorn workers that serve `backend.main:app`, the weights checked first) with
HOST=127.0.0.1, a free PORT and the given settings as environment variables, then waits until
GET /health answers 200 and records how long that took; if the process exits first or never answers,
ServerDidNotStart carries its log. `launch()` alone starts it without waiting, for a server that
must refuse to start (`exit_code()`). It reads the resident memory and CPU time of the server and all
its descendants (the workers) from /proc, and stops the server with SIGTERM as docker does.

What this module leaves out: sending load (the scripts do that) and anything beyond loopback.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backend.paths import PROJECT_ROOT

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def get_status(port: int, path: str = "/health", timeout: float = 2.0) -> int | None:
    """Status of GET path on the loopback port, or None if nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def descendants(pid: int) -> list[int]:
    """pid and every process below it, found through the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # the command name (field 2) may hold spaces and parentheses: the parent id follows the last ")"
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def rss_kib(pid: int) -> int:
    """Resident memory (VmRSS, KiB) of pid and its descendants together."""
    total = 0
    for process in descendants(pid):
        try:
            for line in Path(f"/proc/{process}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


def cpu_seconds_by_process(pid: int) -> dict[int, float]:
    """User + system CPU time used so far by pid and each of its descendants (from /proc/*/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for process in descendants(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[process] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
    return used


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by pid and its descendants together."""
    return sum(cpu_seconds_by_process(pid).values())


class ServerDidNotStart(RuntimeError):
    """The server exited, or did not answer /health in time; the message holds its log."""


class LiveServer:
    """`python -m backend.serve` (or `command`) on 127.0.0.1:<port>; its stdout and stderr go to a log file."""

    def __init__(
        self,
        workers: int = 2,
        model_dir: Path | None = None,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        port: int | None = None,
        log_dir: Path | None = None,
        own_process_group: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        self.env.update({"HOST": HOST, "PORT": str(self.port), "WORKERS": str(workers), **(env or {})})
        if model_dir is not None:
            self.env["MODEL_DIR"] = str(model_dir)
        self._log = tempfile.NamedTemporaryFile(prefix="live-server-", suffix=".log", delete=False, dir=log_dir)
        self.log_path = Path(self._log.name)
        # another launcher, e.g. plain uvicorn (HOST and PORT are then only in the environment: pass them on)
        self.command = command or [sys.executable, "-m", "backend.serve"]
        # a process group of its own, as a terminal gives a foreground job: os.killpg(server.pid, ...) then
        # signals every process of the server at once, as Ctrl-C does
        self.own_process_group = own_process_group
        self.process: subprocess.Popen[bytes] | None = None
        self._launched = 0.0
        self.startup_s: float | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "launch() or start() the server first"
        return self.process.pid

    def launch(self) -> LiveServer:
        """Start the process; do not wait for it."""
        self._launched = time.perf_counter()
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=self.own_process_group,
        )
        return self

    def wait_ready(self, timeout_s: float = 60.0) -> float:
        """Seconds from launch until GET /health answered 200; ServerDidNotStart if it exits or times out first."""
        assert self.process is not None, "launch() the server first"
        deadline = self._launched + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise ServerDidNotStart(f"the server exited with status {self.process.returncode} before it was ready:\n{self.log()}")
            if get_status(self.port, timeout=0.5) == 200:
                self.startup_s = time.perf_counter() - self._launched
                return self.startup_s
            time.sleep(0.01)
        raise ServerDidNotStart(f"the server did not answer /health within {timeout_s} s:\n{self.log()}")

    def start(self, ready_timeout_s: float = 60.0) -> LiveServer:
        """launch() and wait_ready(); a server that does not get ready is stopped before the error is raised."""
        self.launch()
        try:
            self.wait_ready(ready_timeout_s)
        except ServerDidNotStart:
            self.stop()
            raise
        return self

    def exit_code(self, timeout_s: float = 30.0) -> int:
        """For a server expected to refuse to start: wait for its exit and return the status."""
        assert self.process is not None, "launch() the server first"
        try:
            return self.process.wait(timeout_s)
        finally:
            self.stop()

    def wait_for_workers(self, workers: int, timeout_s: float = 20.0) -> list[int]:
        """The manager and its `workers` worker processes, once all exist (the first may answer before the last starts)."""
        deadline = time.perf_counter() + timeout_s
        while len(processes := descendants(self.pid)) < workers + 1:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {len(processes)} server processes after {timeout_s} s, expected {workers + 1}")
            time.sleep(0.02)
        return processes

    def wait_until_quiet(self, quiet_s: float = 0.5, timeout_s: float = 60.0) -> None:
        """Wait until no server process starts and the server burns under 5% of a core for quiet_s: the
        workers' parsing helpers (offload.py) start after the workers serve, and an RSS or latency
        measured before they are up counts their start."""
        deadline = time.perf_counter() + timeout_s
        before = (len(descendants(self.pid)), self.cpu_seconds())
        while time.perf_counter() < deadline:
            time.sleep(quiet_s)
            now = (len(descendants(self.pid)), self.cpu_seconds())
            if now[0] == before[0] and now[1] - before[1] < 0.05 * quiet_s:
                return
            before = now
        raise RuntimeError(f"the server was still busy starting after {timeout_s} s")

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def cpu_seconds_by_process(self) -> dict[int, float]:
        return cpu_seconds_by_process(self.pid)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM, wait for the exit (SIGKILL after timeout_s); returns the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                for process in reversed(descendants(self.process.pid)):  # the workers too, not just the supervisor
                    try:
                        os.kill(process, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def __enter__(self) -> LiveServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)
