#!/usr/bin/env bash
# The benchmark suite on a GPU machine, self-contained: set up, fetch a real model, run the LLM
# stage comparison and the concurrency sweep, and write the same results format (< ~10 min).
#   MODEL=Qwen/Qwen2.5-1.5B-Instruct bash benchmarks/gpu.sh      (needs the HF Hub, or a folder)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${MODEL:-Qwen/Qwen2.5-1.5B-Instruct}"
make setup
.venv/bin/recsplain prepare-model --source "$MODEL" --out "models/gpu-model"
test -f artifacts/default/manifest.json || .venv/bin/recsplain build --out artifacts/default
export RECSPLAIN_LLM__MODEL_SOURCE=models/gpu-model RECSPLAIN_LLM__ACCELERATOR=gpu
export RECSPLAIN_LLM__ENGINE_KWARGS='{"enforce_eager": false, "max_model_len": 4096, "max_num_seqs": 256, "gpu_memory_utilization": 0.85, "enable_prefix_caching": true, "dtype": "auto"}'
export HF_HUB_OFFLINE=0
.venv/bin/python -m benchmarks.run "$@"
