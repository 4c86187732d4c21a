"""Versioned builds and zero-downtime roll-outs: the registry's logic without Ray, then the real
service rolled from one build to another under load (see conftest's `service`)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import shutil
import stat
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import polars as pl
import pytest

from retrieval import artifacts
from retrieval.artifacts import (
    DATA_FILES,
    FORMAT_VERSION,
    ArtifactError,
    read_manifest,
    write_artifacts,
    write_version,
)
from retrieval.config import RetrievalConfig
from serve.config import RolloutSettings
from serve.explain.catalog import Catalog
from serve.rollout import (
    STATE_FILE_NAME,
    ArtifactRegistry,
    Build,
    BuildFollower,
    RolloutState,
    roll_out,
)
from tests.conftest import ADMIN_KEY, API_KEY

# --- helpers -------------------------------------------------------------------------------------


def fake_build(path: Path, data_hash: str, titles=("Heat (1995)", "Alien (1979)")) -> Path:
    """A small directory that `read_manifest` accepts: the real layout, tiny files."""
    path.mkdir(parents=True)
    pl.DataFrame(
        {"item_id": [str(i) for i in range(len(titles))], "title": list(titles)}
    ).write_parquet(path / "items.parquet")
    for name in DATA_FILES:
        if not (path / name).exists():
            (path / name).write_bytes(name.encode() * 100)
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": "2026-01-01T00:00:00+00:00",
        "data_hash": data_hash,
        "config": RetrievalConfig().model_dump(mode="json"),
        "files": {
            name: hashlib.sha256((path / name).read_bytes()).hexdigest() for name in DATA_FILES
        },
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


class Local:
    """`handle.method.remote(...)` of a deployment handle, for an object in this process."""

    def __init__(self, target):
        self.target = target

    def __getattr__(self, name):
        return SimpleNamespace(remote=getattr(self.target, name))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def builds(tmp_path) -> dict[str, Path]:
    root = tmp_path / "artifacts"
    return {name: fake_build(root / name, f"hash-{name}") for name in ("a", "b", "c")}


def registry_for(configured: Path, **rollout) -> ArtifactRegistry:
    return ArtifactRegistry(str(configured), {"poll_s": 0.01, **rollout})


# --- versioned, immutable builds -----------------------------------------------------------------


def test_a_version_is_a_new_read_only_directory_that_never_overwrites(
    default_recommender, tmp_path, monkeypatch
):
    root = tmp_path / "versions"
    path, manifest = write_version(default_recommender, root, data_hash="0123456789abcdef")
    assert re.fullmatch(r"\d{8}T\d{6}Z-01234567", path.name), path.name
    assert read_manifest(path)["data_hash"] == manifest["data_hash"] == "0123456789abcdef"
    for file in path.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o444, file
    # A second build that would get the same name is refused, and the first stays intact.
    monkeypatch.setattr(artifacts, "version_name", lambda created_at, data_hash: path.name)
    with pytest.raises(ArtifactError, match="already exists"):
        write_version(default_recommender, root, data_hash="0123456789abcdef")
    assert read_manifest(path)["created_at"] == manifest["created_at"]
    assert [p.name for p in root.iterdir()] == [path.name], "no partial directory is left"


def test_writing_over_a_fixed_directory_swaps_it_whole(default_recommender, tmp_path):
    out = tmp_path / "default"
    write_artifacts(default_recommender, out, data_hash="first")
    write_artifacts(default_recommender, out, data_hash="second")
    assert read_manifest(out)["data_hash"] == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["default"], "the old build is gone"


def test_a_partial_or_corrupt_build_is_refused_with_a_clear_error(builds, tmp_path):
    build = builds["a"]
    with (build / "index.faiss").open("r+b") as handle:
        handle.truncate(10)
    with pytest.raises(ArtifactError, match=r"index\.faiss: checksum differs.*truncated"):
        read_manifest(build)
    manifest_path = builds["b"] / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    cases = {
        "no manifest.json": None,
        "not valid JSON": manifest_path.read_text()[:40],
        "not a manifest": "[1, 2]",
        "format_version 1": json.dumps({**manifest, "format_version": 1}),
        "its files should list": json.dumps({**manifest, "files": {}}),
        "no data_hash": json.dumps({**manifest, "data_hash": None}),
    }
    for problem, text in cases.items():
        if text is None:
            manifest_path.unlink()
        else:
            manifest_path.write_text(text)
        with pytest.raises(ArtifactError, match=problem):
            read_manifest(builds["b"])
    with pytest.raises(ArtifactError, match="not an artifact directory"):
        read_manifest(tmp_path / "nowhere")


# --- the registry's state ------------------------------------------------------------------------


def test_the_state_converges_only_when_every_live_replica_serves_the_current_generation():
    clock = Clock()
    state = RolloutState(Build(1, "/a", "ha"), stale_after_s=5, clock=clock)
    state.report("Retriever#1", "retriever", "ha", 1)
    assert not state.converged(), "no ingress has reported yet"
    state.report("Ingress#1", "ingress", "ha", 1)
    assert state.converged()
    assert state.move_to("/b", "hb") == Build(2, "/b", "hb")
    assert not state.converged()
    state.report("Retriever#1", "retriever", "hb", 2)
    state.report("Ingress#1", "ingress", "hb", 2)
    state.report("Retriever#2", "retriever", "ha", 1)  # a replica still on the old build
    assert not state.converged()
    clock.now = 6  # ... that then stops reporting (it died); the others report on
    state.report("Retriever#1", "retriever", "hb", 2)
    state.report("Ingress#1", "ingress", "hb", 2)
    assert state.converged() and [r.replica_id for r in state.live()] == [
        "Ingress#1",
        "Retriever#1",
    ]
    # A rebuild of the same data under a new generation is not served until it is loaded.
    state.move_to("/b2", "hb")
    assert not state.converged()


def test_only_failures_to_load_the_current_generation_count():
    state = RolloutState(Build(3, "/a", "ha"), stale_after_s=5)
    state.report("Retriever#1", "retriever", "ha", 3, "ArtifactError: old", failed_generation=2)
    assert state.failures() == {}
    state.report("Retriever#1", "retriever", "ha", 3, "ArtifactError: bad", failed_generation=3)
    assert state.failures() == {"Retriever#1": "ArtifactError: bad"}
    with pytest.raises(ValueError, match="role"):
        state.report("x", "llm", "ha", 3)


def test_a_restarted_registry_resumes_the_rolled_out_build(builds):
    configured = builds["a"]
    first = registry_for(configured)
    assert first.state.current == Build(1, str(configured.resolve()), "hash-a")
    status = asyncio.run(first.move_to(str(builds["b"]), "hash-b"))
    assert status["persisted"] is True
    assert (configured.parent / STATE_FILE_NAME).is_file()
    assert registry_for(configured).state.current == Build(2, str(builds["b"]), "hash-b")
    # Another configured build is a deliberate change: the configuration wins.
    assert registry_for(builds["c"]).state.current.data_hash == "hash-c"


def test_a_pointer_to_a_build_that_no_longer_validates_is_ignored(builds):
    asyncio.run(registry_for(builds["a"]).move_to(str(builds["b"]), "hash-b"))
    (builds["b"] / "items.parquet").write_bytes(b"changed")
    assert registry_for(builds["a"]).state.current.data_hash == "hash-a"


def test_a_pointer_that_cannot_be_written_is_reported(builds, tmp_path):
    registry = registry_for(builds["a"], state_file=str(tmp_path / "missing" / "state.json"))
    status = asyncio.run(registry.move_to(str(builds["b"]), "hash-b"))
    assert status["persisted"] is False and status["current"]["data_hash"] == "hash-b"


# --- following the registry ----------------------------------------------------------------------


def follower(registry, role: str, fail_on: set[str] = frozenset(), hang_on=frozenset()):
    loads: list[str] = []

    async def load(build: Build) -> None:
        if build.data_hash in hang_on:
            await asyncio.sleep(3600)
        if build.data_hash in fail_on:
            raise ArtifactError(f"{build.path}: corrupt")
        loads.append(build.data_hash)

    return BuildFollower(Local(registry), role, 0.01, load), loads


def test_a_follower_loads_new_generations_and_keeps_its_build_when_a_load_fails(builds):
    async def scenario():
        registry = registry_for(builds["a"])
        replica, loads = follower(registry, "retriever", fail_on={"hash-c"})
        await replica.start(fallback=Build(0, str(builds["a"]), "hash-a"))
        assert loads == ["hash-a"]
        await registry.move_to(str(builds["b"]), "hash-b")
        await replica.poll()
        assert replica.serving.data_hash == "hash-b" and loads == ["hash-a", "hash-b"]
        await registry.move_to(str(builds["c"]), "hash-c")
        await replica.poll()
        await replica.poll()  # a failed generation is not retried on every poll
        assert replica.serving.data_hash == "hash-b" and loads == ["hash-a", "hash-b"]
        status = await registry.status()
        assert "corrupt" in status["failures"][replica.replica_id]
        assert status["replicas"][0]["data_hash"] == "hash-b"
        # Moving back to the build it serves costs no load.
        await registry.move_to(str(builds["b"]), "hash-b")
        await replica.poll()
        assert replica.serving.generation == 4 and loads == ["hash-a", "hash-b"]

    asyncio.run(scenario())


def test_a_replica_starts_on_the_current_build_not_the_configured_one(builds):
    async def scenario():
        registry = registry_for(builds["a"])
        await registry.move_to(str(builds["b"]), "hash-b")
        replica, loads = follower(registry, "retriever")
        await replica.start(fallback=Build(0, str(builds["a"]), "hash-a"))
        assert loads == ["hash-b"]

    asyncio.run(scenario())


def test_without_a_registry_a_replica_starts_on_its_configuration():
    class Silent:
        async def sync(self, *args):
            await asyncio.sleep(3600)

    async def scenario():
        loads = []

        async def load(build):
            loads.append(build.data_hash)

        replica = BuildFollower(Local(Silent()), "ingress", 0.01, load, start_timeout_s=0.05)
        await replica.start(fallback=Build(0, "/configured", "hash-configured"))
        assert loads == ["hash-configured"]

    asyncio.run(scenario())


def run_rollout(builds, target: str, settings: RolloutSettings, **fail) -> tuple[dict, list]:
    async def scenario():
        registry = registry_for(builds["a"])
        replicas = [follower(registry, role, **fail)[0] for role in ("retriever", "ingress")]
        for replica in replicas:
            await replica.start(fallback=Build(0, str(builds["a"]), "hash-a"))
        tasks = [asyncio.create_task(replica.run()) for replica in replicas]
        answer = await roll_out(Local(registry), str(builds[target]), f"hash-{target}", settings)
        await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        return answer, [replica.serving.data_hash for replica in replicas]

    return asyncio.run(scenario())


def test_a_rollout_waits_until_every_replica_serves_the_build(builds):
    answer, serving = run_rollout(builds, "b", RolloutSettings(poll_s=0.01, timeout_s=5))
    assert answer["outcome"] == "converged" and answer["converged"]
    assert {r["data_hash"] for r in answer["replicas"]} == {"hash-b"} and serving == ["hash-b"] * 2


@pytest.mark.parametrize(
    ("fail", "outcome"),
    [({"fail_on": {"hash-b"}}, "failed"), ({"hang_on": {"hash-b"}}, "timeout")],
)
def test_a_rollout_that_fails_moves_every_replica_back(builds, fail, outcome):
    answer, serving = run_rollout(builds, "b", RolloutSettings(poll_s=0.01, timeout_s=0.5), **fail)
    assert answer["outcome"] == outcome and answer["reverted_to"]["data_hash"] == "hash-a"
    assert serving == ["hash-a", "hash-a"]


def test_the_ingress_catalog_comes_from_the_build_itself(builds):
    catalog = Catalog.load(builds["a"], "hash-a")
    assert catalog.titles == [("0", "Heat (1995)"), ("1", "Alien (1979)")]
    assert catalog.info["data_hash"] == "hash-a" and catalog.info["artifact"] == "a"
    with pytest.raises(ArtifactError, match="not hash-b"):
        Catalog.load(builds["a"], "hash-b")


def admin_answer(admin_key: str | None, token: str | None, *extra: tuple[bytes, bytes]):
    """The edge's (`BearerToken`) answer to GET /admin/rollout: (status, body)."""
    from serve.middleware import BearerToken, EdgeSettings

    edge = EdgeSettings(api_key=API_KEY, admin_key=admin_key)
    headers = [*extra, *([(b"authorization", f"Bearer {token}".encode())] if token else [])]
    scope = {"type": "http", "method": "GET", "path": "/admin/rollout", "headers": headers}
    sent = []

    async def reached(scope, receive, send):
        sent.append({"type": "http.response.start", "status": 200})

    async def send(message):
        sent.append(message)

    asyncio.run(BearerToken(reached, edge=edge)(scope, None, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body.decode()


def test_admin_routes_need_the_admin_key_and_are_off_without_one():
    status, body = admin_answer(None, ADMIN_KEY)
    assert status == 403 and "admin API disabled" in body
    for token in (None, API_KEY, "wrong"):
        assert admin_answer(ADMIN_KEY, token)[0] == 401
    assert admin_answer(ADMIN_KEY, ADMIN_KEY)[0] == 200
    # Only the Authorization header counts: headers named like ASGI scope keys change nothing.
    odd = [(b"type", b"http"), (b"headers", b"x"), (b"x-odd", "é".encode())]
    assert admin_answer(ADMIN_KEY, ADMIN_KEY, *odd)[0] == 200
    assert admin_answer(ADMIN_KEY, "wrong", *odd)[0] == 401


def test_the_cli_refuses_ambiguous_targets_and_a_missing_admin_key(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from serve.cli import app as cli

    runner = CliRunner()
    both = runner.invoke(cli, ["build", "--out", str(tmp_path / "a"), "--into", str(tmp_path)])
    assert both.exit_code == 2 and "not both" in both.output
    monkeypatch.delenv("RECSPLAIN_ADMIN_KEY", raising=False)
    monkeypatch.delenv("RECSPLAIN_ADMIN_KEY_FILE", raising=False)
    keyless = runner.invoke(cli, ["rollout", "--url", "http://127.0.0.1:9", "--artifacts", "x"])
    assert keyless.exit_code == 2 and "RECSPLAIN_ADMIN_KEY" in keyless.output


# --- the real service, under load ----------------------------------------------------------------

AUTH = {"Authorization": f"Bearer {API_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


class Load:
    """Clients sending recommend-only and explained requests back to back, recording each."""

    KINDS = ("recommend", "explained")

    @staticmethod
    def body(kind: str, n: int) -> dict:
        """Recommend-only on one history; explained, each for another stored user, so that
        most ask the LLM (a cache hit would say little)."""
        if kind == "recommend":
            return {"history": [{"item_id": "318", "rating": 5}], "k": 5, "explain": False}
        return {"user_id": str(100 + n), "k": 2, "deadline_ms": 30_000}

    def __init__(self, url: str):
        self.url = url
        self.records: list[tuple[float, str, float, int, str | None]] = []
        self.stop = threading.Event()
        self.sources: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(kind,)) for kind in self.KINDS]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _run(self, kind: str) -> None:
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=60) as client:
            for n in itertools.count():
                if self.stop.is_set():
                    return
                start = time.perf_counter()
                try:
                    response = client.post("/v1/recommendations", json=self.body(kind, n))
                    status = response.status_code
                    body = response.json() if status == 200 else {}
                    data_hash = body.get("retriever", {}).get("data_hash")
                    if status == 200 and kind == "explained":
                        self.sources += [item["explanation"]["source"] for item in body["items"]]
                except Exception as exc:  # a lost request is a failure too
                    status, data_hash = -1, repr(exc)
                self.records.append((start, kind, time.perf_counter() - start, status, data_hash))

    def failures(self) -> list:
        return [record for record in self.records if record[3] != 200]

    def latencies_ms(self, kind: str, since: float, until: float) -> list[float]:
        return sorted(
            1000 * latency for start, k, latency, _, _ in self.records
            if k == kind and since <= start <= until
        )  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def test_a_rollout_under_load_fails_no_request(
    service, injected_artifacts, default_artifacts, tmp_path
):
    from typer.testing import CliRunner

    from serve.cli import app as cli

    original = read_manifest(injected_artifacts)["data_hash"]
    target_path, target_manifest = default_artifacts
    target = target_manifest["data_hash"]
    assert original != target
    with httpx.Client(base_url=service, timeout=120) as client:
        assert client.get("/admin/rollout", headers=AUTH).status_code == 401, "API key is no admin"
        schema = client.get("/openapi.json", headers=AUTH).json()
        assert "/v1/recommendations" in schema["paths"] and "/admin/rollout" not in schema["paths"]
        before = converged_state(client)
        assert before["current"]["data_hash"] == original
        try:
            with Load(service) as load:
                time.sleep(3)
                started = time.perf_counter()
                response = client.post(
                    "/admin/rollout", json={"artifacts": str(target_path)}, headers=ADMIN
                )
                finished = time.perf_counter()
                time.sleep(3)
            assert response.status_code == 200, response.text
            rolled = response.json()
            assert {r["data_hash"] for r in rolled["replicas"]} == {target}
            assert {r["role"] for r in rolled["replicas"]} == {"retriever", "ingress"}
            assert load.failures() == [], load.failures()[:5]
            hashes = [data_hash for _, _, _, _, data_hash in sorted(load.records)]
            assert hashes[0] == original and hashes[-1] == target
            assert hashes.index(target) > hashes.index(original)
            assert original not in hashes[hashes.index(target) + 2 :], "no replica went back"
            report(load, started, finished, rolled)

            answer = client.post(
                "/v1/recommendations", json={"user_id": "15", "k": 2}, headers=AUTH
            ).json()
            assert answer["retriever"]["data_hash"] == target
            health = client.get("/healthz", headers=AUTH).json()
            assert health["retriever"]["data_hash"] == target

            corrupt = tmp_path / "corrupt"
            shutil.copytree(target_path, corrupt, copy_function=shutil.copyfile)
            with (corrupt / "index.faiss").open("r+b") as handle:
                handle.truncate(1000)
            refused = client.post("/admin/rollout", json={"artifacts": str(corrupt)}, headers=ADMIN)
            assert refused.status_code == 422
            assert refused.json()["error"]["code"] == "invalid_artifacts"
            assert "index.faiss" in refused.json()["error"]["message"]
            # Outside the artifacts root, existing or not (or through a link): one answer.
            link = tmp_path / "link-to-etc"
            link.symlink_to("/etc")
            answers = {
                client.post("/admin/rollout", json={"artifacts": path}, headers=ADMIN).text
                for path in ("/etc", "/no/such/dir", str(link), str(tmp_path / "missing"), "..")
            }
            [answer] = answers
            assert '"invalid_artifacts"' in answer and "not a build folder under" in answer
            after = client.get("/admin/rollout", headers=ADMIN).json()
            assert after["current"] == rolled["current"] and after["converged"]
        finally:  # the tests that follow expect the service's own build
            back = CliRunner().invoke(
                cli, ["rollout", "--url", service, "--artifacts", str(injected_artifacts)]
            )
        assert back.exit_code == 0, back.output
        assert converged_state(client)["current"]["data_hash"] == original


def converged_state(client: httpx.Client, timeout_s: float = 10) -> dict:
    """The registry's state once every replica reported (a replica just started or replaced
    reports within a poll)."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = client.get("/admin/rollout", headers=ADMIN).json()
        if state["converged"] or time.monotonic() > deadline:
            assert state["converged"], state
            return state
        time.sleep(0.2)


def report(load: Load, started: float, finished: float, rolled: dict) -> None:
    """The figures for the notes (shown with `pytest -s`)."""
    for kind in Load.KINDS:
        steady = load.latencies_ms(kind, 0, started)
        during = load.latencies_ms(kind, started, finished)
        print(
            f"\nrollout {finished - started:.2f} s; {kind}: {len(steady)} before, p50 "
            f"{percentile(steady, 0.5):.0f} ms, max {max(steady, default=0):.0f} ms; "
            f"{len(during)} during, p50 {percentile(during, 0.5):.0f} ms, "
            f"max {max(during, default=0):.0f} ms"
        )
    sources = {source: load.sources.count(source) for source in set(load.sources)}
    print(f"registry says converged after {rolled['elapsed_s']} s; explanations: {sources}")
