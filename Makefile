# Two entry points: `make repro` (the pipeline on the embedded default) and `make test`.
# Both keep their environment in .venv/ at the repository root.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# torch is installed on its own, before everything else, so that no other package pulls a
# multi-GB CUDA build by accident. On the project's CI machines pip finds this exact CPU
# wheel on local disk; on a user's GPU box the same pin comes from PyPI with CUDA.
# Override with e.g. `make repro TORCH_SPEC='torch==2.14.1'`.
TORCH_SPEC ?= torch==2.13.0
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.installed-ray

export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export DVC_NO_ANALYTICS := 1

.PHONY: setup repro test bench clean-venv

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(PIP) install "$(TORCH_SPEC)" 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import torch; print('torch', torch.__version__)"
	$(PIP) install -r requirements.txt 2>&1 | grep -v '^WARNING: Location' || true
	$(PIP) install --no-deps --no-build-isolation -e . 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import benchmark, captum, mlflow, dvc, skimage, sklearn, pandas, jinja2"
	touch $(STAMP)

# DVC stages call `benchmark ...`: put the environment's bin/ first on PATH, as `activate` would.
# `benchmark repro` checks every submission's stage file first, then runs `dvc repro`.
repro: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/benchmark repro

# The Ray backend is an optional extra for users (`pip install .[ray]`); the tests always cover it.
$(RAY_STAMP): $(STAMP) requirements-ray.txt
	$(PIP) install -r requirements-ray.txt 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import ray; print('ray', ray.__version__)"
	touch $(RAY_STAMP)

test: $(STAMP) $(RAY_STAMP)
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmark.perf --profile default

clean-venv:
	rm -rf $(VENV)
