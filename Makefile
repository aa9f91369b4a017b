PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: install install-dev run test lint bench data clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP) $(DEVSTAMP)

install: $(STAMP)

install-dev: $(DEVSTAMP)

run: install
	mkdir -p var
	$(BIN)/backprop-lens serve --host 127.0.0.1 --port 8000

test: install-dev
	$(BIN)/ruff check engine app tests scripts
	$(BIN)/python -m pytest -q

lint: install-dev
	$(BIN)/ruff check engine app tests scripts

bench: install
	$(BIN)/backprop-lens bench --json

data: install
	$(BIN)/python scripts/build_data.py ../shared/data/mnist

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
