# The two commands of README.md: `make run` (embedded default + demo) and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install run down test lint bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

run: install
	$(BIN)/liangdi up --detach
	$(BIN)/liangdi demo

down: install
	$(BIN)/liangdi down

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install
	bash scripts/ensure-backends.sh
	$(BIN)/ruff check .
	$(BIN)/pytest -q -p no:cacheprovider

bench: install
	bash scripts/ensure-backends.sh
	$(BIN)/liangdi bench
