# Tablée: `make run` serves the product on its embedded defaults; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-deps
DEV_STAMP := $(VENV)/.dev-deps

.PHONY: run test lint types unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch is installed alone and first, pinned: a torch resolved by sentence-transformers
# would be a multi-GB CUDA build.
$(RUN_STAMP): requirements/base.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements/base.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): requirements/dev.txt $(RUN_STAMP)
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

run: $(RUN_STAMP)
	$(BIN)/tablee serve --create-event "Tablée demo" --rooms 4

test: $(DEV_STAMP)
	scripts/check
	scripts/test

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(DEV_STAMP)
	$(BIN)/python bench/themes.py
	$(BIN)/python bench/fanout.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tablee.db tablee.db-* tablee.db.secret
