"""Roll-outs of a new artifact build to every replica, without a restart or a failed request.

One small `ArtifactRegistry` deployment is the source of truth for the serving build: a
generation number, the build's path and its data_hash. Retriever and Ingress replicas follow it
(`BuildFollower`): on start they load the registry's current build (so a replica added by
autoscaling serves what the others serve, not the start-up config), then poll it every
`rollout.poll_s`, load a new generation off the event loop, swap one reference, and report the
data_hash they serve. A load that fails keeps the old build and is reported, never retried for
the same generation. Requests in flight keep the build they started with.

The registry keeps its pointer in a small JSON file beside the configured artifacts (when that
directory is writable), so a restarted registry resumes the rolled-out build instead of silently
rolling every replica back to the start-up config; if the configured artifacts changed since,
the new configuration wins. Without a writable directory a roll-out says `persisted: false`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from retrieval.artifacts import ArtifactError, read_manifest
from serve.config import RolloutSettings

log = logging.getLogger(__name__)

ROLES = ("retriever", "ingress")
STATE_FILE_NAME = ".recsplain-rollout.json"


class RolloutRequest(BaseModel):
    """The body of POST /admin/rollout."""

    model_config = ConfigDict(extra="forbid")

    artifacts: str = Field(
        min_length=1,
        max_length=4096,
        description="a build directory on the serving nodes (`recsplain build --into` prints it)",
    )


@dataclass(frozen=True)
class Build:
    """What the registry says every replica should serve."""

    generation: int
    path: str
    data_hash: str


@dataclass
class ReplicaReport:
    replica_id: str
    role: str
    data_hash: str | None
    generation: int
    error: str | None  # why `failed_generation` could not be loaded
    failed_generation: int | None
    seen_at: float


class RolloutState:
    """The registry's logic, free of Ray: the current build, and who serves what.

    A replica that has not reported for `stale_after_s` is taken as gone (replaced or scaled
    down), so a roll-out never waits for a dead replica.
    """

    def __init__(
        self, build: Build, stale_after_s: float, clock: Callable[[], float] | None = None
    ):
        self.current = build
        self.stale_after_s = stale_after_s
        self.clock = clock or time.monotonic
        self.replicas: dict[str, ReplicaReport] = {}
        self.paths: dict[str, str] = {build.data_hash: build.path}  # every build served since

    def move_to(self, path: str, data_hash: str) -> Build:
        self.current = Build(self.current.generation + 1, path, data_hash)
        self.paths[data_hash] = path
        return self.current

    def report(
        self,
        replica_id: str,
        role: str,
        data_hash: str | None,
        generation: int,
        error: str | None = None,
        failed_generation: int | None = None,
    ) -> Build:
        if role not in ROLES:
            raise ValueError(f"role {role!r}: one of {ROLES}")
        self.replicas[replica_id] = ReplicaReport(
            replica_id, role, data_hash, generation, error, failed_generation, self.clock()
        )
        return self.current

    def live(self) -> list[ReplicaReport]:
        now = self.clock()
        for replica_id, report in list(self.replicas.items()):
            if now - report.seen_at > self.stale_after_s:
                del self.replicas[replica_id]
        return sorted(self.replicas.values(), key=lambda r: (r.role, r.replica_id))

    def converged(self) -> bool:
        """Every live replica serves the current generation, and each role has one."""
        live = self.live()
        return {r.role for r in live} == set(ROLES) and all(
            (r.generation, r.data_hash) == (self.current.generation, self.current.data_hash)
            for r in live
        )

    def failures(self) -> dict[str, str]:
        """Replicas that could not load the current generation, and why."""
        return {
            r.replica_id: r.error
            for r in self.live()
            if r.error and r.failed_generation == self.current.generation
        }

    def snapshot(self) -> dict:
        now = self.clock()
        return {
            "current": asdict(self.current),
            "converged": self.converged(),
            "replicas": [
                {
                    "replica_id": r.replica_id,
                    "role": r.role,
                    "data_hash": r.data_hash,
                    "generation": r.generation,
                    "error": r.error,
                    "seen_s_ago": round(now - r.seen_at, 2),
                }
                for r in self.live()
            ],
        }


def default_state_file(configured: Path) -> Path:
    return configured.parent / STATE_FILE_NAME


def save_pointer(state_file: Path, configured: Path, build: Build) -> bool:
    """Write the pointer atomically; False where the directory is not writable."""
    staging = state_file.with_name(f"{state_file.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        staging.write_text(json.dumps({"configured": str(configured), **asdict(build)}) + "\n")
        staging.replace(state_file)
    except OSError as exc:
        log.warning(
            "roll-out pointer not persisted at %s (%s); a registry restart would go back to %s",
            state_file,
            exc,
            configured,
        )
        return False
    return True


def initial_build(configured: Path, state_file: Path) -> Build:
    """The build to serve at the registry's start: the persisted pointer if it was written for
    the same configured artifacts and still validates, else the configured artifacts."""
    pointer = _read_pointer(state_file)
    if pointer is not None and pointer.get("configured") == str(configured):
        try:
            build = Build(int(pointer["generation"]), str(pointer["path"]), pointer["data_hash"])
            if read_manifest(Path(build.path))["data_hash"] != build.data_hash:
                raise ArtifactError(f"{build.path}: data_hash is not {build.data_hash}")
        except (ArtifactError, KeyError, TypeError, ValueError) as exc:
            log.error("ignoring the roll-out pointer %s: %s", state_file, exc)
        else:
            log.warning(
                "resuming roll-out generation %d: %s (configured: %s)",
                build.generation,
                build.path,
                configured,
            )
            return build
    return Build(1, str(configured), read_manifest(configured)["data_hash"])


def _read_pointer(state_file: Path) -> dict | None:
    try:
        pointer = json.loads(state_file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.error("unreadable roll-out pointer %s: %s", state_file, exc)
        return None
    return pointer if isinstance(pointer, dict) else None


class ArtifactRegistry:
    """The Serve deployment (one replica, no CPU) that holds `RolloutState`.

    Its methods are async, so they run one at a time on the replica's event loop: no locks.
    """

    def __init__(self, artifacts: str, rollout: dict):
        settings = RolloutSettings(**rollout)
        self.configured = Path(artifacts).resolve()
        self.state_file = settings.state_file or default_state_file(self.configured)
        self.state = RolloutState(
            initial_build(self.configured, self.state_file),
            stale_after_s=max(5.0, 5 * settings.poll_s),
        )
        self.persisted = None  # unknown until the first roll-out

    async def sync(
        self,
        replica_id: str,
        role: str,
        data_hash: str | None,
        generation: int,
        error: str | None = None,
        failed_generation: int | None = None,
    ) -> Build:
        """A replica's report of what it serves; the answer is what it should serve."""
        return self.state.report(replica_id, role, data_hash, generation, error, failed_generation)

    async def current(self) -> Build:
        return self.state.current

    async def path_of(self, data_hash: str) -> str | None:
        """Where a build served in this registry's life is, for a result computed on it."""
        return self.state.paths.get(data_hash)

    async def move_to(self, path: str, data_hash: str) -> dict:
        build = self.state.move_to(path, data_hash)
        self.persisted = save_pointer(self.state_file, self.configured, build)
        log.info("roll-out: generation %d is %s (%s)", build.generation, path, data_hash)
        return await self.status()

    async def status(self) -> dict:
        return {
            **self.state.snapshot(),
            "failures": self.state.failures(),
            "persisted": self.persisted,
        }


async def roll_out(registry, path: str, data_hash: str, settings: RolloutSettings) -> dict:
    """Move the registry to a validated build and wait until every live replica serves it.

    The answer has `outcome`: "converged"; "failed" (a replica could not load it) or "timeout"
    (not every replica reported it within `settings.timeout_s`), and then the registry is moved
    back to the previous build, so the replicas never stay split between two builds; or
    "superseded" when another roll-out moved the registry meanwhile.
    """
    previous: Build = await registry.current.remote()
    started = time.monotonic()
    status = await registry.move_to.remote(path, data_hash)
    generation = status["current"]["generation"]
    outcome = "timeout"
    while time.monotonic() - started < settings.timeout_s:
        status = await registry.status.remote()
        if status["current"]["generation"] != generation:
            outcome = "superseded"
            break
        if status["failures"]:
            outcome = "failed"
            break
        if status["converged"]:
            outcome = "converged"
            break
        await asyncio.sleep(min(0.2, settings.poll_s))
    answer = {**status, "outcome": outcome, "elapsed_s": round(time.monotonic() - started, 3)}
    if outcome in ("failed", "timeout"):
        await registry.move_to.remote(previous.path, previous.data_hash)
        answer["reverted_to"] = asdict(previous)
        log.error("roll-out to %s %s; moved back to %s", path, outcome, previous.path)
    return answer


def replica_id(role: str) -> str:
    """This Serve replica's id, e.g. `Retriever#abc123`; a random one outside Serve."""
    try:
        from ray import serve

        context = serve.get_replica_context()
        return f"{context.deployment}#{context.replica_id.unique_id}"
    except Exception:  # not in a replica (unit tests, scripts)
        return f"{role}#{uuid.uuid4().hex[:8]}"


class BuildFollower:
    """Keeps one replica on the registry's current build.

    `load(build)` makes the replica serve `build` (off the event loop, and swapping one
    reference) or raises; the follower reports the data_hash served after every poll.
    """

    def __init__(
        self,
        registry,
        role: str,
        poll_s: float,
        load: Callable[[Build], Awaitable[None]],
        start_timeout_s: float = 60.0,
    ):
        self.registry = registry
        self.role = role
        self.poll_s = poll_s
        self.load = load
        self.start_timeout_s = start_timeout_s
        self.replica_id = replica_id(role)
        self.serving: Build | None = None
        self.error: str | None = None
        self.failed: Build | None = None  # the last build it could not load

    async def start(self, fallback: Build) -> Build:
        """Load the registry's current build; `fallback` (the start-up config) only if the
        registry does not answer in time, and the next poll then corrects it."""
        try:
            current = await asyncio.wait_for(self._sync(), self.start_timeout_s)
        except Exception as exc:
            log.warning(
                "artifact registry unavailable at start (%s: %s); loading %s",
                type(exc).__name__,
                exc,
                fallback.path,
            )
            current = fallback
        await self.load(current)
        self.serving = current
        try:
            await asyncio.wait_for(self._sync(), self.start_timeout_s)  # serving it from now on
        except Exception as exc:
            log.warning("artifact registry unavailable (%s: %s)", type(exc).__name__, exc)
        return current

    async def run(self) -> None:
        """Poll forever; no failure stops it (a restarting registry is retried next period)."""
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.poll()
            except Exception as exc:
                log.warning("roll-out poll failed: %s: %s", type(exc).__name__, exc)

    async def poll(self) -> None:
        current = await self._sync()
        if current.generation == self.serving.generation:
            return
        if (current.path, current.data_hash) == (self.serving.path, self.serving.data_hash):
            self.serving = current  # the same build under a new generation: nothing to load
        elif current == self.failed:
            return  # failed once already; a new roll-out makes a new generation
        else:
            await self._switch(current)
        await self._sync()  # report at once: the roll-out waits for it

    async def _switch(self, build: Build) -> None:
        started = time.perf_counter()
        try:
            await self.load(build)
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.failed = build
            log.error(
                "%s keeps %s: loading generation %d (%s) failed: %s",
                self.replica_id,
                self.serving.data_hash,
                build.generation,
                build.path,
                self.error,
            )
            return
        self.serving, self.error = build, None
        log.info(
            "%s now serves generation %d (%s) after %.2f s",
            self.replica_id,
            build.generation,
            build.data_hash,
            time.perf_counter() - started,
        )

    async def _sync(self) -> Build:
        serving = self.serving
        return await self.registry.sync.remote(
            self.replica_id,
            self.role,
            serving.data_hash if serving else None,
            serving.generation if serving else 0,
            self.error,
            self.failed.generation if self.failed else None,
        )
