"""The Kubernetes manifests as a platform team would apply them: rendered by kustomize, valid
against Kubernetes and the real KubeRay v1.7.0 CRDs, and within policy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from serve.config import CONFIG_FILE, PROJECT_ROOT, RecsplainSettings, app_args, serve_config
from serve.k8s import PATCH_FILE, cluster_serve_config, render_patch

OVERLAYS = ["base", "overlays/cpu-demo", "overlays/gpu"]
CRD_DIR = Path(os.environ.get("RECSPLAIN_CRD_DIR", PROJECT_ROOT.parent / "shared" / "k8s" / "crds"))
KUBERNETES_VERSION = "1.32.0"
BUILT_IN = {"PersistentVolumeClaim", "ConfigMap", "Service", "Deployment"}
SECRET_WORDS = ("TOKEN", "KEY", "PASSWORD", "SECRET")


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed; it renders the kustomizations offline")
    output = subprocess.run(
        ["kubectl", "kustomize", str(PROJECT_ROOT / "k8s" / request.param)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return request.param, [doc for doc in yaml.safe_load_all(output) if doc]


def of_kind(documents: list[dict], kind: str) -> list[dict]:
    return [doc for doc in documents if doc["kind"] == kind]


def ray_service(documents: list[dict]) -> dict:
    [service] = of_kind(documents, "RayService")
    return service


def pod_templates(service: dict) -> dict[str, dict]:
    cluster = service["spec"]["rayClusterConfig"]
    groups = {"head": cluster["headGroupSpec"]["template"]}
    groups.update({g["groupName"]: g["template"] for g in cluster["workerGroupSpecs"]})
    return groups


def all_containers(service: dict):
    """(where, container, pod spec) for every container, init containers and autoscaler too."""
    for group, template in pod_templates(service).items():
        spec = template["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{group}/{container['name']}", container, spec
    autoscaler = service["spec"]["rayClusterConfig"]["autoscalerOptions"]
    yield "autoscaler", autoscaler, {}


def crd_schema(name: str) -> dict:
    path = CRD_DIR / name
    if not path.exists():
        pytest.skip(f"KubeRay CRDs not found at {CRD_DIR}; set RECSPLAIN_CRD_DIR")
    crd = yaml.safe_load(path.read_text())
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return version["schema"]["openAPIV3Schema"]


def test_built_in_kinds_are_valid_kubernetes(rendered):
    _, documents = rendered
    for doc in documents:
        if doc["kind"] in BUILT_IN:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_rayservice_matches_the_kuberay_crd(rendered):
    service = ray_service(rendered[1])
    jsonschema.validate(service, crd_schema("ray.io_rayservices.yaml"))
    cluster = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "x"}}
    cluster["spec"] = service["spec"]["rayClusterConfig"]
    jsonschema.validate(cluster, crd_schema("ray.io_rayclusters.yaml"))


def test_crd_validation_catches_a_broken_manifest(rendered):
    broken = json.loads(json.dumps(ray_service(rendered[1])))
    broken["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["minReplicas"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, crd_schema("ray.io_rayservices.yaml"))


def test_autoscaling_is_on_and_bounded(rendered):
    cluster = ray_service(rendered[1])["spec"]["rayClusterConfig"]
    assert cluster["enableInTreeAutoscaling"] is True
    for group in cluster["workerGroupSpecs"]:
        assert 0 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]


def settings_in_pods(documents: list[dict]) -> RecsplainSettings:
    """The settings the pods will run with: the embedded config plus the overlay's variables."""
    variables = {}
    for config_map in of_kind(documents, "ConfigMap"):
        variables.update(config_map.get("data", {}))
    embedded = yaml.safe_load(ray_service(documents)["spec"]["serveConfigV2"])
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        return RecsplainSettings(**app_args(embedded))
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_serve_autoscaling_min_is_at_most_max(rendered):
    settings = settings_in_pods(rendered[1])
    for name in ("ingress", "retriever", "llm"):
        scaling = getattr(settings.deployments, name).autoscaling_config
        assert scaling.min_replicas <= scaling.max_replicas, name


def test_only_the_llm_group_asks_for_gpus(rendered):
    overlay, documents = rendered
    asking = {
        where.split("/")[0]
        for where, container, _ in all_containers(ray_service(documents))
        if "nvidia.com/gpu" in json.dumps(container.get("resources", {}))
    }
    assert asking == ({"llm"} if overlay.endswith("gpu") else set())


def test_gpu_overlay_serves_the_production_model_on_gpus(rendered):
    overlay, documents = rendered
    if not overlay.endswith("gpu"):
        pytest.skip("gpu overlay only")
    settings = settings_in_pods(documents)
    assert settings.llm.accelerator == "gpu" and "/" in settings.llm.model_source
    assert settings.llm.engine_kwargs["gpu_memory_utilization"] == 0.9
    llm = pod_templates(ray_service(documents))["llm"]["spec"]
    assert llm["tolerations"][0]["key"] == "nvidia.com/gpu" and llm["nodeSelector"]


def test_every_container_has_limits_and_runs_as_non_root(rendered):
    for where, container, pod in all_containers(ray_service(rendered[1])):
        limits = container.get("resources", {}).get("limits", {})
        assert {"cpu", "memory"} <= set(limits), where
        security = container.get("securityContext", {})
        non_root = security.get("runAsNonRoot", pod.get("securityContext", {}).get("runAsNonRoot"))
        assert non_root is True, where
        assert security.get("allowPrivilegeEscalation") is False, where


def test_images_are_pinned(rendered):
    for where, container, _ in all_containers(ray_service(rendered[1])):
        image = container.get("image")
        if image is None:  # the autoscaler sidecar runs the head's image
            continue
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", f"{where}: {image}"


def test_no_plaintext_secrets(rendered):
    _, documents = rendered
    assert not of_kind(documents, "Secret"), "secrets are referenced by name, never shipped"
    for where, container, _ in all_containers(ray_service(documents)):
        for variable in container.get("env", []):
            if any(word in variable["name"] for word in SECRET_WORDS):
                assert "valueFrom" in variable and "value" not in variable, where


def test_rendered_serve_config_is_what_serve_config_yaml_gives(rendered):
    embedded = yaml.safe_load(ray_service(rendered[1])["spec"]["serveConfigV2"])
    assert embedded == cluster_serve_config(serve_config(CONFIG_FILE))


def test_the_committed_patch_is_not_stale():
    assert PATCH_FILE.read_text() == render_patch(), "run `recsplain k8s-render`"


def test_grafana_dashboard_covers_the_key_signals():
    dashboard = json.loads((PROJECT_ROOT / "k8s/observability/grafana-dashboard.json").read_text())
    queries = json.dumps(dashboard["panels"])
    for metric in (
        "recsplain_requests_total",
        "recsplain_stage_seconds_bucket",
        "recsplain_explanations_total",
        "generation_tokens_total",
        "num_requests_waiting",
        "ray_serve_deployment_replica_healthy",
    ):
        assert metric in queries, metric
