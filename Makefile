# Jejak: `make run` starts the system, `make test` runs every test. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

SYSTEM_PACKAGES := fonts-liberation poppler-utils

.PHONY: system-packages install run stack-up stack-down test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

system-packages: ## Debian's: the documents' font (Liberation Sans) and pdftoppm for their tests
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES); }

install: $(BIN)/.installed system-packages

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
