"""The Kubernetes manifests as a platform team would apply them: rendered by kustomize, valid
against Kubernetes and the real KubeRay v1.7.0 CRDs, and within policy."""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
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
BUILT_IN = {"PersistentVolumeClaim", "ConfigMap", "Service", "Deployment", "NetworkPolicy"}
SECRET_WORDS = ("TOKEN", "KEY", "PASSWORD", "SECRET")
RAY_CONTAINERS = {"head/ray-head", "cpu/ray-worker", "llm/ray-worker"}
# `recsplain build --into ROOT` names a build `<UTC yyyymmddTHHMMSSZ>-<data_hash[:8]>`.
ARTIFACTS_VERSION = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


@functools.cache
def render(overlay: str) -> tuple[dict, ...]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed; it renders the kustomizations offline")
    output = subprocess.run(
        ["kubectl", "kustomize", str(PROJECT_ROOT / "k8s" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(output) if doc)


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> tuple[str, list[dict]]:
    # Tests may modify what they get; the cached render stays as kustomize wrote it.
    return request.param, json.loads(json.dumps(render(request.param)))


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
    templates = pod_templates(service)
    for group, template in templates.items():
        spec = template["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{group}/{container['name']}", container, spec
    # KubeRay adds the autoscaler sidecar to the head pod, with these options.
    autoscaler = service["spec"]["rayClusterConfig"]["autoscalerOptions"]
    yield "autoscaler", autoscaler, templates["head"]["spec"]


def container_env(container: dict, documents: list[dict]) -> dict[str, str]:
    """The environment a container starts with: its ConfigMaps (envFrom), then `env` with
    $(VAR) expanded as the kubelet does; a value from a Secret or a field reads `<secretKeyRef>`,
    `<fieldRef>`."""
    config_maps = {
        cm["metadata"]["name"]: cm.get("data", {}) for cm in of_kind(documents, "ConfigMap")
    }
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        source = variable.get("valueFrom", {})
        if "value" in variable:
            expand = lambda match: env.get(match[1], match[0])  # noqa: E731
            env[variable["name"]] = re.sub(r"\$\((\w+)\)", expand, variable["value"])
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            env[variable["name"]] = config_maps[ref["name"]][ref["key"]]
        else:
            env[variable["name"]] = f"<{next(iter(source))}>"
    return env


def mounted_volumes(container: dict, pod: dict):
    """(mount, volume) for each of the container's volume mounts."""
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        assert mount["name"] in volumes, f"mount of the undeclared volume {mount['name']}"
        yield mount, volumes[mount["name"]]


def secret_projections(volume: dict) -> list[dict]:
    """The Secret sources of a volume, whether a `secret` volume or a `projected` one."""
    if "secret" in volume:
        return [{**volume["secret"], "name": volume["secret"]["secretName"]}]
    return [
        source["secret"]
        for source in volume.get("projected", {}).get("sources", [])
        if "secret" in source
    ]


def secrets_seen(container: dict, pod: dict) -> set[str]:
    """Every Secret key a container can read, as `secret/key` (`secret/*`: all of its keys)."""
    seen = set()
    for variable in container.get("env", []):
        if ref := variable.get("valueFrom", {}).get("secretKeyRef"):
            seen.add(f"{ref['name']}/{ref['key']}")
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            seen.add(f"{source['secretRef']['name']}/*")
    for _, volume in mounted_volumes(container, pod):
        for secret in secret_projections(volume):
            keys = [item["key"] for item in secret.get("items", [])] or ["*"]
            seen.update(f"{secret['name']}/{key}" for key in keys)
    return seen


def secret_file(container: dict, pod: dict, path: str) -> tuple[dict, str] | None:
    """(the Secret source, its key) behind a file path in the container, None if none is."""
    for mount, volume in mounted_volumes(container, pod):
        prefix = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(prefix):
            continue
        for secret in secret_projections(volume):
            for item in secret.get("items", []):
                if item["path"] == path[len(prefix) :]:
                    return secret, item["key"]
    return None


def crd_schema(name: str) -> dict:
    path = CRD_DIR / name
    if not path.exists():
        pytest.skip(f"KubeRay CRDs not found at {CRD_DIR}; set RECSPLAIN_CRD_DIR")
    crd = yaml.safe_load(path.read_text())
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return version["schema"]["openAPIV3Schema"]


def validate(document: dict, crd: str) -> None:
    """`jsonschema.validate`, with the CRD's schema checked against its metaschema once per
    session instead of once per call (seconds for KubeRay's largest CRDs)."""
    _validator(crd).validate(document)


@functools.cache
def _validator(crd: str):
    schema = crd_schema(crd)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_built_in_kinds_are_valid_kubernetes(rendered):
    _, documents = rendered
    for doc in documents:
        if doc["kind"] in BUILT_IN:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_rayservice_matches_the_kuberay_crd(rendered):
    service = ray_service(rendered[1])
    validate(service, "ray.io_rayservices.yaml")
    cluster = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "x"}}
    cluster["spec"] = service["spec"]["rayClusterConfig"]
    validate(cluster, "ray.io_rayclusters.yaml")


def test_crd_validation_catches_a_broken_manifest(rendered):
    broken = json.loads(json.dumps(ray_service(rendered[1])))
    broken["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["minReplicas"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, "ray.io_rayservices.yaml")


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
    return settings_under(variables, app_args(embedded))


def settings_under(variables: dict[str, str], args: dict) -> RecsplainSettings:
    """`args` read as a pod would, with `variables` in its environment (this one's restored)."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        return RecsplainSettings(**args)
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
    for config_map in of_kind(documents, "ConfigMap"):
        assert not [name for name in config_map["data"] if any(w in name for w in SECRET_WORDS)]
    for where, container, pod in all_containers(ray_service(documents)):
        for variable in container.get("env", []):
            if variable["name"].endswith("_FILE"):  # a path to a file of a mounted Secret
                assert secret_file(container, pod, variable["value"]), (where, variable)
            elif any(word in variable["name"] for word in SECRET_WORDS):
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


# --- Issue 10: the cluster stays closed -----------------------------------------------------

APP_NAMESPACE = "recsplain"
CLUSTER_NAME = "recsplain-raycluster-x7k2p"  # KubeRay's generated name; changes on each upgrade


def kuberay_pod_labels(group: str, template: dict) -> dict[str, str]:
    """The labels KubeRay v1.7.0 gives a Ray pod (common/pod.go, labelPod): its own, then the
    template's, except the three it never lets a template override."""
    labels = {
        "ray.io/is-ray-node": "yes",
        "ray.io/cluster": CLUSTER_NAME,
        "ray.io/node-type": "head" if group == "head" else "worker",
        "ray.io/group": "headgroup" if group == "head" else group,
        "app.kubernetes.io/name": "kuberay",
        "app.kubernetes.io/created-by": "kuberay-operator",
    }
    fixed = ("ray.io/node-type", "ray.io/group", "ray.io/cluster")
    labels.update({k: v for k, v in template["metadata"]["labels"].items() if k not in fixed})
    return labels


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector; an empty one selects everything."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, values = expression["key"], expression.get("values", [])
        holds = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[expression["operator"]]
        if not holds:
            return False
    return True


def admits(policies: list[dict], pod_labels: dict, source: tuple[str, dict], port: int) -> bool:
    """Whether NetworkPolicies (all in the app's namespace) let `source`, a (namespace, pod
    labels) pair, open TCP `port` on a pod of the app's namespace: allowed when no policy
    selects the pod for Ingress, else when a rule of any selecting policy admits it."""
    namespace, labels = source

    def peer_matches(peer: dict) -> bool:
        assert "ipBlock" not in peer, "an ipBlock would admit pods by address, not by label"
        if "namespaceSelector" in peer:
            in_namespace = selects(peer["namespaceSelector"], {NAMESPACE_LABEL: namespace})
        else:  # a podSelector alone: the policy's own namespace
            in_namespace = namespace == APP_NAMESPACE
        return in_namespace and selects(peer.get("podSelector", {}), labels)

    def port_matches(ports: list[dict]) -> bool:
        for rule in ports or [{}]:
            if rule.get("protocol", "TCP") != "TCP":
                continue
            if "port" not in rule:
                return True
            assert isinstance(rule["port"], int), "named ports are not modelled here"
            if rule["port"] <= port <= rule.get("endPort", rule["port"]):
                return True
        return False

    selecting = [
        policy["spec"]
        for policy in policies
        if selects(policy["spec"]["podSelector"], pod_labels)
        and "Ingress" in policy["spec"].get("policyTypes", ["Ingress"])
    ]
    if not selecting:
        return True
    return any(
        port_matches(rule.get("ports"))
        and (not rule.get("from") or any(peer_matches(peer) for peer in rule["from"]))
        for spec in selecting
        for rule in spec.get("ingress", [])
    )


NAMESPACE_LABEL = "kubernetes.io/metadata.name"
SERVE_PORT = 8000
# GCS, dashboard/job API, Ray client, Ray metrics, dashboard agent, a worker process's port.
RAY_PORTS = (6379, 8265, 10001, 8080, 52365, 10002, 19999)
STRANGER = (APP_NAMESPACE, {"app.kubernetes.io/name": "some-other-app"})
OPERATOR = (
    "kuberay-system",
    {
        "app.kubernetes.io/name": "kuberay-operator",
        "app.kubernetes.io/component": "kuberay-operator",
    },
)
PROMETHEUS = ("monitoring", {"app.kubernetes.io/name": "prometheus"})


def ray_pods(service: dict) -> dict[str, dict[str, str]]:
    return {group: kuberay_pod_labels(group, t) for group, t in pod_templates(service).items()}


EDGE = (APP_NAMESPACE, {"app.kubernetes.io/name": "recsplain-edge"})
EDGE_PORT = 8080


def edge_deployment(documents: list[dict]) -> dict | None:
    return next(
        (
            d
            for d in of_kind(documents, "Deployment")
            if d["metadata"]["name"] == EDGE[1]["app.kubernetes.io/name"]
        ),
        None,
    )


def test_network_policies_open_only_the_serve_port(rendered):
    """The base opens the Serve port to everyone; the overlays put the edge proxy in front, and
    only it (with the operator and Prometheus) reaches the Serve port, while anyone reaches it."""
    name, documents = rendered
    policies = of_kind(documents, "NetworkPolicy")
    pods = ray_pods(ray_service(documents))
    imposter = ("elsewhere", pods["cpu"])  # a pod with the cluster's labels, in another namespace
    fronted = edge_deployment(documents) is not None
    assert fronted == (name != "base"), name
    for group, labels in pods.items():
        # A default deny: a policy with no rule that selects every Ray pod for Ingress.
        assert any(
            selects(p["spec"]["podSelector"], labels) and not p["spec"].get("ingress")
            for p in policies
        ), group
        for source in (OPERATOR, PROMETHEUS, EDGE):
            assert admits(policies, labels, source, SERVE_PORT), (group, source)
        for source in (STRANGER, imposter, ("monitoring", {})):
            assert admits(policies, labels, source, SERVE_PORT) is not fronted, (group, source)
        for port in RAY_PORTS:
            assert not admits(policies, labels, STRANGER, port), (group, port)
            assert not admits(policies, labels, imposter, port), (group, port)
            assert not admits(policies, labels, EDGE, port), (group, port)
            for peer in pods.values():  # the cluster's own pods reach every port
                assert admits(policies, labels, (APP_NAMESPACE, peer), port), (group, port)
        # Prometheus scrapes Ray's metrics; a pod with its labels elsewhere can't.
        assert admits(policies, labels, PROMETHEUS, 8080), group
        assert not admits(policies, labels, ("default", PROMETHEUS[1]), 8080), group
        assert not admits(policies, labels, ("monitoring", {"app": "grafana"}), 8080), group
        assert not admits(policies, labels, PROMETHEUS, 6379), group
    if fronted:
        assert admits(policies, EDGE[1], STRANGER, EDGE_PORT)
        assert not admits(policies, EDGE[1], STRANGER, 9090)
    # The rules admitting anyone at all name the public port and nothing else.
    public = {"port": EDGE_PORT if fronted else SERVE_PORT, "protocol": "TCP"}
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if not rule.get("from"):
                assert rule.get("ports") == [public], policy


def test_the_edge_proxy_is_locked_down_and_runs_the_tested_caddyfile(rendered):
    """Non-root, read-only, no token, limits, a pinned image, and the Caddyfile that
    tests/test_edge_proxy.py runs, mounted as written."""
    name, documents = rendered
    deployment = edge_deployment(documents)
    if deployment is None:
        assert name == "base"
        return
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    image, _, tag = container["image"].rpartition(":")
    assert image == "caddy" and tag and tag != "latest"
    env = {v["name"]: v["value"] for v in container["env"]}
    assert (
        env["EDGE_UPSTREAM"]
        == f"{ray_service(documents)['spec']['serveService']['metadata']['name']}:{SERVE_PORT}"
    )
    assert env["EDGE_READ_HEADER_TIMEOUT"].endswith("s")
    [volume] = [v for v in pod["volumes"] if "configMap" in v]
    [config_map] = [
        c
        for c in of_kind(documents, "ConfigMap")
        if c["metadata"]["name"] == volume["configMap"]["name"]
    ]
    caddyfile = PROJECT_ROOT / "k8s" / "components" / "edge-proxy" / "Caddyfile"
    assert config_map["data"]["Caddyfile"] == caddyfile.read_text()
    [service] = [
        s for s in of_kind(documents, "Service") if s["metadata"]["name"] == "recsplain-edge"
    ]
    assert selects({"matchLabels": service["spec"]["selector"]}, EDGE[1])


def test_without_the_policies_every_pod_could_reach_gcs(rendered):
    """The check above can fail: with no policy a stranger reaches the head's GCS."""
    head = ray_pods(ray_service(rendered[1]))["head"]
    assert admits([], head, STRANGER, 6379)
    assert not admits(of_kind(rendered[1], "NetworkPolicy"), head, STRANGER, 6379)


def test_the_job_api_is_closed_to_other_pods(rendered):
    documents = rendered[1]
    service = ray_service(documents)
    policies, pods = of_kind(documents, "NetworkPolicy"), ray_pods(service)
    head = service["spec"]["rayClusterConfig"]["headGroupSpec"]
    # KubeRay's operator deploys and watches the Serve app through the head Service on 8265, so
    # the dashboard listens on the pod IP (all interfaces): the policies decide who connects.
    assert head["rayStartParams"]["dashboard-host"] == "0.0.0.0"
    assert admits(policies, pods["head"], OPERATOR, 8265)
    assert not admits(policies, pods["head"], OPERATOR, 6379)
    assert not admits(policies, pods["head"], OPERATOR, 10001)
    assert not admits(policies, pods["head"], STRANGER, 8265)
    assert not admits(policies, pods["cpu"], OPERATOR, 8265)
    assert not admits(policies, pods["head"], ("default", OPERATOR[1]), 8265)
    # Ray's token guards GCS, the dashboard and the client server behind the policies too.
    assert service["spec"]["rayClusterConfig"]["authOptions"]["mode"] == "token"
    # The Ray client server can't be turned off; the head Service doesn't publish it.
    ports = {port["containerPort"] for port in head["template"]["spec"]["containers"][0]["ports"]}
    assert 10001 not in ports and SERVE_PORT in ports


def ingress_groups(service: dict) -> set[str]:
    """The groups whose pods may host an Ingress replica: those that offer Ray CPUs."""
    cluster = service["spec"]["rayClusterConfig"]
    groups = [("head", cluster["headGroupSpec"])]
    groups += [(g["groupName"], g) for g in cluster["workerGroupSpecs"]]
    return {name for name, group in groups if group["rayStartParams"].get("num-cpus") != "0"}


def test_secrets_reach_only_the_containers_that_need_them(rendered):
    overlay, documents = rendered
    service = ray_service(documents)
    hosts = ingress_groups(service)
    assert hosts == {"cpu", "llm"}
    api_keys = {"recsplain-secrets/api-key", "recsplain-secrets/admin-key"}
    seen = {where: secrets_seen(c, pod) for where, c, pod in all_containers(service)}
    expected = {where: set() for where in seen}
    for group in hosts:
        expected[f"{group}/ray-worker"] = set(api_keys)
    if overlay.endswith("gpu"):  # only the LLM replicas download the model
        expected["llm/ray-worker"].add("recsplain-secrets/hf-token")
    assert seen == expected


KEY_FILES = {"RECSPLAIN_API_KEY": "api-key", "RECSPLAIN_ADMIN_KEY": "admin-key"}


def test_auth_fails_closed(rendered):
    documents = rendered[1]
    assert settings_in_pods(documents).api.auth == "bearer"
    service = ray_service(documents)
    hosts = ingress_groups(service)
    for where, container, pod in all_containers(service):
        env = container_env(container, documents)
        assert env.get("RECSPLAIN_API__AUTH", "bearer") == "bearer", where
        if where.split("/")[0] not in hosts or where == "autoscaler":
            continue
        for variable, key in KEY_FILES.items():
            assert variable not in env, f"{where}: {variable} as a file, not in the environment"
            found = secret_file(container, pod, env[f"{variable}_FILE"])
            assert found, f"{where}: {variable}_FILE is no file of a mounted Secret"
            secret, found_key = found
            assert (secret["name"], found_key) == ("recsplain-secrets", key), where
            # A missing Secret keeps the pod from starting instead of serving an open API.
            assert secret.get("optional", False) is False, where


def test_only_the_autoscaler_gets_a_kubernetes_token(rendered):
    service = ray_service(rendered[1])
    for group, template in pod_templates(service).items():
        assert template["spec"]["automountServiceAccountToken"] is False, group
    holders = {}
    for where, container, pod in all_containers(service):
        for mount, volume in mounted_volumes(container, pod):
            sources = volume.get("projected", {}).get("sources", [])
            if any("serviceAccountToken" in source for source in sources):
                holders[where] = (mount, sources)
    assert set(holders) == {"autoscaler"}
    mount, sources = holders["autoscaler"]
    # What automountServiceAccountToken would give it: token, CA and namespace, read-only.
    assert mount["mountPath"] == TOKEN_PATH and mount["readOnly"] is True
    assert {"serviceAccountToken", "configMap", "downwardAPI"} == {k for s in sources for k in s}


WRITABLE = {
    "ray": {"/tmp", "/home/ray/.cache"},  # Ray's session dir /tmp/ray; HF, vLLM, torch caches
    "autoscaler": {"/tmp"},
    "fetch-artifacts": {"/tmp", "/data"},
}
CACHE_VARIABLES = ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "TRITON_CACHE_DIR")


def test_root_filesystems_are_read_only(rendered):
    documents = rendered[1]
    for where, container, pod in all_containers(ray_service(documents)):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, where
        kind = "ray" if where in RAY_CONTAINERS else where.split("/")[-1]
        writable = {
            mount["mountPath"]: volume
            for mount, volume in mounted_volumes(container, pod)
            if not mount.get("readOnly")
        }
        assert set(writable) == WRITABLE[kind], where
        assert all("emptyDir" in volume for path, volume in writable.items() if path != "/data")
        env = container_env(container, documents)
        if kind == "ray":  # $HOME is in the image: every cache is sent to a writable mount
            assert set(CACHE_VARIABLES) <= set(env), where
        for name in (*CACHE_VARIABLES, "HOME", "HF_HOME", "VLLM_CACHE_ROOT"):
            if name in env:
                assert any((env[name] + "/").startswith(path + "/") for path in writable), (
                    f"{where}: {name}={env[name]} is not writable"
                )


def test_every_ray_pod_strips_proxy_control_headers(rendered):
    documents = rendered[1]
    for where, container, _ in all_containers(ray_service(documents)):
        if where in RAY_CONTAINERS:
            env = container_env(container, documents)
            assert env["RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"] == "serve.proxy:middlewares"
    module, _, name = "serve.proxy:middlewares".partition(":")
    assert getattr(importlib.import_module(module), name)(), "no middleware to install"


def test_artifacts_are_versioned_and_read_only(rendered):
    overlay, documents = rendered
    for where, container, _ in all_containers(ray_service(documents)):
        if where not in RAY_CONTAINERS:
            continue
        env = container_env(container, documents)
        mounts = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
        if overlay.endswith("cpu-demo"):  # built into the image, read-only like all of it
            assert "/data" not in mounts and env["RECSPLAIN_ARTIFACTS"].startswith("/app/")
            continue
        assert mounts["/data"]["readOnly"] is True, where
        assert ARTIFACTS_VERSION.fullmatch(env["ARTIFACTS_VERSION"]), env["ARTIFACTS_VERSION"]
        assert env["RECSPLAIN_ARTIFACTS"] == f"/data/artifacts/{env['ARTIFACTS_VERSION']}", where


FAKE_AWS = """#!/bin/sh
# aws s3 sync [--options] s3://SOURCE DESTINATION, served from the folder $FAKE_S3.
set -eu
for last; do :; done
source=$(for a; do case $a in s3://*) echo "$a";; esac; done)
echo "$last" >> "$FAKE_S3/destinations"
mkdir -p "$last"
if [ -d "$FAKE_S3/${source#s3://}" ]; then cp -R "$FAKE_S3/${source#s3://}/." "$last/"; fi
# Another head renames the same version into place while this one downloads.
if [ -n "${RACE_INTO:-}" ]; then
  mkdir -p "$RACE_INTO" && echo other-head > "$RACE_INTO/manifest.json"
fi
"""


@pytest.fixture()
def fetch_artifacts(tmp_path):
    """Runs the gpu overlay's init container script, with /data in tmp_path and a fake S3."""
    if shutil.which("sh") is None:
        pytest.skip("needs a POSIX shell")
    [init] = pod_templates(ray_service(list(render("overlays/gpu"))))["head"]["spec"][
        "initContainers"
    ]
    script = init["command"][-1]
    assert "root=/data/artifacts\n" in script
    script = script.replace("root=/data/artifacts\n", f"root={tmp_path}/data/artifacts\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "aws").write_text(FAKE_AWS)
    (tmp_path / "bin" / "aws").chmod(0o755)
    s3 = tmp_path / "s3" / "bucket" / "builds"
    s3.mkdir(parents=True)

    def publish(version: str, files: dict[str, str]) -> None:
        (s3 / version).mkdir(exist_ok=True)
        for name, text in files.items():
            (s3 / version / name).write_text(text)

    def run(version: str, **env: str) -> subprocess.CompletedProcess:
        variables = {
            "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
            "FAKE_S3": str(tmp_path / "s3"),
            "ARTIFACTS_URI": "s3://bucket/builds",
            "ARTIFACTS_VERSION": version,
            "HOSTNAME": "recsplain-head-abcde",
            **env,
        }
        return subprocess.run(["sh", "-c", script], env=variables, capture_output=True, text=True)

    return publish, run, tmp_path / "data" / "artifacts"


def listing(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_fetch_artifacts_installs_a_build_atomically_and_never_overwrites_it(fetch_artifacts):
    publish, run, root = fetch_artifacts
    version = "20261130T010203Z-0123abcd"
    publish(version, {"manifest.json": "{}", "index.faiss": "v1"})
    assert run(version).returncode == 0
    assert listing(root / version) == {"index.faiss": "v1", "manifest.json": "{}"}
    assert [p.name for p in root.iterdir()] == [version], "a staging directory was left behind"
    downloads = (root.parent.parent / "s3" / "destinations").read_text().split()
    assert downloads == [f"{root}/{version}.partial-recsplain-head-abcde"], "synced in place"
    # The same version changed in the bucket: what the cluster serves stays as it was.
    publish(version, {"index.faiss": "tampered"})
    assert run(version).returncode == 0
    assert listing(root / version)["index.faiss"] == "v1"


def test_fetch_artifacts_refuses_an_incomplete_build(fetch_artifacts):
    publish, run, root = fetch_artifacts
    version = "20261130T010203Z-deadbeef"
    publish(version, {"index.faiss": "half a build"})
    result = run(version)
    assert result.returncode != 0 and "manifest.json" in result.stderr
    assert listing(root) == {}, "an incomplete build or its staging directory is on the volume"


def test_fetch_artifacts_loses_a_race_without_overwriting(fetch_artifacts):
    """Two heads (a NewCluster upgrade) download the same version: the second rename fails,
    the first one's directory stays, and the init container still succeeds."""
    publish, run, root = fetch_artifacts
    version = "20261130T010203Z-0123abcd"
    publish(version, {"manifest.json": "{}", "index.faiss": "v1"})
    result = run(version, RACE_INTO=str(root / version))
    assert result.returncode == 0, result.stderr
    assert listing(root / version) == {"manifest.json": "other-head\n"}
    assert [p.name for p in root.iterdir()] == [version]
    # A non-empty directory that is no build is neither replaced nor served.
    junk = "20261130T010203Z-0badf00d"
    (root / junk).mkdir()
    (root / junk / "notes.txt").write_text("by hand")
    publish(junk, {"manifest.json": "{}"})
    assert run(junk).returncode != 0
    assert listing(root / junk) == {"notes.txt": "by hand"}


# The explain-batch RayJob (k8s/batch): its own kustomization, locked down like the service.

BATCH_OVERLAYS = ["batch/overlays/cpu-demo", "batch/overlays/gpu"]


@pytest.fixture(scope="module", params=BATCH_OVERLAYS)
def batch(request) -> tuple[str, list[dict]]:
    return request.param, json.loads(json.dumps(render(request.param)))


def ray_job(documents: list[dict]) -> dict:
    [job] = of_kind(documents, "RayJob")
    return job


def job_pods(job: dict) -> dict[str, dict]:
    """Every pod template of the job: the submitter, the head and each worker group."""
    cluster = job["spec"]["rayClusterSpec"]
    pods = {"submitter": job["spec"]["submitterPodTemplate"], "head": cluster["headGroupSpec"]}
    pods["head"] = pods["head"]["template"]
    pods.update({g["groupName"]: g["template"] for g in cluster["workerGroupSpecs"]})
    return pods


def batch_settings(documents: list[dict]) -> RecsplainSettings:
    """The settings the job's pods run with: serve/config.yaml's, then the job's variables."""
    [config_map] = of_kind(documents, "ConfigMap")
    variables = {k: v for k, v in config_map["data"].items() if k.startswith("RECSPLAIN_")}
    return settings_under(variables, app_args(serve_config(CONFIG_FILE)))


def test_the_rayjob_matches_the_kuberay_crds(batch):
    documents = batch[1]
    job = ray_job(documents)
    validate(job, "ray.io_rayjobs.yaml")
    cluster = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "x"}}
    cluster["spec"] = job["spec"]["rayClusterSpec"]
    validate(cluster, "ray.io_rayclusters.yaml")
    for doc in documents:
        if doc["kind"] in BUILT_IN:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    broken = json.loads(json.dumps(job))
    broken["spec"]["backoffLimit"] = "twice"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, "ray.io_rayjobs.yaml")


def test_the_job_runs_explain_batch_and_a_retry_resumes(batch):
    documents = batch[1]
    job = ray_job(documents)
    spec = job["spec"]
    assert "serve.cli explain-batch" in spec["entrypoint"]
    assert (
        '--in "$BATCH_INPUT"' in spec["entrypoint"]
        and '--out "$BATCH_OUTPUT"' in spec["entrypoint"]
    )
    assert spec["backoffLimit"] >= 1 and spec["shutdownAfterJobFinishes"] is True
    head = job_pods(job)["head"]
    [container] = head["spec"]["containers"]
    env = container_env(container, documents)
    output = env["BATCH_OUTPUT"]
    # The driver writes on the head, to a claim that outlives the job's cluster: a retry finds
    # the parts beside the output.
    [(mount, volume)] = [
        (m, v)
        for m, v in mounted_volumes(container, head["spec"])
        if output.startswith(m["mountPath"].rstrip("/") + "/")
    ]
    assert not mount.get("readOnly") and "persistentVolumeClaim" in volume
    claims = {pvc["metadata"]["name"] for pvc in of_kind(documents, "PersistentVolumeClaim")}
    assert volume["persistentVolumeClaim"]["claimName"] in claims
    settings = batch_settings(documents)
    llm = spec["rayClusterSpec"]["workerGroupSpecs"][1]
    assert llm["groupName"] == "llm"
    assert settings.batch.explain_actors == llm["replicas"] == llm["maxReplicas"]
    gpus = llm["template"]["spec"]["containers"][0]["resources"]["limits"].get("nvidia.com/gpu")
    if batch[0].endswith("gpu"):
        assert gpus == "1" and settings.batch.explain_num_gpus == 1
        assert settings.llm.accelerator == "gpu"
    else:
        assert gpus is None and settings.batch.explain_num_gpus == 0


def test_the_job_is_locked_down(batch):
    documents = batch[1]
    job = ray_job(documents)
    cluster = job["spec"]["rayClusterSpec"]
    assert cluster["authOptions"]["mode"] == "token"
    assert not cluster.get("enableInTreeAutoscaling"), "no autoscaler, so no pod needs a token"
    for name, pod in job_pods(job).items():
        spec = pod["spec"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert container["resources"]["limits"], where
            assert "@sha256:" in container["image"] or ":" in container["image"], where
            # Secrets only as files: no secret in the environment.
            assert not any(
                "secretKeyRef" in variable.get("valueFrom", {})
                for variable in container.get("env", [])
            ), where
            assert not any("secretRef" in source for source in container.get("envFrom", [])), where
            writable = {
                m["mountPath"] for m, _ in mounted_volumes(container, spec) if not m.get("readOnly")
            }
            allowed = {"/tmp", "/home/ray/.cache"} | ({"/output"} if name == "head" else set())
            assert writable <= allowed, where
    if documents and batch[0].endswith("gpu"):
        [container] = job_pods(job)["llm"]["spec"]["containers"]
        token = container_env(container, documents)["HF_TOKEN_PATH"]
        assert secret_file(container, job_pods(job)["llm"]["spec"], token), "the HF token file"


def test_only_the_jobs_own_pods_reach_it(batch):
    documents = batch[1]
    job = ray_job(documents)
    policies = of_kind(documents, "NetworkPolicy")
    pods = {
        group: kuberay_pod_labels(group, template)
        for group, template in job_pods(job).items()
        if group != "submitter"
    }
    submitter = (APP_NAMESPACE, job_pods(job)["submitter"]["metadata"]["labels"])
    service_pod = (
        APP_NAMESPACE,
        {"app.kubernetes.io/name": "recsplain", "ray.io/is-ray-node": "yes"},
    )
    for group, labels in pods.items():
        for port in (*RAY_PORTS, SERVE_PORT):
            assert not admits(policies, labels, STRANGER, port), (group, port)
            assert not admits(policies, labels, service_pod, port), (group, port)
            for peer in pods.values():
                assert admits(policies, labels, (APP_NAMESPACE, peer), port), (group, port)
        assert not admits(policies, labels, submitter, 6379), group
    assert admits(policies, pods["head"], submitter, 8265)
    assert admits(policies, pods["head"], OPERATOR, 8265)
    assert not admits(policies, pods["cpu"], submitter, 8265)
    assert admits([], pods["head"], STRANGER, 6379), "the check above can fail"
