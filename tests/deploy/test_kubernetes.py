"""deploy/kubernetes: the manifests validated against the Kubernetes API schemas, offline, and tied to the image.

kubernetes-validate carries the API's JSON schemas in the package (no cluster, no network); strict mode
refuses unknown fields, so a misspelt key fails here rather than being dropped by the API server. Then
what no schema knows: the container spec runs what the Dockerfile builds (user, port, command), the
probes ask routes the app has, the Service, HPA and PDB point at the Deployment's pods, every ConfigMap
key is a setting the service reads, and the grace period outlasts the shutdown it has to allow.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from typing import Any

import kubernetes_validate
import pytest
import yaml

from backend.paths import PROJECT_ROOT
from backend.testing.live_server import LiveServer, get_status

KUBE_DIR = PROJECT_ROOT / "deploy" / "kubernetes"
MANIFESTS = ["configmap.yaml", "deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"]
# a version clusters still run and the newest the package knows
VERSIONS = ["1.30", kubernetes_validate.utils.latest_version()]


def manifest(name: str) -> dict[str, Any]:
    (document,) = [document for document in yaml.safe_load_all((KUBE_DIR / name).read_text()) if document]
    return document


def pod_spec() -> dict[str, Any]:
    return manifest("deployment.yaml")["spec"]["template"]["spec"]


def container() -> dict[str, Any]:
    (api,) = pod_spec()["containers"]
    return api


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending = f"{pending} {stripped.removesuffix(chr(92)).strip()}".strip()
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    return instructions


def dockerfile(keyword: str) -> str:
    """The arguments of the last KEYWORD instruction (the one in force)."""
    return [arguments for instruction, arguments in dockerfile_instructions() if instruction == keyword][-1]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(arguments))
    return env


# --- the API's schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_is_valid_for_the_kubernetes_api(name: str, version: str) -> None:
    assert kubernetes_validate.validate(manifest(name), version, strict=True)


def test_a_misspelt_field_fails_validation() -> None:
    broken = copy.deepcopy(manifest("deployment.yaml"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = broken["spec"]["template"]["spec"]["containers"][0].pop(
        "readinessProbe"
    )
    with pytest.raises(kubernetes_validate.ValidationError, match="readinessProbes"):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_a_wrongly_typed_value_fails_validation() -> None:
    broken = copy.deepcopy(manifest("hpa.yaml"))
    broken["spec"]["maxReplicas"] = "ten"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_kustomization_applies_every_manifest_in_the_folder() -> None:
    kustomization = yaml.safe_load((KUBE_DIR / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(MANIFESTS)
    assert sorted(path.name for path in KUBE_DIR.glob("*.yaml")) == sorted([*MANIFESTS, "kustomization.yaml"])
    assert [image["name"] for image in kustomization["images"]] == [container()["image"]]


# --- the container runs what the Dockerfile builds --------------------------------------------------------


def test_container_runs_as_the_dockerfiles_user() -> None:
    user, _, group = dockerfile("USER").partition(":")
    security = pod_spec()["securityContext"]
    assert (str(security["runAsUser"]), str(security["runAsGroup"])) == (user, group or user)
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0


def test_container_port_is_the_one_the_image_serves_on() -> None:
    (port,) = container()["ports"]
    assert str(port["containerPort"]) == dockerfile_env()["PORT"]
    assert str(port["containerPort"]) in dockerfile("EXPOSE").split()
    assert "PORT" not in manifest("configmap.yaml")["data"], "the ConfigMap must not move the port the probes ask"


def test_container_command_is_the_images_command() -> None:
    assert container()["command"] == json.loads(dockerfile("CMD"))
    assert "args" not in container()


def test_container_cannot_write_its_image_or_gain_privileges() -> None:
    security = container()["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"] and "add" not in security["capabilities"]
    (mount,) = container()["volumeMounts"]
    assert mount["mountPath"] == "/tmp", "the workers' metrics files need a writable /tmp"
    assert {volume["name"] for volume in pod_spec()["volumes"]} == {mount["name"]}


# --- what the schemas cannot know -----------------------------------------------------------------------


def test_probes_ask_the_v2_health_routes_on_the_named_port_and_a_real_server_answers_200() -> None:
    probes = {kind: container()[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert probes["livenessProbe"]["path"] == "/v2/health/live"
    assert probes["readinessProbe"]["path"] == probes["startupProbe"]["path"] == "/v2/health/ready"
    assert {probe["port"] for probe in probes.values()} == {container()["ports"][0]["name"]}
    with LiveServer(workers=1) as server:
        assert {probe["path"]: get_status(server.port, probe["path"]) for probe in probes.values()} == {
            "/v2/health/live": 200,
            "/v2/health/ready": 200,
        }
        assert get_status(server.port, "/v2/health/misspelt") == 404


def test_service_hpa_and_pdb_select_the_deployments_pods() -> None:
    deployment = manifest("deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = manifest("service.yaml")["spec"]
    assert service["selector"].items() <= labels.items()
    assert {port["targetPort"] for port in service["ports"]} <= {port["name"] for port in container()["ports"]}
    assert manifest("pdb.yaml")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = manifest("hpa.yaml")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])


def test_hpa_scales_on_cpu_and_the_pdb_leaves_a_pod_serving() -> None:
    hpa = manifest("hpa.yaml")["spec"]
    (metric,) = hpa["metrics"]
    assert (metric["type"], metric["resource"]["name"]) == ("Resource", "cpu")
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    assert "cpu" in container()["resources"]["requests"], "utilisation is measured against the CPU request"
    assert manifest("pdb.yaml")["spec"]["maxUnavailable"] < hpa["minReplicas"]


def test_configmap_keys_are_settings_the_service_reads() -> None:
    from backend.service.settings import Settings

    known = {name.upper() for name in Settings.model_fields} | {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
    data = manifest("configmap.yaml")["data"]
    assert set(data) <= known, f"unknown settings {sorted(set(data) - known)}"
    Settings(**{key.lower(): value for key, value in data.items() if key.lower() in Settings.model_fields})
    assert [ref["configMapRef"]["name"] for ref in container()["envFrom"]] == [manifest("configmap.yaml")["metadata"]["name"]]


def cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def test_one_worker_per_cpu_of_the_limit_and_requests_within_limits() -> None:
    resources = container()["resources"]
    assert cpu(resources["requests"]["cpu"]) <= cpu(resources["limits"]["cpu"])
    assert mebibytes(resources["requests"]["memory"]) <= mebibytes(resources["limits"]["memory"])
    assert int(manifest("configmap.yaml")["data"]["WORKERS"]) == cpu(resources["limits"]["cpu"])
    assert manifest("configmap.yaml")["data"]["OPENBLAS_NUM_THREADS"] == "1"


def test_grace_period_outlasts_the_pre_stop_pause_and_the_shutdown_timeout() -> None:
    pause = float(re.search(r"sleep\((\d+(?:\.\d+)?)\)", " ".join(container()["lifecycle"]["preStop"]["exec"]["command"])).group(1))
    shutdown = float(manifest("configmap.yaml")["data"]["SHUTDOWN_TIMEOUT_S"])
    assert pod_spec()["terminationGracePeriodSeconds"] > pause + shutdown
