"""How `recsplain build` scales: wall time, peak memory and where the time goes, per data size.

Each size is synthetic music data from `benchmarks.synthetic` (100k interactions over 10k
artists, 1M over 100k, 10M over 1M), read with `data/configs/synthetic-music.yaml`. Every
measurement runs in a child process, which reports its own peak RSS (`ru_maxrss`), CPU time,
per-step seconds (the manifest's `timings`) and a profile of the inner calls (ALS, index build,
fold-in, index search, encoding, cache reads), so sizes do not share memory or warm caches.

Per size, with an embedding cache of its own that starts empty:

- `cold`: a first build, which embeds every artist's text;
- `warm`: the same build again, which reads every vector from the cache (a rebuild).

Catalogs above `--cold-max-items` would take hours to embed on a few cores. For them a child
measures the encoder's rate on a sample of the catalog's real texts, then fills the cache with
random unit vectors standing in for the embeddings, and the warm build runs on those: every step
is measured except the encoding, and the cold build time is extrapolated from the sampled rate.
The report labels such rows `measured: false` or `stand_in_vectors: true`.

    python -m benchmarks.scale run                       # all sizes: hours on 2 cores
    python -m benchmarks.scale run --sizes 100k,1m       # the measured-cold sizes
    python -m benchmarks.scale rate --size 10m           # one more encoder rate, e.g. idle
    python -m benchmarks.scale plot                      # redraw the png from the json

Writes benchmarks/results/scale.json and scale.png; data, caches and artifacts go to
benchmarks/results/scale/ (git-ignored). Run it niced on a shared machine; the report records
the load average and the CPU share the build got.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
import yaml

log = logging.getLogger(__name__)

RESULTS_DIR = Path("benchmarks/results")
WORK_DIR = RESULTS_DIR / "scale"
MUSIC_CONFIG = Path("data/configs/synthetic-music.yaml")
SIZES = {  # name: (interactions, artists); 10k only checks that the benchmark runs
    "10k": (10_000, 1_000),
    "100k": (100_000, 10_000),
    "1m": (1_000_000, 100_000),
    "10m": (10_000_000, 1_000_000),
}
SEED = 7
RSS_SAMPLE_S = 0.25


# ---- the child side: one measured task per process ----------------------------------------


class Probe:
    """Seconds and calls per instrumented function, peak RSS per build step, and the load."""

    def __init__(self, progress_path: Path):
        import psutil

        self.process = psutil.Process()
        self.progress_path = progress_path
        self.profile: dict[str, dict[str, float]] = {}
        self.step = "start"
        self.step_peak_mb: dict[str, float] = {}
        self.loads: list[float] = []
        self.started = time.perf_counter()
        self.result: dict = {}
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            rss = self.process.memory_info().rss / 2**20
            self.step_peak_mb[self.step] = max(self.step_peak_mb.get(self.step, 0.0), rss)
            self.loads.append(os.getloadavg()[0])

    def enter_step(self, name: str) -> None:
        self.step = name
        self.save(complete=False)

    def timed(self, name: str, function: Callable, count_arg: int | None = None) -> Callable:
        """`function`, adding its wall and CPU seconds (all threads), and the length of its
        argument `count_arg` if given, to the profile under `name`."""
        entry = self.profile.setdefault(name, {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0})

        @wraps(function)
        def wrapper(*args, **kwargs):
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                entry["seconds"] += time.perf_counter() - start
                entry["cpu_seconds"] += time.process_time() - cpu_start
                entry["calls"] += 1
                if count_arg is not None:
                    entry["items"] = entry.get("items", 0) + len(args[count_arg])

        return wrapper

    def save(self, complete: bool) -> dict:
        """Write the report so far; a complete one also stops the sampling."""
        if complete:
            self._stop.set()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter() - self.started
        cpu = usage.ru_utime + usage.ru_stime
        report = {
            **self.result,
            "complete": complete,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "cpu_share_of_machine": round(cpu / wall / (os.cpu_count() or 1), 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "peak_rss_mb_by_step": {k: round(v, 1) for k, v in self.step_peak_mb.items()},
            "profile": {
                name: {key: round(value, 3) for key, value in entry.items()}
                for name, entry in self.profile.items()
                if entry["calls"]
            },
            "loadavg_1m_mean": round(float(np.mean(self.loads)), 2) if self.loads else None,
            "loadavg_1m_max": round(float(np.max(self.loads)), 2) if self.loads else None,
            "last_step": self.step,
        }
        partial = self.progress_path.with_suffix(".partial")
        partial.write_text(json.dumps(report, indent=2) + "\n")
        os.replace(partial, self.progress_path)
        return report


class _StepHandler(logging.Handler):
    """Follows `retrieval.build`'s "build: <step>" log lines."""

    def __init__(self, probe: Probe):
        super().__init__(logging.INFO)
        self.probe = probe

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("build: "):
            self.probe.enter_step(message.removeprefix("build: "))


def instrument(probe: Probe) -> None:
    """Time the inner calls a build spends its time in (they nest inside the build steps)."""
    from retrieval import content, hybrid, recommender
    from retrieval.evaluate import EvalData
    from retrieval.index import VectorIndex

    for owner, name, label, count_arg in (
        (hybrid, "fit_als", "ALS fit", None),
        (recommender, "user_vectors", "query vectors (fold-in)", 1),
        (recommender.Recommender, "_histories", "user histories", None),
        (content, "_encode", "encode text", 0),
        (content.EmbeddingCache, "lookup", "embedding cache read", None),
        (content.EmbeddingCache, "store", "embedding cache write", None),
        (VectorIndex, "search", "index search", 1),
    ):
        setattr(owner, name, probe.timed(label, getattr(owner, name), count_arg))
    for owner, name, label in (
        (VectorIndex, "build", "index build"),
        (EvalData, "from_split", "holdout matrices"),
    ):
        function = owner.__dict__[name].__func__
        setattr(owner, name, classmethod(probe.timed(label, function)))


def child_build(config_path: Path, out: Path, report: Path) -> None:
    from retrieval.build import build

    probe = Probe(report)
    logging.getLogger("retrieval.build").addHandler(_StepHandler(probe))
    instrument(probe)
    config = _load_config(config_path)
    manifest = build(config, out, progress=False)
    probe.step = "done"
    probe.result = {
        "steps_s": manifest["timings"],
        "counts": manifest["counts"],
        "metrics": manifest["metrics"],
    }
    probe.save(complete=True)


def child_encoder_rate(config_path: Path, report: Path, sample: int, stand_in: bool) -> None:
    """Measure the encoder on `sample` real texts; with `stand_in`, then fill the cache with
    random unit vectors for the whole catalog."""
    from retrieval.content import EmbeddingCache, _encode, _encoder, item_texts
    from retrieval.data import load_dataset

    probe = Probe(report)
    config = _load_config(config_path)
    dataset = load_dataset(config.data)
    texts = item_texts(dataset.items, config.content.max_chars)
    start = time.perf_counter()
    dimension = _encoder(config.content.model).get_embedding_dimension()
    model_load_s = time.perf_counter() - start
    _encode(texts[:64], config.content)  # warm-up
    rng = np.random.default_rng(0)
    picked = [texts[i] for i in rng.choice(len(texts), min(sample, len(texts)), replace=False)]
    start, cpu_start = time.perf_counter(), time.process_time()
    _encode(picked, config.content)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    cache = EmbeddingCache(config.content.cache_dir, config.content.model)
    keys = np.unique(cache.keys(texts)) if stand_in else np.empty(0, dtype="S32")
    for offset in range(0, len(keys), 100_000):
        chunk = keys[offset : offset + 100_000]
        vectors = rng.standard_normal((len(chunk), dimension), dtype=np.float32)
        cache.store(chunk, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    probe.result = {
        "model_load_s": round(model_load_s, 2),
        "sample_texts": len(picked),
        "sample_seconds": round(seconds, 2),
        "texts_per_s": round(len(picked) / seconds, 1),
        "texts_per_cpu_s": round(len(picked) / cpu_seconds, 1),
        "catalog_texts": len(texts),
        "stand_in_vectors": len(keys),
    }
    probe.save(complete=True)


def _load_config(path: Path):
    from retrieval.config import RetrievalConfig

    return RetrievalConfig.model_validate(yaml.safe_load(path.read_text()))


# ---- the parent side: data, children, report ------------------------------------------------


def lscpu() -> dict:
    """CPU model and layout as lscpu reports them (the VM's view)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    wanted = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "L3 cache")
    info = {key: fields[key].strip() for key in wanted if key in fields}
    flags = fields.get("Flags", "").split()
    info["simd"] = [
        flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if flag in flags
    ]
    return info


def machine() -> dict:
    import platform

    return {
        "lscpu": lscpu(),
        "cores": os.cpu_count(),
        "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
    }


def run_child(arguments: list[str], report: Path, timeout_s: float) -> dict:
    """Run `python -m benchmarks.scale child ...`; on timeout kill it and keep what it wrote."""
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.scale", "child", *arguments, "--report", report]
    load_before = os.getloadavg()
    start = time.perf_counter()
    process = subprocess.Popen([str(part) for part in command], start_new_session=True)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    result = json.loads(report.read_text()) if report.exists() else {"complete": False}
    result["parent_wall_s"] = round(time.perf_counter() - start, 2)
    result["loadavg_before"] = [round(value, 2) for value in load_before]
    result["exit_code"] = process.returncode
    if process.returncode != 0:
        result["complete"] = False
    return result


def generate_data(name: str, folder: Path) -> dict:
    """Generate a size's data unless the same command already did; return its numbers."""
    from benchmarks.synthetic import SyntheticConfig, generate, write

    interactions, artists = SIZES[name]
    config = SyntheticConfig(artists=artists, users=None, interactions=interactions, seed=SEED)
    stamp = folder / "generated.json"
    if stamp.exists() and json.loads(stamp.read_text())["config"] == repr(config):
        return json.loads(stamp.read_text())
    start = time.perf_counter()
    frames = generate(config)
    write(*frames, folder)
    numbers = {
        "config": repr(config),
        "interactions": frames[0].height,
        "users": frames[0]["userID"].n_unique(),
        "artists": frames[1].height,
        "generate_s": round(time.perf_counter() - start, 2),
    }
    stamp.write_text(json.dumps(numbers, indent=2) + "\n")
    return numbers


def size_config(data: Path, cache: Path, target: Path) -> Path:
    raw = yaml.safe_load(MUSIC_CONFIG.read_text())
    raw["data"]["path"] = str(data)
    raw.setdefault("content", {})["cache_dir"] = str(cache)
    target.write_text(yaml.safe_dump(raw, sort_keys=False))
    return target


def measure_size(name: str, cold_max_items: int, sample: int, timeout_s: float) -> dict:
    folder = WORK_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    data = generate_data(name, folder / "data")
    cache = folder / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    config = size_config(folder / "data", cache, folder / "config.yaml")
    build_args = ["build", "--config", config, "--out", folder / "artifacts"]
    runs: dict[str, dict] = {}
    if data["artists"] <= cold_max_items:
        log.info("%s: cold build", name)
        runs["cold"] = run_child(build_args, folder / "cold.json", timeout_s)
        runs["cold"]["measured"] = True
    else:
        log.info("%s: encoder rate on %d texts, stand-in vectors", name, sample)
        stand_in = ["stand-in", "--config", config, "--sample", str(sample)]
        runs["stand_in"] = run_child(stand_in, folder / "stand_in.json", timeout_s)
    log.info("%s: warm build", name)
    runs["warm"] = run_child(build_args, folder / "warm.json", timeout_s)
    runs["warm"]["measured"] = True
    runs["warm"]["stand_in_vectors"] = "stand_in" in runs
    if "stand_in" in runs:
        runs["cold"] = extrapolate_cold(runs["warm"], runs["stand_in"])
    return {"size": name, "data": data, "runs": runs}


def extrapolate_cold(warm: dict, stand_in: dict) -> dict:
    """A cold build: the warm build with its cache read replaced by encoding at the sampled rate."""
    if not warm.get("complete") or "texts_per_s" not in stand_in:
        return {"measured": False, "complete": False, "note": "warm build or rate missing"}
    embed_s = stand_in["catalog_texts"] / stand_in["texts_per_s"] + stand_in["model_load_s"]
    steps = dict(warm["steps_s"])
    steps["embed item text"] = round(embed_s, 1)
    return {
        "measured": False,
        "complete": True,
        "note": "extrapolated: warm build's other steps + catalog texts / sampled encoder rate",
        "steps_s": steps,
        "wall_s": round(sum(steps.values()), 1),
        "texts_per_s": stand_in["texts_per_s"],
    }


def embedding_rates(size: dict) -> dict:
    """Texts per second, cold (encoding) and warm (cache read), for the report's summary."""
    runs, rates = size["runs"], {}
    encoded = runs["cold"].get("profile", {}).get("encode text")
    if encoded and encoded.get("items"):
        rates["cold_texts_per_s"] = round(encoded["items"] / encoded["seconds"], 1)
        if encoded.get("cpu_seconds"):  # contention-proof: per second of one core
            rates["cold_texts_per_cpu_s"] = round(encoded["items"] / encoded["cpu_seconds"], 1)
    elif "texts_per_s" in runs.get("stand_in", {}):
        rates["cold_texts_per_s_sampled"] = runs["stand_in"]["texts_per_s"]
        rates["cold_texts_per_cpu_s_sampled"] = runs["stand_in"].get("texts_per_cpu_s")
    warm_embed = runs["warm"].get("steps_s", {}).get("embed item text")
    if warm_embed:
        rates["warm_texts_per_s"] = round(size["data"]["artists"] / warm_embed, 1)
    return rates


def _footnote(run: dict) -> str:
    return ("" if run.get("measured") else "*") + ("†" if run.get("stand_in_vectors") else "")


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = report["sizes"]
    x = [size["data"]["interactions"] for size in sizes]
    figure, (times, memory, steps) = plt.subplots(1, 3, figsize=(17, 5))
    for mode, color in (("cold", "tab:red"), ("warm", "tab:blue")):
        points = [
            (xi, s["runs"][mode]) for xi, s in zip(x, sizes, strict=True) if mode in s["runs"]
        ]
        done = [(xi, run) for xi, run in points if run.get("complete") and "wall_s" in run]
        measured = [(xi, run["wall_s"] / 60) for xi, run in done if run.get("measured")]
        guessed = [(xi, run["wall_s"] / 60) for xi, run in done if not run.get("measured")]
        if measured:
            times.plot(*np.transpose(measured), "o-", color=color, label=f"{mode} (measured)")
        if guessed:
            times.plot(
                *np.transpose(guessed), "o", mfc="none", color=color, label=f"{mode} (extrapolated)"
            )
        rss = [(xi, run["peak_rss_mb"] / 1024) for xi, run in done if "peak_rss_mb" in run]
        if rss:
            memory.plot(*np.transpose(rss), "o-", color=color, label=mode)
    for axis, label in ((times, "build wall time (min)"), (memory, "peak RSS (GiB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("interactions (artists = interactions / 10)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    bars = [
        (f"{s['size']} {mode}" + _footnote(run), run["steps_s"])
        for s in sizes
        for mode, run in s["runs"].items()
        if "steps_s" in run and mode in ("cold", "warm")
    ]
    step_names = list(dict.fromkeys(name for _, steps_s in bars for name in steps_s))
    left = np.zeros(len(bars))
    for name in step_names:
        widths = np.array([steps_s.get(name, 0.0) / 60 for _, steps_s in bars])
        steps.barh([label for label, _ in bars], widths, left=left, label=name)
        left += widths
    steps.set_xlabel("minutes per build step (* extrapolated, † on stand-in vectors)")
    steps.legend(fontsize=8)
    cpu = report["machine"]["lscpu"].get("Model name", "?")
    figure.suptitle(
        f"recsplain build on synthetic music data; {cpu}, {report['machine']['cores']} cores"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)


app = typer.Typer(add_completion=False)


@app.command()
def run(
    sizes: Annotated[str, typer.Option(help=f"Comma-separated, of {', '.join(SIZES)}.")] = (
        "100k,1m,10m"
    ),
    cold_max_items: Annotated[
        int, typer.Option(help="Largest catalog embedded cold; above, the rate is sampled.")
    ] = 100_000,
    sample: Annotated[int, typer.Option(help="Texts encoded to measure the rate.")] = 5000,
    timeout_s: Annotated[float, typer.Option(help="Per child; a killed run keeps its steps.")] = (
        4 * 3600
    ),
    json_path: Annotated[Path, typer.Option("--json")] = RESULTS_DIR / "scale.json",
) -> None:
    """Measure each size and write the JSON report and the png next to it."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    report = json.loads(json_path.read_text()) if json_path.exists() else {"sizes": []}
    report["machine"] = machine()
    report["method"] = __doc__.split("\n\n")[1].replace("\n", " ")
    for name in sizes.split(","):
        result = measure_size(name, cold_max_items, sample, timeout_s)
        result["embedding_rates"] = embedding_rates(result)
        report["sizes"] = [s for s in report["sizes"] if s["size"] != name] + [result]
        report["sizes"].sort(key=lambda s: SIZES[s["size"]][0])
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        plot(report, json_path.with_suffix(".png"))
        log.info("%s done: %s", name, {m: r.get("wall_s") for m, r in result["runs"].items()})


@app.command()
def rate(
    size: Annotated[str, typer.Option(help="A size that `run` has generated.")] = "10m",
    sample: Annotated[int, typer.Option(help="Texts encoded.")] = 5000,
    json_path: Annotated[Path, typer.Option("--json")] = RESULTS_DIR / "scale.json",
) -> None:
    """Add one encoder rate measurement to the report, e.g. on an idle machine for comparison."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    folder = WORK_DIR / size
    arguments = ["rate", "--config", folder / "config.yaml", "--sample", str(sample)]
    result = run_child(arguments, folder / "rate.json", timeout_s=3600)
    wanted = ("texts_per_s", "texts_per_cpu_s", "sample_texts", "cpu_share_of_machine")
    wanted += ("loadavg_before", "loadavg_1m_mean")
    entry = {"size": size, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    entry |= {key: result.get(key) for key in wanted}
    report = json.loads(json_path.read_text())
    report.setdefault("encoder_rates", []).append(entry)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    log.info("encoder rate: %s", entry)


@app.command("plot")
def plot_command(json_path: Annotated[Path, typer.Option("--json")] = RESULTS_DIR / "scale.json"):
    """Redraw the png from the JSON report."""
    plot(json.loads(json_path.read_text()), json_path.with_suffix(".png"))


@app.command()
def child(
    task: Annotated[str, typer.Argument(help="build, rate or stand-in")],
    config: Annotated[Path, typer.Option()],
    report: Annotated[Path, typer.Option()],
    out: Annotated[Path | None, typer.Option()] = None,
    sample: Annotated[int, typer.Option()] = 5000,
) -> None:
    """One measured task in its own process (what `run` starts)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for name in ("sentence_transformers", "faiss.loader", "httpx", "filelock"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if task == "build":
        child_build(config, out, report)
    else:
        child_encoder_rate(config, report, sample, stand_in=task == "stand-in")


if __name__ == "__main__":
    app()
