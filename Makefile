# Two commands on a fresh machine (Python 3.11 + make):
#   make demo   set up .venv, run the Calvano et al. (2020) baseline with its figures
#   make test   set up .venv, run the whole test suite
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench docs clean

setup: $(STAMP)

# torch first, pinned to the CPU build on this machine's disk, so that ray[rllib]
# cannot pull a multi-GB CUDA build; a second `make setup` is a no-op (stamp file).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[rllib,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/marketsai run experiments/calvano2020/baseline.yaml --out runs/calvano2020-baseline

# the suite on TEST_WORKERS processes (default: one per core), each test file whole on one
# worker (its module fixtures -- a local Ray, a trained run -- built once); TEST_WORKERS=0: one process
TEST_WORKERS ?= auto
test: $(STAMP)
	RAY_USAGE_STATS_ENABLED=0 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# the documentation site into site/ (strict: a broken link or reference fails the build);
# `$(VENV)/bin/mkdocs serve` previews it. First: every generated results table agrees with
# the committed CSV it quotes (`$(PY) docs/tables.py` rewrites them), and every number in the
# pages' prose is in one of the page's sources or allow-listed (`$(PY) docs/tables.py --prose`
# lists them by page and line).
docs: $(STAMP)
	$(PY) docs/tables.py --check
	$(PY) docs/tables.py --prose --check
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) .pytest_cache site
