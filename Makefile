# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# Stages call `python -m leadscore`: put the venv first so dvc finds the installed package.
export PATH := $(BIN):$(PATH)
# No telemetry or update checks from an offline pipeline (see ../shared/STACK-NOTES.md).
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
# Stage processes and test workers import the same modules again and again: let Python keep their
# bytecode (git-ignored __pycache__/) even where the environment sets PYTHONDONTWRITEBYTECODE, which
# also makes pytest rewrite every test module's asserts in every worker (collection: 8.3 s -> 5.5 s).
unexport PYTHONDONTWRITEBYTECODE
# An absolute store, so `dvc exp run --temp/--queue` logs to this repo's store, not a copy's.
export MLFLOW_TRACKING_URI ?= sqlite:///$(abspath .)/mlflow.db
# uv installs exactly the pinned, hashed versions in requirements.lock; it never fetches a Python.
# --compile-bytecode: every pipeline stage and test subprocess would otherwise recompile pandas,
# scikit-learn and MLflow on import when .pyc files cannot be written (about 3 s of CPU each).
export UV_PYTHON_DOWNLOADS := never
UV := $(BIN)/uv

.PHONY: install lock run test test-fast check lint format typecheck imports clean

# The environment is exactly requirements.lock (regenerate it with `make lock` after editing
# pyproject.toml's dependencies). uv comes from the lock too, bootstrapped by pip once.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -m1 -E '^uv==' requirements.lock | cut -d' ' -f1)"
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

## Re-pin every dependency (after changing pyproject.toml); commit requirements.lock.
lock:
	$(UV) pip compile pyproject.toml --extra dev --extra dask --extra postgres --python-version 3.11 \
		--generate-hashes --no-header --quiet -o requirements.lock

## Run the whole pipeline on the embedded synthetic CRM; print model vs BANT vs the ceiling and where the benchmark page is.
run: install
	$(BIN)/dvc repro
	$(BIN)/python -m leadscore summary

# The tests train many tiny LightGBM models: OpenMP's default busy-waiting makes each crawl when the cores are
# shared (fast tier on a loaded 2-core machine: 100 s of CPU with the default, 43 s with PASSIVE).
TEST_ENV := OMP_WAIT_POLICY=PASSIVE
# pytest-xdist: one worker per core; loadfile keeps a module's tests on one worker (module fixtures are built
# once, the repro'd project's tests never race: tests/conftest.py); session fixtures are built once and shared
# between workers (tests/support.py built_once). `make test WORKERS=0` runs everything in one process.
WORKERS ?= auto
PYTEST := $(TEST_ENV) $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --durations=15

## Install and run every test (what CI runs), slowest 15 listed.
test: install
	$(PYTEST)

## Unit tests only (no pipeline runs, no servers): under a minute.
test-fast: install
	$(PYTEST) -m "not slow"

## Static checks CI runs before the tests: lint, format, types, layer contracts.
check: lint typecheck imports
	@echo "checks passed: ruff, ruff format, mypy, import-linter"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: install
	$(BIN)/mypy src

imports: install
	$(BIN)/lint-imports

## Remove pipeline outputs (the DVC cache stays: `dvc repro` restores from it).
clean:
	rm -rf data/raw data/features data/predictions models/*.json models/*.txt models/*.joblib reports/* .dvc/tmp
