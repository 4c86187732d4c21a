"""What the machine under the LLM engine can do, and the engine settings that follow from it.

bfloat16 is fast only where the CPU computes it natively (AVX512-BF16 or AMX) or on a GPU. On an
AVX2-only CPU vLLM falls back to slow emulated kernels: measured 5.4 output tok/s in bf16 against
24 tok/s in float32 on the same prompts. So `dtype: auto` is resolved here, once, where the engine
runs, and the benchmarks' baselines use the same rule.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

# The ISA flags that decide the engine's speed on CPU; the rest of /proc/cpuinfo is noise.
RELEVANT_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# oneDNN ISA caps (ONEDNN_MAX_CPU_ISA) that still include bf16 arithmetic.
_BF16_ISA_CAPS = ("BF16", "AMX", "AVX10", "FP16")


@dataclass(frozen=True)
class CpuInfo:
    model: str
    cores: int
    flags: tuple[str, ...]
    isa_cap: str | None  # ONEDNN_MAX_CPU_ISA, when set: it hides flags from the kernels

    @property
    def native_bf16(self) -> bool:
        cap = (self.isa_cap or "ALL").upper()
        capped_below_bf16 = cap not in ("ALL", "DEFAULT") and not any(
            part in cap for part in _BF16_ISA_CAPS
        )
        return not capped_below_bf16 and not NATIVE_BF16_FLAGS.isdisjoint(self.flags)

    def as_dict(self) -> dict:
        return {**asdict(self), "flags": list(self.flags), "native_bf16": self.native_bf16}


def parse_cpuinfo(text: str) -> tuple[str, tuple[str, ...]]:
    """The model name and the relevant ISA flags of the first processor in /proc/cpuinfo."""
    model, flags = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, tuple(flag for flag in RELEVANT_FLAGS if flag in flags)


@cache
def cpu_info() -> CpuInfo:
    proc = Path("/proc/cpuinfo")
    model, flags = parse_cpuinfo(proc.read_text()) if proc.exists() else ("", ())
    return CpuInfo(
        model=model or platform.processor() or platform.machine(),
        cores=os.cpu_count() or 1,
        flags=flags,
        isa_cap=os.environ.get("ONEDNN_MAX_CPU_ISA"),
    )


def resolve_dtype(requested: str, accelerator: str, cpu: CpuInfo | None = None) -> str:
    """`auto` becomes bfloat16 on a GPU or a CPU with native bf16, float32 on other CPUs;
    an explicit dtype is kept as given."""
    if requested != "auto":
        return requested
    if accelerator == "gpu":
        return "bfloat16"
    return "bfloat16" if (cpu or cpu_info()).native_bf16 else "float32"


def usable_cores(cgroup_cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> list[int]:
    """The cores this process may run on, cut to its cgroup CPU quota: a Kubernetes pod limited
    to 2 CPUs still sees every core of its node in its affinity mask."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cores = cores or list(range(os.cpu_count() or 1))
    try:
        quota, period = cgroup_cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return cores[: max(1, int(int(quota) / int(period)))]


# The engine's model runs in its engine-core process, not in a worker process of its own: one
# import of torch and vLLM fewer per start (a precompute's async engine on SmolLM2 was ready after
# 38-39 s instead of 51-61 s on a 2-core AMD EPYC, at the same explanations/s), and the offline
# engine runs in the calling process. Only for the offline engines: Ray Serve LLM asks vLLM for
# its multiprocess executor on CPU anyway, and with this set in its replica admission refused a
# call in every served request (4 of 4 against 0 of 4, served_k3, 4 users): most likely admission's
# own spiral, since fixed (serve/explain/admission.py), which that A/B caught at different stages.
ONE_PROCESS_ENGINE = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0"}


def cpu_env(
    threads_bind: str, reserved_cores: int | None, one_process: bool = True
) -> dict[str, str]:
    """vLLM's CPU engine settings as the environment variables it reads. For
    VLLM_CPU_OMP_THREADS_BIND, 'all' binds one thread to every usable core, and 'auto' keeps
    vLLM's own choice (one core left to its scheduler process: half of a 2-core machine)."""
    if threads_bind == "all":
        threads_bind = ",".join(str(core) for core in usable_cores())
    env = {"VLLM_CPU_OMP_THREADS_BIND": threads_bind}
    if one_process:
        env.update(ONE_PROCESS_ENGINE)
    if reserved_cores is not None:
        env["VLLM_CPU_NUM_OF_RESERVED_CPU"] = str(reserved_cores)
    return env


def set_engine_env(
    accelerator: str, threads_bind: str, reserved_cores: int | None, one_process: bool = True
) -> dict[str, str]:
    """Before an engine starts in this process: the engine's CPU threads (`cpu_env`), which vLLM
    reads from the environment; returns what it set (nothing on a GPU). The served engine, the
    batch engine and the bench's offline baseline all start through here: an engine started
    without them runs on one of two cores, and a baseline that skipped this measured half a
    machine."""
    if accelerator != "cpu":
        return {}
    env = cpu_env(threads_bind, reserved_cores, one_process)
    os.environ.update(env)
    return env
