"""`dtype: auto` follows the hardware: bf16 only where it is native, float32 on other CPUs."""

from __future__ import annotations

import os

import pytest

from serve.hardware import (
    CpuInfo,
    cpu_env,
    cpu_info,
    parse_cpuinfo,
    resolve_dtype,
    set_engine_env,
    usable_cores,
)

AVX2_ONLY = "model name\t: AMD EPYC 7B12\nflags\t\t: fpu sse2 avx avx2 fma\n"
SAPPHIRE = (
    "model name\t: Intel Xeon\nflags\t\t: avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16\n"
)


def cpu(text: str, isa_cap: str | None = None) -> CpuInfo:
    model, flags = parse_cpuinfo(text)
    return CpuInfo(model, 2, flags, isa_cap)


def test_cpuinfo_is_read_for_the_model_and_the_flags_that_matter():
    model, flags = parse_cpuinfo(SAPPHIRE + "\nmodel name\t: other\nflags\t\t: sse\n")
    assert model == "Intel Xeon"
    assert flags == ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")


@pytest.mark.parametrize(
    ("text", "isa_cap", "accelerator", "expected"),
    [
        (AVX2_ONLY, None, "cpu", "float32"),
        (SAPPHIRE, None, "cpu", "bfloat16"),
        # oneDNN capped below bf16 (how an AVX-512 machine imitates an AVX2-only one).
        (SAPPHIRE, "AVX2", "cpu", "float32"),
        (SAPPHIRE, "AVX512_CORE_AMX", "cpu", "bfloat16"),
        (AVX2_ONLY, None, "gpu", "bfloat16"),
    ],
)
def test_auto_resolves_by_hardware(text, isa_cap, accelerator, expected):
    assert resolve_dtype("auto", accelerator, cpu(text, isa_cap)) == expected


def test_an_explicit_dtype_is_kept():
    assert resolve_dtype("bfloat16", "cpu", cpu(AVX2_ONLY)) == "bfloat16"


def test_this_machine_is_described():
    info = cpu_info().as_dict()
    assert info["model"] and info["cores"] >= 1 and isinstance(info["native_bf16"], bool)


def test_cpu_engine_environment():
    assert cpu_env("auto", None) == {
        "VLLM_CPU_OMP_THREADS_BIND": "auto",
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",  # no worker process of its own
    }
    assert cpu_env("auto", None, one_process=False) == {"VLLM_CPU_OMP_THREADS_BIND": "auto"}
    env = cpu_env("all", 0)
    assert env["VLLM_CPU_NUM_OF_RESERVED_CPU"] == "0"
    assert env["VLLM_CPU_OMP_THREADS_BIND"] != "all"


def test_every_engine_start_sets_its_threads_on_cpu_only(monkeypatch):
    for name in cpu_env("all", 0):
        # setenv records the variable's state, so the test's settings never reach a later engine
        monkeypatch.setenv(name, "before")
        monkeypatch.delenv(name)
    assert set_engine_env("gpu", "all", None) == {}
    assert "VLLM_CPU_OMP_THREADS_BIND" not in os.environ
    env = set_engine_env("cpu", "all", 0)
    assert env == cpu_env("all", 0)
    assert os.environ["VLLM_CPU_OMP_THREADS_BIND"] == env["VLLM_CPU_OMP_THREADS_BIND"]


def test_usable_cores_follow_the_cgroup_quota(tmp_path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    everything = usable_cores(cpu_max)
    assert everything and usable_cores(tmp_path / "missing") == everything
    cpu_max.write_text("100000 100000\n")  # a pod limited to one CPU
    assert usable_cores(cpu_max) == everything[:1]
