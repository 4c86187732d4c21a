"""Typed settings of the serving app, read from `serve/config.yaml` with environment overrides.

`serve/config.yaml` is a Ray Serve config file (usable by `serve run` and `serve deploy`, and
embedded by the Kubernetes manifests); its application `args` are validated here. Any field can be
overridden from the environment with the `RECSPLAIN_` prefix and `__` between nested names, e.g.
`RECSPLAIN_EXPLAIN__DEADLINE_S=5` or `RECSPLAIN_LLM__MODEL_SOURCE=Qwen/Qwen2.5-7B-Instruct`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_ROOT / "serve" / "config.yaml"
APP_NAME = "recsplain"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Autoscaling(_Strict):
    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(1, ge=1)
    target_ongoing_requests: float = Field(8, gt=0)
    upscale_delay_s: float = Field(10, ge=0)
    downscale_delay_s: float = Field(60, ge=0)


class DeploymentSettings(_Strict):
    """Ray Serve options of one deployment; each deployment scales on its own."""

    autoscaling_config: Autoscaling = Field(default_factory=Autoscaling)
    max_ongoing_requests: int = Field(16, ge=1)
    max_queued_requests: int = Field(64, ge=-1)
    num_cpus: float = Field(0.5, ge=0)
    # Serve replaces a replica after 3 failed checks in a row, or at the first check after its
    # process died: a 2 s period finds a dead replica within ~2 s (a dead engine within ~6 s).
    # The checks are cheap (a flag, no RPC), so a 10 s timeout only trips on a wedged replica,
    # never on a busy one; Serve's defaults (10 s / 30 s) left a dead one routed to for 30 s.
    health_check_period_s: float = Field(
        2.0, gt=0, description="how often Serve checks each replica; a dead one is replaced"
    )
    health_check_timeout_s: float = Field(
        10.0, gt=0, description="a check slower than this counts as failed"
    )
    graceful_shutdown_timeout_s: float = Field(
        60.0,
        gt=0,
        description="how long a replica being removed (downscaling, replacement) may finish its "
        "requests before they are cut off; the Ingress's must exceed explain.deadline_s",
    )

    access_log: bool = Field(
        False,
        description="a log line per call; off by default: the 1 s engine-load and rollout polls "
        "wrote about 600 KB of 'CALL ... OK' lines in 20 minutes",
    )

    def serve_options(self) -> dict[str, Any]:
        return {
            "logging_config": {"enable_access_log": self.access_log},
            "autoscaling_config": self.autoscaling_config.model_dump(),
            "max_ongoing_requests": self.max_ongoing_requests,
            "max_queued_requests": self.max_queued_requests,
            "health_check_period_s": self.health_check_period_s,
            "health_check_timeout_s": self.health_check_timeout_s,
            "graceful_shutdown_timeout_s": self.graceful_shutdown_timeout_s,
            "ray_actor_options": {"num_cpus": self.num_cpus},
        }


class RetrieverSettings(DeploymentSettings):
    """The Retriever also batches: one FAISS search for the requests queued together."""

    max_batch_size: int = Field(32, ge=1)
    batch_wait_timeout_s: float = Field(
        0.0, ge=0, description="how long a request waits for others to share its search"
    )


class Deployments(_Strict):
    ingress: DeploymentSettings = Field(
        default_factory=lambda: DeploymentSettings(max_ongoing_requests=64, max_queued_requests=256)
    )
    retriever: RetrieverSettings = Field(default_factory=RetrieverSettings)
    llm: DeploymentSettings = Field(
        default_factory=lambda: DeploymentSettings(max_ongoing_requests=64, max_queued_requests=256)
    )


class LLMSettings(_Strict):
    """The explanation model: a local folder (see `recsplain prepare-model`) or any HF model id."""

    model_id: str = "recsplain-llm"
    model_source: str = "models/Qwen2.5-Coder-0.5B-Instruct"
    accelerator: Literal["cpu", "gpu"] = "cpu"
    tensor_parallel_size: int = Field(1, ge=1)
    engine_kwargs: dict[str, Any] = Field(
        default_factory=lambda: {
            "enforce_eager": True,
            "max_model_len": 2048,
            "max_num_seqs": 64,
            "enable_prefix_caching": True,
            "gpu_memory_utilization": 0.3,
            "dtype": "auto",
        }
    )
    cpu_threads_bind: str = Field(
        "all",
        description="VLLM_CPU_OMP_THREADS_BIND for the CPU engine: 'all' (every usable core), "
        "'auto' (vLLM's choice: one core fewer) or a core list",
    )
    cpu_reserved_cores: int | None = Field(
        None, ge=0, description="VLLM_CPU_NUM_OF_RESERVED_CPU; None keeps vLLM's default"
    )
    load_poll_s: float = Field(
        1.0, gt=0, description="how often the ingress reads the engine's queue for admission"
    )

    @field_validator("engine_kwargs")
    @classmethod
    def _typed_engine_kwargs(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        """One key set from the environment (RECSPLAIN_LLM__ENGINE_KWARGS__MAX_NUM_SEQS=128)
        arrives as a string; give it the type JSON reads in it, so "false" is no true string."""
        return {key: _json_scalar(value) for key, value in kwargs.items()}

    def resolved_source(self) -> str:
        """A relative path that exists under the project root becomes absolute; else an HF id."""
        candidate = PROJECT_ROOT / self.model_source
        return str(candidate) if candidate.exists() else self.model_source


def _json_scalar(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, bool | int | float) or parsed is None else value


# How strict the explanation verifier is: deny-list rules only, or rules and a closed vocabulary.
VerifierMode = Literal["rules", "closed"]


class ExplainSettings(_Strict):
    max_tokens: int = Field(96, ge=8)
    temperature: float = Field(0.2, ge=0)
    max_chars: int = Field(300, ge=40)
    deadline_s: float = Field(45.0, gt=0, description="per request; late items get templates")
    retry: bool = True
    pin_retry_opening: bool = Field(
        True, description="constrain the retry's answer to open with the closest item"
    )
    few_shot: bool = True
    warm_up: bool = Field(
        True,
        description="before an ingress replica is ready, one explanation call (not cached) loads "
        "the engine's kernels, compiles the answer's grammar and caches the shared prompt prefix",
    )
    max_llm_calls_per_request: int = Field(
        10, ge=0, description="items past this rank get templates (reason: capped)"
    )
    admission: bool = Field(
        True, description="start no LLM call that the queue says cannot finish in the budget"
    )
    expected_call_s: float = Field(
        5.0, gt=0, description="service time assumed for one LLM call until one is measured"
    )
    cache_size: int = Field(20_000, ge=0, description="explanations kept per ingress replica")
    cache_file: Path | None = Field(
        None, description="precomputed explanations (`recsplain explain-batch --precompute`)"
    )
    verifier: VerifierMode = Field(
        "rules",
        description="'rules': deny-list checks only; 'closed': also refuse any word that is not "
        "in the task's facts, a function word or the explaining vocabulary (serve/explain/"
        "grounding.py)",
    )


class ApiSettings(_Strict):
    max_body_bytes: int = Field(1 << 20, ge=1024)
    retry_after_s: int = Field(2, ge=1)
    auth: Literal["bearer", "none"] = Field(
        "bearer",
        description="'bearer' refuses to start without RECSPLAIN_API_KEY(_FILE); 'none' serves "
        "an open API (local use), with a warning at start",
    )
    health_refresh_s: float = Field(
        5.0, gt=0, description="how often readiness (/readyz, /healthz) checks both dependencies"
    )
    health_timeout_s: float = Field(
        10.0, gt=0, description="how long one readiness check waits for the retriever and the LLM"
    )
    rate_limit_per_s: float = Field(
        0.0,
        ge=0,
        description="requests per second per API key (per ingress replica), 429 past it; 0: off",
    )
    rate_limit_burst: int = Field(20, ge=1, description="requests a key may send at once")
    # Measured in the ingress replica, whose every piece of body is an RPC to Ray's proxy: a
    # proxy starved of CPU looks like a stalled client. 10 s gave a 408 once to a client that had
    # sent all of its body, while a replacement engine started on 2 cores. 60 s is nginx's
    # client_body_timeout.
    body_timeout_s: float = Field(
        60.0, gt=0, description="408 when a request body stalls this long between two pieces"
    )
    openai_routes: bool = Field(
        True, description="serve the model's OpenAI-compatible routes (same key as the API)"
    )
    openai_max_tokens: int = Field(
        256, ge=1, description="output tokens one raw OpenAI request may ask for (unset: this)"
    )
    retrieval_retries: int = Field(
        4, ge=0, description="retries of a retrieval whose Retriever replica died under it"
    )
    retrieval_retry_budget_s: float = Field(
        30.0,
        gt=0,
        description="how long a retrieval may wait for a live Retriever replica (a replaced one "
        "starts in ~10 s); past it the answer is 503 with Retry-After",
    )


class RolloutSettings(_Strict):
    """Roll-outs of a new artifact build to every replica without a restart (serve/rollout.py)."""

    poll_s: float = Field(
        1.0, gt=0, description="how often each replica asks the registry which build to serve"
    )
    timeout_s: float = Field(
        300.0, gt=0, description="how long POST /admin/rollout waits for every replica"
    )
    artifacts_root: Path | None = Field(
        None,
        description="POST /admin/rollout takes only builds under this folder (symlinks resolved "
        "first); default: the folder that holds the configured artifacts",
    )
    state_file: Path | None = Field(
        None,
        description="where the registry keeps the serving build across its restarts; default: "
        "`.recsplain-rollout.json` beside the configured artifacts (skipped if not writable)",
    )


class BatchSettings(_Strict):
    """`recsplain explain-batch` on Ray Data (serve/explain/pipeline.py): how its stages are
    placed. Resources are Ray's: on a GPU cluster give the explain stage `num_gpus: 1`."""

    batch_size: int = Field(64, ge=1, description="rows per block through the stages")
    evidence_actors: int = Field(1, ge=1, description="CPU actors that compute evidence")
    evidence_num_cpus: float = Field(0.5, gt=0)
    explain_actors: int = Field(1, ge=1, description="actors that each hold one vLLM engine")
    explain_blocks_in_flight: int = Field(
        2,
        ge=1,
        description="blocks each explain actor works on at once, so the next block's calls "
        "fill the engine while the last block's slow answers drain",
    )
    explain_num_cpus: float = Field(1.0, ge=0)
    explain_num_gpus: float = Field(0.0, ge=0)
    stage_resources: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="custom Ray resources a stage needs ({'evidence': {'cpu_pool': 1}}): "
        "pins a stage to the nodes that have them",
    )
    max_restarts: int = Field(
        3, ge=0, description="times a stage's actor is restarted after its process dies"
    )


class LocalSettings(_Strict):
    """The app on one machine, Ray started in-process (`make serve`, the tests, the benchmarks):
    the lean profile (serve/local_profile.py) leaves the cores to the engine."""

    lean: bool = Field(
        True, description="slower Serve and roll-out loops, the app's other processes niced"
    )
    controller_loop_s: float = Field(
        1.0, gt=0, description="Serve controller's loop period under `lean` (Ray's default 0.1)"
    )
    rollout_poll_s: float = Field(
        10.0, gt=0, description="rollout.poll_s under `lean`, unless the config or env sets it"
    )
    background_nice: int = Field(
        10, ge=0, le=19, description="niceness of every process but the engine's; 0 leaves it"
    )


class RecsplainSettings(BaseSettings):
    """Everything the serving app needs; defaults run the embedded demo on a laptop."""

    model_config = SettingsConfigDict(
        env_prefix="RECSPLAIN_", env_nested_delimiter="__", extra="forbid"
    )

    artifacts: Path = Path("artifacts/default")
    llm: LLMSettings = Field(default_factory=LLMSettings)
    explain: ExplainSettings = Field(default_factory=ExplainSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    deployments: Deployments = Field(default_factory=Deployments)
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the YAML args, so Kubernetes can override a baked-in file.
        return env_settings, init_settings

    @staticmethod
    def resolve(path: Path) -> Path:
        """Relative paths in the config are relative to the project root."""
        return path if path.is_absolute() else PROJECT_ROOT / path

    def artifacts_path(self) -> Path:
        return self.resolve(self.artifacts)

    def rollout_root(self) -> Path:
        """The folder roll-outs may take builds from, resolved."""
        root = self.rollout.artifacts_root
        return (self.resolve(root) if root else self.artifacts_path().parent).resolve()

    @model_validator(mode="after")
    def _ingress_outlives_its_requests(self) -> RecsplainSettings:
        """An Ingress removed by downscaling holds explained requests for up to the deadline;
        with Serve's default 20 s against a 45 s deadline they were cut off as 500s (the soak)."""
        grace = self.deployments.ingress.graceful_shutdown_timeout_s
        if grace <= self.explain.deadline_s:
            raise ValueError(
                f"deployments.ingress.graceful_shutdown_timeout_s ({grace}) must exceed "
                f"explain.deadline_s ({self.explain.deadline_s})"
            )
        return self


def serve_config(path: Path = CONFIG_FILE) -> dict[str, Any]:
    """The Ray Serve config file as a dict."""
    return yaml.safe_load(path.read_text())


def app_args(config: dict[str, Any]) -> dict[str, Any]:
    """The `args` of the recsplain application in a Ray Serve config."""
    for application in config.get("applications", []):
        if application.get("name") == APP_NAME:
            return application.get("args") or {}
    raise ValueError(f"no application named {APP_NAME!r} in the Serve config")


def load_settings(path: Path = CONFIG_FILE) -> RecsplainSettings:
    return RecsplainSettings(**app_args(serve_config(path)))
