# Jejak: `make run` starts the system, `make test` runs every test. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run stack-up stack-down test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install ## Kafka + PostgreSQL (data kept in .jejak/) in the foreground; Ctrl-C stops
	$(BIN)/python -m devstack run

stack-up: install ## the same in the background
	$(BIN)/python -m devstack up

stack-down: install
	$(BIN)/python -m devstack down

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install lint ## every test, against a throwaway real Kafka and PostgreSQL
	$(BIN)/pytest

bench: install ## every benchmark of docs/benchmarks.md: store, relay, latency, replay (~10 min)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.replay

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
