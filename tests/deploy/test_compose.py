"""The deployment files: docker-compose.yml, the Dockerfile and .dockerignore, checked without a Docker engine.

`make test` needs no engine, so the compose file is parsed with PyYAML and the Dockerfile read instruction
by instruction; what can run without Docker does run: the image's command (backend.serve) with the
image's environment, the healthcheck command against a real server, and the train service's
command line against the train script's parser. The real containers are tests/containers (`make test-containers`).
"""

from __future__ import annotations

import fnmatch
import http.client
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR, PROJECT_ROOT
from backend.testing.live_server import LiveServer, free_port

# --- reading the files ---------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        pending += " " + stripped.removesuffix("\\").strip() if pending else stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    return instructions


def arguments_of(keyword: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == keyword]


def exec_form(arguments: str) -> list[str]:
    """A CMD/HEALTHCHECK command in JSON (exec) form as its argv; shell form is split like a shell would."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def dockerfile_env() -> dict[str, str]:
    """The ENV values the image sets (KEY=VALUE form)."""
    env: dict[str, str] = {}
    for arguments in arguments_of("ENV"):
        for item in shlex.split(arguments):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def mounts(service_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's volumes by container path, short ("src:dst:ro") and long syntax alike."""
    found = {}
    for volume in service_config.get("volumes", []):
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            found[target] = {"source": source, "read_only": "ro" in mode}
        else:
            found[volume["target"]] = {"source": volume.get("source"), "read_only": bool(volume.get("read_only", False))}
    return found


def healthcheck_argv(test: list[str] | str) -> list[str]:
    """A compose healthcheck `test` as argv (["CMD", ...] or ["CMD-SHELL", "..."] or a shell string)."""
    if isinstance(test, str):
        return ["sh", "-c", test]
    if test[0] == "CMD":
        return test[1:]
    assert test[0] == "CMD-SHELL", f"unexpected healthcheck form {test[0]!r}"
    return ["sh", "-c", test[1]]


def healthcheck_exit_code(argv: list[str], port: int) -> int:
    """Run a healthcheck command as the container would, with python being this interpreter and PORT set."""
    argv = [sys.executable if part == "python" else part for part in argv]
    return subprocess.run(argv, env={**os.environ, "PORT": str(port)}, capture_output=True, timeout=20).returncode


def get_json(port: int, path: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def live_server():
    with LiveServer(workers=1) as server:
        yield server


# --- docker-compose.yml: the api service --------------------------------------------------------------


def test_api_builds_this_repository_and_publishes_port_8000() -> None:
    api = service("api")
    build = api["build"]
    assert (build if isinstance(build, str) else build["context"]) == "."
    assert "8000:8000" in [str(port) for port in api["ports"]]
    assert api["environment"]["HOST"] == "0.0.0.0"
    assert str(api["environment"]["PORT"]) == "8000"


def test_api_starts_without_a_profile_and_restarts_on_failure() -> None:
    api = service("api")
    assert "profiles" not in api, "`docker compose up` must start the api"
    assert api["restart"] in ("always", "unless-stopped", "on-failure")


def test_api_root_file_system_is_read_only_with_a_tmpfs_for_the_metrics_files() -> None:
    api = service("api")
    assert api["read_only"] is True
    assert "/tmp" in api["tmpfs"]


def test_api_stop_grace_period_outlasts_the_graceful_shutdown_timeout() -> None:
    api = service("api")
    grace = api["stop_grace_period"]
    grace_s = int(re.fullmatch(r"(\d+)s", grace).group(1))
    shutdown_timeout = api["environment"]["SHUTDOWN_TIMEOUT_S"]
    default = re.fullmatch(r"\$\{SHUTDOWN_TIMEOUT_S:-(\d+)\}", str(shutdown_timeout))
    assert grace_s > float(default.group(1) if default else shutdown_timeout)


def test_api_settings_are_ones_the_service_reads() -> None:
    from backend.service.settings import Settings

    names = {name.upper() for name in Settings.model_fields}
    unknown = set(service("api")["environment"]) - names
    assert not unknown, f"the service has no setting named {sorted(unknown)}"


def test_api_healthcheck_asks_health_often_enough() -> None:
    check = service("api")["healthcheck"]
    assert "/health" in " ".join(healthcheck_argv(check["test"]))
    assert check["retries"] >= 1
    for key in ("interval", "timeout"):
        assert re.fullmatch(r"\d+s", check[key]), f"{key}: {check[key]!r}"


def test_api_healthcheck_passes_on_a_running_server_and_fails_without_one(live_server: LiveServer) -> None:
    argv = healthcheck_argv(service("api")["healthcheck"]["test"])
    assert healthcheck_exit_code(argv, live_server.port) == 0
    assert healthcheck_exit_code(argv, free_port()) != 0


# --- docker-compose.yml: the train service ------------------------------------------------------------


def test_train_service_runs_only_under_the_train_profile() -> None:
    assert service("train")["profiles"] == ["train"]


def test_train_service_reads_mnist_from_a_read_only_mount_and_writes_weights_to_another() -> None:
    train = service("train")
    assert train["environment"]["MNIST_DIR"] == "/data"
    volumes = mounts(train)
    assert volumes["/data"]["read_only"] is True
    assert volumes["/weights"]["read_only"] is False


def test_train_service_command_is_one_the_train_script_accepts() -> None:
    command = service("train")["command"]
    argv = command if isinstance(command, list) else shlex.split(command)
    assert argv[:2] == ["python", "scripts/train.py"]
    spec = importlib.util.spec_from_file_location("train_script", PROJECT_ROOT / "scripts" / "train.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    args = train.parse_args(argv[2:])
    assert args.out == Path("/weights")
    assert args.data_dir is None, "the script must read MNIST_DIR"


# --- the Dockerfile --------------------------------------------------------------------------------------


def test_image_is_slim_python_3_11() -> None:
    """FROM ${BASE_IMAGE}, whose default (an ARG before FROM) is the official slim Python 3.11."""
    (base,) = arguments_of("FROM")
    defaults = dict(argument.split("=", 1) for argument in arguments_of("ARG") if "=" in argument)
    match = re.fullmatch(r"\$\{?(\w+)\}?", base)
    if match:
        base = defaults[match.group(1)]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", base), base


def test_image_base_is_an_argument_set_before_from() -> None:
    """The container test builds on a locally made base where the official one cannot be pulled."""
    instructions = [keyword for keyword, _ in dockerfile()]
    assert instructions[:2] == ["ARG", "FROM"]
    assert arguments_of("FROM") == ["${BASE_IMAGE}"]
    assert arguments_of("ARG")[0].startswith("BASE_IMAGE=")


def test_image_runs_as_a_non_root_user() -> None:
    instructions = [keyword for keyword, _ in dockerfile()]
    users = arguments_of("USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert instructions.index("USER") < instructions.index("CMD")


def test_image_exposes_port_8000() -> None:
    assert "8000" in " ".join(arguments_of("EXPOSE")).split()


def test_image_healthcheck_passes_on_a_running_server_and_fails_without_one(live_server: LiveServer) -> None:
    (healthcheck,) = arguments_of("HEALTHCHECK")
    command = healthcheck.split("CMD", 1)[1].strip()
    argv = exec_form(command)
    assert "/health" in " ".join(argv)
    assert healthcheck_exit_code(argv, live_server.port) == 0
    assert healthcheck_exit_code(argv, free_port()) != 0


def test_image_listens_on_all_interfaces_at_port_8000_with_several_workers() -> None:
    env = dockerfile_env()
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "8000")
    assert int(env["WORKERS"]) >= 2


def test_image_command_serves_the_app_with_the_images_environment() -> None:
    """Run the image's CMD as a process with the image's ENV (on loopback and a free port instead of 0.0.0.0:8000)."""
    (cmd,) = arguments_of("CMD")
    argv = [sys.executable if part == "python" else part for part in exec_form(cmd)]
    env = {name: value for name, value in dockerfile_env().items() if name not in ("HOST", "PORT")}
    workers = int(env["WORKERS"])
    with LiveServer(workers=workers, env=env, command=argv) as server:
        status, card = get_json(server.port, "/model")
        server.wait_for_workers(workers)  # raises unless a manager and `workers` workers show up
    assert status == 200
    assert card["model_id"] == load_model(MODEL_DIR)[1]["model_id"]


def test_image_keeps_the_repository_layout_under_its_workdir() -> None:
    """Settings default to PROJECT_ROOT/model_weights and /frontend: each COPY must land at its own path."""
    (workdir,) = arguments_of("WORKDIR")
    for arguments in arguments_of("COPY"):
        *sources, destination = shlex.split(arguments)
        for source in sources:
            assert (PROJECT_ROOT / source).exists(), f"COPY {source}: not in the repository"
            target = Path(workdir) / destination
            if (PROJECT_ROOT / source).is_file() and destination.endswith("/"):  # a file copied into a folder
                target = target / Path(source).name
            assert target.as_posix().rstrip("/") == (Path(workdir) / source).as_posix().rstrip("/"), f"COPY {source} -> {target}"


def test_dockerignore_keeps_what_the_image_copies_and_drops_local_state() -> None:
    patterns = [
        line.strip().rstrip("/")
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") for pattern in patterns)

    for arguments in arguments_of("COPY"):
        for source in shlex.split(arguments)[:-1]:
            assert not ignored(source.rstrip("/")), f"{source} is copied by the Dockerfile but excluded from the context"
    for local in (".git", ".venv", ".runs", ".data", "tests"):
        assert ignored(local), f"{local} would be sent to the Docker daemon"


def test_image_gives_each_worker_one_blas_thread() -> None:
    """backend.serve only sets BLAS threads that are unset; in a container it would divide the host's cores."""
    env = dockerfile_env()
    assert [env.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")] == ["1", "1", "1"]
