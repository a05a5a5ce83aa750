"""A throwaway PostgreSQL server for the tests: its own cluster in a temporary folder, on a free loopback port.

    with ThrowawayPostgres() as server:
        url = server.url            # postgresql://postgres@127.0.0.1:<port>/feedback
        server.stop(); server.start()   # the fault tests take the database away and bring it back

It uses Debian's `postgresql` package (initdb, pg_ctl, postgres; `scripts/ensure_postgres.sh`, run by
`make test`, installs it). PostgreSQL refuses to run as root, so as root the cluster belongs to the
`postgres` user the package creates and the commands run through `runuser`. Trust authentication on
127.0.0.1 only; fsync stays on (the durability tests rely on what a real server does).

What this module leaves out: anything about the schema (the store migrates it like any database).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from backend.testing.live_server import HOST, free_port

DATABASE = "feedback"
_databases = itertools.count()


class PostgresMissing(RuntimeError):
    """initdb/pg_ctl are not installed; the message says how to install them."""


def postgres_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl (Debian keeps them in /usr/lib/postgresql/<version>/bin)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if versions:
        return Path(versions[-1]).parent
    raise PostgresMissing("PostgreSQL is not installed: run scripts/ensure_postgres.sh (apt-get install -y postgresql)")


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="throwaway-postgres-"))
        self.data = self.root / "data"
        self.log_path = self.root / "server.log"
        self.url = f"postgresql://postgres@{HOST}:{self.port}/{DATABASE}"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-instructions", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", HOST, "-p", str(self.port), "-U", "postgres", DATABASE)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr or result.stdout}\n{self.log()}")

    def fresh_database(self) -> str:
        """A new, empty database on this server; its URL."""
        name = f"test_{next(_databases)}"
        self._run("createdb", "-h", HOST, "-p", str(self.port), "-U", "postgres", name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        # listen on loopback TCP only, the unix socket in our own folder (not /var/run/postgresql)
        options = f"-p {self.port} -c listen_addresses={HOST} -c unix_socket_directories={self.root} -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop at once, as a crash would (mode immediate: no checkpoint; the WAL replays at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
