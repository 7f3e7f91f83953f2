# presscut: one target per verb.  Needs Python >= 3.11 and make; nothing else.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## demo: serve the bundled sites on loopback, crawl them, show the clippings
demo: $(VENV)/.installed
	$(BIN)/presscut demo

## test: the whole suite (PostgreSQL/Redis tests skip when absent, unless
## PRESSCUT_REQUIRE_SERVICES=1)
test: $(VENV)/.installed-dev
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: every benchmark script; figures go to docs/benchmarks.md by hand
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/repoll.py
	$(BIN)/python benchmarks/faults.py
	@if [ -f benchmarks/memory.py ]; then $(BIN)/python benchmarks/memory.py; fi
	$(BIN)/python benchmarks/store.py

clean:
	rm -rf $(VENV) data/demo .pytest_cache .ruff_cache
