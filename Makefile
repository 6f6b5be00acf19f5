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

.PHONY: install run check test browser slurm lint report demo-data clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The whole pipeline on the bundled demo data (workflow/profiles/default). A run killed
# half-way resumes with the same command: sahel_eval.resume removes a lock no live
# Snakemake holds, and the profile reruns incomplete jobs.
SNAKEMAKE := $(BIN)/python -m sahel_eval.resume --workflow-profile workflow/profiles/default

run: $(STAMP)
	$(SNAKEMAKE)

# Snakemake's browsable record of the run (kept out of the checksum manifest).
report: run
	$(SNAKEMAKE) --report reports/snakemake_report.zip

# Validate config/config.yaml and every input it names, in seconds; writes nothing.
check: $(STAMP)
	$(BIN)/python -m sahel_eval check --config config/config.yaml

test: $(STAMP) browser slurm
	$(BIN)/python -m pytest

# Headless Chromium and its driver for the report tests (Debian packages, never a
# downloaded browser). Installed with apt where we are root; elsewhere the browser
# tests are skipped unless SAHEL_EVAL_REQUIRE_BROWSER=1 (set by .ci/run) fails them.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium and chromium-driver with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium chromium-driver >/dev/null; \
	  else \
	    echo "chromium/chromedriver missing and not installable here: browser tests skip"; \
	  fi; \
	fi

# Slurm for tests/test_slurm_profile.py: Debian's Slurm and munge (apt, where we are root;
# elsewhere the test is skipped unless SAHEL_EVAL_REQUIRE_SLURM=1, set by .ci/run, fails
# it) and .venv-slurm, which sees .venv's packages through a .pth file and adds only the
# pinned executor plugin (requirements-slurm.lock). The plugin stays out of .venv: where
# Slurm's client tools are installed and no controller answers, it slows every snakemake
# call by ~10 s. The test starts and stops the cluster itself (tests/slurm/).
SLURM_VENV := .venv-slurm
SLURM_STAMP := $(SLURM_VENV)/.installed

slurm: $(SLURM_STAMP)
	@if ! test -x /usr/sbin/slurmctld || ! test -x /usr/sbin/slurmd || ! test -x /usr/sbin/munged \
	    || ! command -v sbatch >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing slurmctld, slurmd, slurm-client and munge with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; \
	  else \
	    echo "Slurm missing and not installable here: the Slurm profile test skips"; \
	  fi; \
	fi

$(SLURM_STAMP): requirements-slurm.lock $(STAMP)
	rm -rf $(SLURM_VENV)
	$(BIN)/python -m venv $(SLURM_VENV)
	main=$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  own=$$($(SLURM_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  echo "import site; site.addsitedir('$$main')" > "$$own/sahel_eval_main_venv.pth"
	$(SLURM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-slurm.lock
	$(SLURM_VENV)/bin/python -c 'import sahel_eval, snakemake_executor_plugin_slurm_jobstep'
	touch $(SLURM_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/ruff format --check src tests workflow/scripts benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

# Regenerates the bundled demo data (byte-identical to what is committed).
demo-data: $(STAMP)
	$(BIN)/python -m sahel_eval.synth --out data/raw

clean:
	rm -rf results/* logs reports/*.html reports/*.pdf reports/manifest.sha256 \
	  reports/run_metadata.json reports/snakemake_report.zip
