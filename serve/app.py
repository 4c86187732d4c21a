"""The Ray Serve application: Ingress -> Retriever, Ingress -> LLM (Ray Serve LLM, vLLM engine).

`build_app` is the import path in `serve/config.yaml`, so `serve run serve/config.yaml`,
`serve deploy` and KubeRay all build the same graph; `start_local` runs it in-process for
`recsplain serve` and the tests.
"""

from __future__ import annotations

import logging
import os
import time

import httpx
from ray import serve
from ray.serve.llm import LLMConfig, build_llm_deployment
from ray.serve.llm.ingress import make_fastapi_ingress

from serve import local_profile
from serve.config import APP_NAME, RecsplainSettings
from serve.ingress import ENDPOINTS, RecsplainIngress, app
from serve.llm_server import RecsplainLLMServer
from serve.middleware import API_KEY_ENV, admin_key_for, api_key_for, read_key
from serve.ray_private import to_model_metadata
from serve.retriever import Retriever
from serve.rollout import ArtifactRegistry

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
AUTH_ENV = "RECSPLAIN_API__AUTH"
# Every node's proxy needs this in its environment (on Kubernetes: every pod of the RayCluster).
PROXY_CALLBACK_ENV = "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"
PROXY_CALLBACK = "serve.proxy:middlewares"
_deprioritizer: local_profile.Deprioritizer | None = None  # the local app's, while it runs


def llm_config(settings: RecsplainSettings) -> LLMConfig:
    llm, deployment = settings.llm, settings.deployments.llm
    options = deployment.serve_options()
    options.pop("ray_actor_options")
    engine_kwargs = {**llm.engine_kwargs, "tensor_parallel_size": llm.tensor_parallel_size}
    hardware = (
        # vLLM's CPU build: the engine's bundle asks for CPUs only.
        {
            "accelerator_config": {"kind": "cpu"},
            "placement_group_config": {"bundles": [{"CPU": deployment.num_cpus}]},
        }
        if llm.accelerator == "cpu"
        else {"accelerator_config": {"kind": "gpu"}}
    )
    return LLMConfig(
        model_loading_config={"model_id": llm.model_id, "model_source": llm.resolved_source()},
        engine_kwargs=engine_kwargs,
        deployment_config=options,
        **hardware,
    )


def build_app(args: dict):
    """Build the application from the `args` of serve/config.yaml (env overrides applied)."""
    settings = RecsplainSettings(**args)
    config = llm_config(settings)
    llm = build_llm_deployment(
        config,
        deployment_cls=RecsplainLLMServer,
        bind_kwargs={
            "accelerator": settings.llm.accelerator,
            "cpu_threads_bind": settings.llm.cpu_threads_bind,
            "cpu_reserved_cores": settings.llm.cpu_reserved_cores,
        },
    )
    rollout = settings.rollout.model_dump(mode="json")
    # The one source of truth for the serving build: one replica, no CPU of its own.
    registry = (
        serve.deployment(ArtifactRegistry)
        .options(
            name="ArtifactRegistry",
            num_replicas=1,
            ray_actor_options={"num_cpus": 0},
            logging_config={"enable_access_log": False},  # polled by every replica
        )
        .bind(str(settings.artifacts_path()), rollout)
    )
    retriever_settings = settings.deployments.retriever
    retriever = (
        serve.deployment(Retriever)
        .options(name="Retriever", **retriever_settings.serve_options())
        .bind(
            str(settings.artifacts_path()),
            retriever_settings.max_batch_size,
            retriever_settings.batch_wait_timeout_s,
            registry,
            rollout,
        )
    )
    ingress = make_fastapi_ingress(RecsplainIngress, endpoint_map=ENDPOINTS, app=app)
    return (
        serve.deployment(ingress)
        .options(name="Ingress", **settings.deployments.ingress.serve_options())
        .bind(
            llm_deployments={settings.llm.model_id: llm},
            model_cards={settings.llm.model_id: to_model_metadata(settings.llm.model_id, config)},
            retriever=retriever,
            registry=registry,
            settings=settings.model_dump(mode="json"),
        )
    )


def choose_local_auth(host: str) -> None:
    """On a loopback host with no API key and no explicit `RECSPLAIN_API__AUTH`, the API runs
    open (auth "none", logged at start); anywhere else the default, "bearer", needs a key."""
    if host in LOOPBACK_HOSTS and read_key(API_KEY_ENV) is None:
        os.environ.setdefault(AUTH_ENV, "none")


def start_local(
    args: dict, host: str, port: int, timeout_s: float = 600, replica_logs: bool = True
) -> str:
    """Start Ray and the app in this process; return the base URL once /readyz says ready.

    A missing API key stops the start here (see `choose_local_auth`), not in a replica.
    """
    import ray

    global _deprioritizer

    choose_local_auth(host)
    settings = RecsplainSettings(**args)
    admin_key_for(api_key_for(settings.api.auth))
    args = local_profile.prepare(settings.local, args)
    # Ray's HTTP proxy actor inherits this from the environment of `ray.init`.
    os.environ[PROXY_CALLBACK_ENV] = PROXY_CALLBACK
    # More logical CPUs than cores, or the LLM's placement group starves the other deployments.
    ray.init(
        address="local",  # our own Ray, never a cluster `ray start` left on this machine
        num_cpus=max(8, 4 * (os.cpu_count() or 1)),
        include_dashboard=False,
        log_to_driver=replica_logs,
    )
    serve.start(http_options={"host": host, "port": port})
    serve.run(build_app(args), name=APP_NAME, route_prefix="/", blocking=False)
    # Ray's logging setup leaves httpx at INFO: a line per request from the driver's clients.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=15).status_code == 200:
                _deprioritizer = local_profile.deprioritize(settings.local)
                return url
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"recsplain did not become healthy at {url} within {timeout_s:.0f} s")


def stop_local() -> None:
    """Shut Serve and Ray down, and make sure no engine process outlives them."""
    import psutil
    import ray

    if _deprioritizer is not None:
        _deprioritizer.stopped.set()
    # vLLM's engine processes hang below Ray's workers, which hang below this process.
    descendants = psutil.Process().children(recursive=True)
    serve.shutdown()
    ray.shutdown()
    _, alive = psutil.wait_procs(descendants, timeout=15)
    for process in alive:
        process.kill()
