"""The project's image run by `docker compose up --wait`, checked from outside the container.

Through the published port (loopback only): /health, the page, /predict with real MNIST test digits
answered as the same weights answer in this process. From the host's /proc and `docker inspect`: the
server's processes run as a non-root uid with no capabilities and no way to gain privileges, on a
read-only root file system. Last, `docker stop`: requests whose bodies are still arriving when SIGTERM
lands are answered, and the container exits 0 well within the grace period.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.testing.containers import Compose, DockerEngine, Images, docker
from backend.testing.live_server import descendants, free_port

PROJECT = "draw-a-digit-citest"
GRACE_S = 15  # docker-compose.yml's stop_grace_period


@pytest.fixture(scope="module")
def api(engine: DockerEngine, images: Images, timings: dict[str, float]) -> Iterator[tuple[Compose, int]]:
    port = free_port()
    compose = Compose(PROJECT, ["docker-compose.yml", "tests/containers/compose.api.yml"], {**engine.env, "API_PORT": str(port)})
    compose.down()  # whatever an interrupted run left
    try:
        started = time.monotonic()
        compose.up("api")
        timings["api up --wait"] = time.monotonic() - started
        yield compose, port
    finally:
        compose.down()


def request(port: int, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def container_id(compose: Compose) -> str:
    (found,) = compose.container_ids("api")
    return found


def inspect(env: dict[str, str], container: str) -> dict[str, Any]:
    return json.loads(docker("inspect", container, env=env).stdout)[0]


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def server_processes(compose: Compose) -> list[int]:
    """The container's init process (gunicorn's manager) and its workers, as host PIDs."""
    pid = inspect(compose.env, container_id(compose))["State"]["Pid"]
    assert pid > 0, "the api container is not running"
    return descendants(pid)


# --- from outside, through the published port ---------------------------------------------------------


def test_health_answers_200_through_the_published_loopback_port(api: tuple[Compose, int]) -> None:
    compose, port = api
    status, body = request(port, "GET", "/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"
    bindings = inspect(compose.env, container_id(compose))["HostConfig"]["PortBindings"]["8000/tcp"]
    assert [(binding["HostIp"], binding["HostPort"]) for binding in bindings] == [("127.0.0.1", str(port))]


def test_unknown_path_answers_404_not_the_page(api: tuple[Compose, int]) -> None:
    status, _ = request(api[1], "GET", "/no-such-page")
    assert status == 404


def test_page_is_served_from_the_image(api: tuple[Compose, int]) -> None:
    status, body = request(api[1], "GET", "/")
    assert status == 200
    assert b"<title>Draw a digit" in body and b'id="pad"' in body


def test_predict_recognises_real_test_digits_as_the_shipped_weights_do(api: tuple[Compose, int], mnist_data) -> None:
    network, _ = load_model(MODEL_DIR)
    digits = mnist_data.test.images[:10]
    expected = network.predict(digits)
    answered = []
    for pixels in digits:
        status, body = request(api[1], "POST", "/predict", {"pixels": pixels.tolist()})
        assert status == 200, body
        answered.append(json.loads(body)["digit"])
    assert answered == expected.tolist()
    assert answered[0] == mnist_data.test.labels[0]


def test_predict_with_a_short_pixel_list_is_a_422_naming_the_field(api: tuple[Compose, int]) -> None:
    status, body = request(api[1], "POST", "/predict", {"pixels": [0.0] * 10})
    assert status == 422
    assert "pixels" in body.decode()


# --- from the host: who the processes are and what they may do ----------------------------------------


def test_server_processes_run_as_a_non_root_user(api: tuple[Compose, int]) -> None:
    pids = server_processes(api[0])
    assert len(pids) >= 3, f"expected the manager and its workers, found {pids}"
    for pid in pids:
        real, effective, saved, filesystem = proc_status(pid)["Uid"].split()
        assert int(effective) != 0 and real == effective == saved == filesystem, f"pid {pid}: Uid {real} {effective}"


def test_server_processes_have_no_capabilities_and_cannot_gain_privileges(api: tuple[Compose, int]) -> None:
    for pid in server_processes(api[0]):
        status = proc_status(pid)
        for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[field], 16) == 0, f"pid {pid}: {field} {status[field]}"
        assert status["NoNewPrivs"] == "1", f"pid {pid}: no_new_privs is off"


def test_root_file_system_is_read_only_and_only_tmp_is_writable(api: tuple[Compose, int]) -> None:
    compose, _ = api
    container = container_id(compose)
    assert inspect(compose.env, container)["HostConfig"]["ReadonlyRootfs"] is True
    for path in ("/app/probe", "/probe", "/app/model_weights/probe"):
        result = docker("exec", container, "python", "-c", f"open({path!r}, 'w')", env=compose.env, check=False)
        assert result.returncode != 0, f"{path} was writable"
        assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr, result.stderr
    written = docker("exec", container, "python", "-c", "open('/tmp/probe', 'w').write('ok')", env=compose.env, check=False)
    assert written.returncode == 0, written.stderr


# --- docker stop: graceful ------------------------------------------------------------------------------


def started_requests(port: int, bodies: list[bytes]) -> list[tuple[socket.socket, bytes]]:
    """Open one connection per body and send its headers and the first half of it: requests in flight."""
    in_flight = []
    for body in bodies:
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        half = len(body) // 2
        connection.sendall(head.encode() + body[:half])
        in_flight.append((connection, body[half:]))
    return in_flight


def finish(connection: socket.socket, rest: bytes) -> tuple[int, dict[str, Any]]:
    """Send the rest of a started request and read its response (status, JSON body)."""
    connection.sendall(rest)
    response = http.client.HTTPResponse(connection)
    response.begin()
    return response.status, json.loads(response.read())


def test_docker_stop_answers_requests_in_flight_and_exits_0_within_the_grace_period(
    api: tuple[Compose, int], mnist_data, timings: dict[str, float]
) -> None:
    compose, port = api
    container = container_id(compose)
    digits = mnist_data.test.images[:4]
    expected = load_model(MODEL_DIR)[0].predict(digits).tolist()
    in_flight = started_requests(port, [json.dumps({"pixels": pixels.tolist()}).encode() for pixels in digits])
    time.sleep(2)  # an idle server parses headers as they arrive: these are requests it is now serving

    stopped: dict[str, Any] = {}

    def stop() -> None:
        started = time.monotonic()
        result = docker("stop", "--time", str(GRACE_S), container, env=compose.env, check=False, timeout=GRACE_S + 30)
        stopped.update(returncode=result.returncode, seconds=time.monotonic() - started, output=result.stdout + result.stderr)

    stopper = threading.Thread(target=stop)
    stopper.start()
    deadline = time.monotonic() + 10
    while "Handling signal: term" not in compose.logs("api") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Handling signal: term" in compose.logs("api"), "SIGTERM never reached gunicorn"
    assert inspect(compose.env, container)["State"]["Running"], "the container ended with requests still in flight"

    answers = [finish(connection, rest) for connection, rest in in_flight]
    stopper.join(GRACE_S + 40)
    for connection, _ in in_flight:
        connection.close()
    timings["docker stop"] = stopped["seconds"]

    assert [status for status, _ in answers] == [200] * len(digits)
    assert [body["digit"] for _, body in answers] == expected
    assert stopped["returncode"] == 0, stopped["output"]
    assert stopped["seconds"] < GRACE_S - 2, f"docker stop took {stopped['seconds']:.1f} s of the {GRACE_S} s grace period"
    state = inspect(compose.env, container)["State"]
    assert (state["Running"], state["ExitCode"], state["OOMKilled"]) == (False, 0, False), state
