"""Scale-out: 3 api replicas behind nginx (docker-compose.scale.yml), one of them killed under load.

The proxy (Debian's nginx, deploy/nginx) publishes one loopback port; its access log names the replica
that answered each request. Load is bounded: a few client threads, each sending one real /predict
after another over a kept-alive connection through the proxy, for a fixed span. Meanwhile one replica's
server process is SIGKILLed from the host, as a crash would end it: no request may fail (those that were
on the dead replica are retried on another, deploy/nginx/nginx.conf), docker's restart policy brings
it back, it turns healthy, and the proxy sends it requests again.

The replicas share one PostgreSQL (deploy/postgres): corrections sent through the proxy land on every
replica in turn, and each replica's GET /feedback/stats counts all of them.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from backend.nn.shapes import N_INPUTS
from backend.testing.containers import Compose, DockerEngine, Images, docker
from backend.testing.live_server import descendants, free_port

T = TypeVar("T")

PROJECT = "draw-a-digit-citest-scale"
FILES = ["docker-compose.yml", "docker-compose.scale.yml", "tests/containers/compose.scale.yml"]
REPLICAS = 3
CLIENTS = 4
HEALTHY_WITHIN_S = 60
CORRECTIONS = 30  # at least; more until every replica has stored one


@pytest.fixture(scope="module")
def scaled(engine: DockerEngine, images: Images, timings: dict[str, float]) -> Iterator[tuple[Compose, int]]:
    port = free_port()
    password = secrets.token_hex(16)  # URL-safe: it goes into the replicas' DATABASE_URL as it is
    compose = Compose(PROJECT, FILES, {**engine.env, "PROXY_PORT": str(port), "API_REPLICAS": str(REPLICAS), "POSTGRES_PASSWORD": password})
    compose.down()
    try:
        started = time.monotonic()
        compose.up(timeout=240)
        timings["scale-out up --wait"] = time.monotonic() - started
        yield compose, port
    finally:
        compose.down()


def inspect(env: dict[str, str], container: str) -> dict[str, Any]:
    return json.loads(docker("inspect", container, env=env).stdout)[0]


def address(env: dict[str, str], container: str) -> str:
    (network,) = inspect(env, container)["NetworkSettings"]["Networks"].values()
    return network["IPAddress"]


def tried(compose: Compose, since: str) -> list[list[str]]:
    """Per request the proxy logged since a timestamp: the replica addresses it tried, in order."""
    logs = compose("logs", "--no-color", "--no-log-prefix", "--since", since, "proxy", timeout=60).stdout
    return [[part.strip().rsplit(":", 1)[0] for part in field.split(",")] for field in re.findall(r"upstream=([^\n]+)", logs)]


def answered_by(compose: Compose, since: str) -> list[str]:
    """The replica that answered each request the proxy logged since a timestamp (the last one tried)."""
    return [addresses[-1] for addresses in tried(compose, since)]


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def send(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    """One request through the proxy: the status and the JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body is not None else {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def docker_now(env: dict[str, str]) -> str:
    """The engine's clock (RFC 3339), for `logs --since`: the host's and the engine's may differ."""
    return docker("info", "--format", "{{.SystemTime}}", env=env).stdout.strip()


def wait_restarted_and_healthy(env: dict[str, str], container: str, restarts_before: int, timeout_s: float) -> dict[str, Any]:
    """The container's state once docker has restarted it and its healthcheck passes again (or at the deadline)."""
    deadline = time.monotonic() + timeout_s
    while True:
        details = inspect(env, container)
        restarted = details["RestartCount"] > restarts_before
        if restarted and details["State"].get("Health", {}).get("Status") == "healthy" or time.monotonic() > deadline:
            return details
        time.sleep(0.5)


@dataclass
class Outcome:
    started: float
    ended: float
    status: int | None
    error: str | None = None


def predict_loop(port: int, body: bytes, stop: threading.Event, outcomes: list[Outcome]) -> None:
    """One client: /predict after /predict over a kept-alive connection until told to stop; every outcome recorded."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        started = time.monotonic()
        try:
            connection.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            reply = response.read()
            digit = json.loads(reply).get("digit") if response.status == 200 else None
            outcomes.append(Outcome(started, time.monotonic(), response.status, None if digit is not None else reply[:200].decode()))
        except (OSError, http.client.HTTPException, ValueError) as failed:
            outcomes.append(Outcome(started, time.monotonic(), None, repr(failed)))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()


def test_three_replicas_serve_behind_the_proxy_in_turn(scaled: tuple[Compose, int]) -> None:
    compose, port = scaled
    replicas = compose.container_ids("api")
    assert len(replicas) == REPLICAS
    assert {inspect(compose.env, replica)["State"]["Health"]["Status"] for replica in replicas} == {"healthy"}
    answers = through_every_replica(compose, lambda _: get(port, "/health"), at_least=4 * REPLICAS, at_most=20 * REPLICAS)
    assert [status for status, _ in answers] == [200] * len(answers)


def test_proxy_passes_a_replica_404_through_and_does_not_retry_it(scaled: tuple[Compose, int]) -> None:
    compose, port = scaled
    since = docker_now(compose.env)
    assert get(port, "/no-such-page") == 404
    time.sleep(1)
    (addresses,) = tried(compose, since)
    assert len(addresses) == 1, f"a 404 was retried on {addresses}"


def through_every_replica(compose: Compose, request: Callable[[int], T], at_least: int, at_most: int) -> list[tuple[T, str]]:
    """request(0), request(1), ... through the proxy, at least `at_least` calls, until every replica has answered one.

    Returns each call's result with the address of the replica that answered it (the proxy's log). A fixed
    number of calls need not reach every replica (12 once reached 2 of 3): each nginx worker process
    balances on its own, over the addresses it resolves again every 2 s. Fails past `at_most` calls.
    """
    replicas = {address(compose.env, replica) for replica in compose.container_ids("api")}
    since = docker_now(compose.env)
    results: list[T] = []
    while True:
        results.append(request(len(results)))
        if len(results) < at_least or len(results) % REPLICAS and len(results) < at_most:
            continue
        deadline = time.monotonic() + 10
        while len(answered := answered_by(compose, since)) < len(results) and time.monotonic() < deadline:
            time.sleep(0.5)  # the proxy's log reaches docker's log
        assert len(answered) == len(results), f"the proxy logged {len(answered)} requests, not {len(results)}: retried or lost"
        if set(answered) == replicas or len(results) >= at_most:
            break
    assert set(answered) == replicas, f"{len(results)} requests reached only {set(answered)}, not every replica {replicas}"
    return list(zip(results, answered))


def totals_from_every_replica(compose: Compose, port: int) -> dict[str, set[int]]:
    """GET /feedback/stats through the proxy until every replica has answered: the totals each replica gave."""

    def total(_: int) -> int:
        status, stats = send(port, "GET", "/feedback/stats")
        assert status == 200, stats
        return stats["total"]

    answers = through_every_replica(compose, total, at_least=2 * REPLICAS, at_most=20 * REPLICAS)
    return {replica: {total for total, by in answers if by == replica} for _, replica in answers}


def rows_in_postgres(compose: Compose) -> int:
    """The feedback table's row count, asked of the postgres service itself (as its superuser, over the local socket)."""
    query = ("exec", "-T", "--user", "postgres", "postgres", "psql", "--dbname=feedback", "--no-align", "--tuples-only")
    return int(compose(*query, "--command=SELECT count(*) FROM feedback", timeout=60).stdout.strip())


def test_every_replica_writes_corrections_to_the_one_database(scaled: tuple[Compose, int], mnist_data) -> None:
    compose, port = scaled
    (before,) = set.union(*totals_from_every_replica(compose, port).values())
    assert rows_in_postgres(compose) == before

    def correct(index: int) -> int:
        label = int(mnist_data.test.labels[index])
        body = {"pixels": mnist_data.test.images[index].tolist(), "label": label, "predicted": (label + 1) % 10}
        status, created = send(port, "POST", "/feedback", json.dumps(body).encode())
        assert status == 201, created
        return created["id"]

    ids = [row_id for row_id, _ in through_every_replica(compose, correct, at_least=CORRECTIONS, at_most=3 * CORRECTIONS)]
    assert len(set(ids)) == len(ids), f"row ids repeat across replicas: {ids}"  # one sequence: one database
    sent = len(ids)

    for replica, totals in totals_from_every_replica(compose, port).items():
        assert totals == {before + sent}, f"replica {replica} counts {totals}, not {before} + {sent}"
    # in PostgreSQL, not in a SQLite file the replicas could share through the compose volume
    assert rows_in_postgres(compose) == before + sent
    status, stats = send(port, "GET", "/feedback/stats")
    assert status == 200, stats
    assert stats["model_right"] == 0.0  # every correction above says the model was wrong


def test_postgres_runs_as_the_postgres_user_without_capabilities(scaled: tuple[Compose, int]) -> None:
    compose, _ = scaled
    (container,) = compose.container_ids("postgres")
    postgres_uid = int(compose("exec", "-T", "postgres", "id", "-u", "postgres", timeout=60).stdout)
    pids = descendants(inspect(compose.env, container)["State"]["Pid"])
    assert len(pids) >= 3, f"expected the postmaster and its background processes, found {pids}"
    for pid in pids:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        status = {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}
        assert status["Uid"].split() == [str(postgres_uid)] * 4, f"pid {pid}: Uid {status['Uid']}, not postgres ({postgres_uid})"
        for field in ("CapPrm", "CapEff", "CapAmb"):
            assert int(status[field], 16) == 0, f"pid {pid}: {field} {status[field]}"
        assert status["NoNewPrivs"] == "1", f"pid {pid}: no_new_privs is off"


def test_a_bad_correction_through_the_proxy_is_refused_and_stored_nowhere(scaled: tuple[Compose, int]) -> None:
    compose, port = scaled
    (before,) = set.union(*totals_from_every_replica(compose, port).values())
    wrong_label = {"pixels": [0.5] * N_INPUTS, "label": 10, "predicted": 1}
    too_few_pixels = {"pixels": [0.5] * 10, "label": 1, "predicted": 1}
    for body, field in ((wrong_label, "label"), (too_few_pixels, "pixels")):
        status, refused = send(port, "POST", "/feedback", json.dumps(body).encode())
        assert status == 422, refused
        assert refused["detail"][0]["loc"] == ["body", field], refused
    for replica, totals in totals_from_every_replica(compose, port).items():
        assert totals == {before}, f"replica {replica} counts {totals} after refused corrections, not {before}"


def test_killing_a_replica_under_load_fails_no_request_and_it_comes_back_healthy(
    scaled: tuple[Compose, int], mnist_data, timings: dict[str, float], counts: dict[str, int]
) -> None:
    compose, port = scaled
    victim = compose.container_ids("api")[0]
    restarts_before = inspect(compose.env, victim)["RestartCount"]
    body = json.dumps({"pixels": mnist_data.test.images[0].tolist()}).encode()
    stop, outcomes = threading.Event(), []
    clients = [threading.Thread(target=predict_loop, args=(port, body, stop, outcomes)) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        time.sleep(2)
        pid = inspect(compose.env, victim)["State"]["Pid"]
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)  # the replica's server process dies as in a crash; its container exits 137
        details = wait_restarted_and_healthy(compose.env, victim, restarts_before, HEALTHY_WITHIN_S)
        timings["killed replica healthy again"] = time.monotonic() - killed_at
        back_since = docker_now(compose.env)
        deadline = time.monotonic() + 20  # the load keeps running until the proxy sends the replica requests again
        while address(compose.env, victim) not in answered_by(compose, back_since) and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        stop.set()
        for client in clients:
            client.join(60)

    # A request whose response the dead replica had begun to send (the proxy passes the headers on at
    # once) cannot be retried: only those in flight at the kill may fail, at most one per client.
    failed = [outcome for outcome in outcomes if outcome.status != 200 or outcome.error]
    in_flight = [outcome for outcome in failed if outcome.started <= killed_at <= outcome.ended]
    assert failed == in_flight, f"{len(failed)} of {len(outcomes)} requests failed, not all in flight at the kill: {failed[:5]}"
    assert len(failed) <= CLIENTS
    assert sum(outcome.started > killed_at for outcome in outcomes) >= 50, "too little load after the kill to prove anything"
    assert details["RestartCount"] == restarts_before + 1, "docker did not restart the killed replica"
    assert details["State"]["Health"]["Status"] == "healthy", f"replica not healthy {HEALTHY_WITHIN_S} s after the kill"
    counts.update({"requests during the kill test": len(outcomes), "of which failed (in flight at the kill)": len(failed)})
    assert address(compose.env, victim) in answered_by(compose, back_since), "the proxy never sent the restarted replica a request"
