"""Measure one api container's memory and CPU at rest and under load: the figures behind the Kubernetes
requests and limits (deploy/kubernetes/deployment.yaml, docs/deployment.md).

    python scripts/containers/measure_resources.py [--seconds 20] [--clients 4] [--batch 1000]

Builds the image as `make test-containers` does, runs the compose `api` service (published on loopback),
samples `docker stats` at rest, then while CLIENTS threads send single /predict requests and one thread
sends /predict/batch with BATCH digits (BATCH_MAX, the largest body), and prints a JSON summary (MiB, CPUs;
the cgroup's own high-water mark too, where cgroup v1 shows it). Needs root and MNIST_DIR.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import threading
import time
from pathlib import Path

from backend.nn.mnist import load_mnist
from backend.testing.containers import Compose, DockerEngine, docker, ensure_images
from backend.testing.live_server import free_port

UNITS = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}


def sample(env: dict[str, str], container: str) -> tuple[float, float]:
    """(CPUs in use, MiB resident) of a container, from one `docker stats` reading."""
    line = docker("stats", "--no-stream", "--format", "{{.CPUPerc}} {{.MemUsage}}", container, env=env).stdout.strip()
    cpu, used = re.match(r"([\d.]+)%\s+([\d.]+\s*[KMG]?i?B)", line).groups()
    number, unit = re.match(r"([\d.]+)\s*(\w+)", used).groups()
    return float(cpu) / 100, float(number) * UNITS[unit]


def load(port: int, path: str, body: bytes, stop: threading.Event, counter: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        counter.append(response.status)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    digits = load_mnist().validation.images[: args.batch]
    single = json.dumps({"pixels": digits[0].tolist()}).encode()
    batch = json.dumps({"images": digits.tolist()}).encode()
    with DockerEngine() as engine:
        ensure_images(engine.env, proxy=False)
        port = free_port()
        compose = Compose(
            "draw-a-digit-measure", ["docker-compose.yml", "tests/containers/compose.api.yml"], {**engine.env, "API_PORT": str(port)}
        )
        compose.down()
        try:
            compose.up("api")
            (container,) = compose.container_ids("api")
            rest = [sample(engine.env, container) for _ in range(3)]
            stop, statuses = threading.Event(), []
            threads = [threading.Thread(target=load, args=(port, "/predict", single, stop, statuses)) for _ in range(args.clients)]
            threads.append(threading.Thread(target=load, args=(port, "/predict/batch", batch, stop, statuses)))
            for thread in threads:
                thread.start()
            busy, started = [], time.monotonic()
            while time.monotonic() - started < args.seconds:
                busy.append(sample(engine.env, container))
            stop.set()
            for thread in threads:
                thread.join(30)
            elapsed = time.monotonic() - started
            high_water = Path(f"/sys/fs/cgroup/memory/docker/{container}/memory.max_usage_in_bytes")
            cgroup_peak_mib = int(high_water.read_text()) / 2**20 if high_water.exists() else None
        finally:
            compose.down()
    summary = {
        "rest_mib": round(max(mib for _, mib in rest), 1),
        "load_mib_max": round(max(mib for _, mib in busy), 1),
        "cgroup_peak_mib": None if cgroup_peak_mib is None else round(cgroup_peak_mib, 1),
        "load_cpus_mean": round(statistics.mean(cpu for cpu, _ in busy), 2),
        "load_cpus_max": round(max(cpu for cpu, _ in busy), 2),
        "requests": len(statuses),
        "requests_per_s": round(len(statuses) / elapsed, 1),
        "non_200": sum(status != 200 for status in statuses),
        "samples": len(busy),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
