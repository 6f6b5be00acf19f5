# Two commands on a fresh machine with only Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# One BLAS thread: results that go through BLAS kernels must not depend on the core count.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0

.PHONY: install run check test lint demo-data clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The whole pipeline on the bundled demo data (Snakemake picks up workflow/profiles/default).
run: $(STAMP)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default

# Validate config/config.yaml and every input it names, in seconds; writes nothing.
check: $(STAMP)
	$(BIN)/python -m sahel_eval check --config config/config.yaml

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/ruff format --check src tests workflow/scripts benchmarks
	$(BIN)/snakemake --lint

# Regenerates the bundled demo data (byte-identical to what is committed).
demo-data: $(STAMP)
	$(BIN)/python -m sahel_eval.synth --out data/raw

clean:
	rm -rf results/* logs reports/*.html reports/*.pdf
