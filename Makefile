# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# Stages call `python -m leadscore`: put the venv first so dvc finds the installed package.
export PATH := $(BIN):$(PATH)
# No telemetry or update checks from an offline pipeline (see ../shared/STACK-NOTES.md).
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
# An absolute store, so `dvc exp run --temp/--queue` logs to this repo's store, not a copy's.
export MLFLOW_TRACKING_URI ?= sqlite:///$(abspath .)/mlflow.db

.PHONY: install run test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Run the whole pipeline on the embedded synthetic CRM; print model vs BANT vs the ceiling and where the benchmark page is.
run: install
	$(BIN)/dvc repro
	$(BIN)/python -m leadscore summary reports/metrics.json

## Install and run the tests.
test: install
	$(BIN)/python -m pytest

clean:
	rm -rf data/raw data/features data/predictions models/*.joblib reports/* .dvc/cache .dvc/tmp
