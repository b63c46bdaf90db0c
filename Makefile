# Jejak: `make run` starts the system, `make test` runs every test. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEB_ASSETS := services/web/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium

SYSTEM_PACKAGES := fonts-liberation poppler-utils

# The chart's checks (deploy/helm/jejak): Helm from the Go module proxy, checkov from PyPI, each
# built once into .tools/ under its version.
TOOLS := .tools
HELM_VERSION := v4.3.2
HELM := $(TOOLS)/helm-$(HELM_VERSION)/helm
CHECKOV_VERSION := 3.3.30
CHECKOV := $(TOOLS)/checkov-$(CHECKOV_VERSION)/bin/checkov
CHART := deploy/helm/jejak
RENDERED := $(TOOLS)/rendered

.PHONY: system-packages install run stack-up stack-down test lint chart-lint bench chaos clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(WEB_ASSETS): services/web/package.json services/web/package-lock.json
	npm ci --prefix services/web --no-audit --no-fund --loglevel=error
	touch $@

$(CHROMIUM): ## the browser of the web app's tests: Debian's package (Playwright cannot download one)
	apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null \
	  || (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null)

system-packages: ## Debian's: the documents' font (Liberation Sans) and pdftoppm for their tests
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES); }

install: $(BIN)/.installed system-packages $(WEB_ASSETS)

run: install ## Kafka + PostgreSQL (data kept in .jejak/) in the foreground; Ctrl-C stops
	$(BIN)/python -m devstack run

stack-up: install ## the same in the background
	$(BIN)/python -m devstack up

stack-down: install
	$(BIN)/python -m devstack down

$(HELM):
	GOBIN=$(abspath $(@D)) go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

$(CHECKOV): ## its own venv: its dependencies stay out of the services'
	$(PYTHON) -m venv $(TOOLS)/checkov-$(CHECKOV_VERSION)
	$(TOOLS)/checkov-$(CHECKOV_VERSION)/bin/pip install -q checkov==$(CHECKOV_VERSION)

chart-lint: $(BIN)/.installed $(HELM) $(CHECKOV) ## the Helm chart: lint, render, validate, scan
	$(HELM) lint --strict $(CHART)
	$(HELM) lint --strict $(CHART) -f $(CHART)/values-production.yaml
	@mkdir -p $(RENDERED)
	$(HELM) template jejak $(CHART) -n jejak > $(RENDERED)/default.yaml
	$(HELM) template jejak $(CHART) -n jejak -f $(CHART)/values-production.yaml > $(RENDERED)/production.yaml
	HELM=$(abspath $(HELM)) $(BIN)/pytest tests/deploy -q -p no:cacheprovider
	$(CHECKOV) --quiet --compact --config-file deploy/helm/checkov.yaml -d $(RENDERED)

lint: install chart-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install lint $(CHROMIUM) ## every test, against a throwaway real Kafka, PostgreSQL and Chromium
	HELM=$(abspath $(HELM)) $(BIN)/pytest

bench: install ## every benchmark of docs/benchmarks.md: store, relay, latency, replay, documents (~12 min)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.replay
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.documents

chaos: install ## fault injection, long form: 120 SIGKILLs (3 Kafka brokers) over 30 users' requests (~25 min)
	$(BIN)/python -m bench.chaos --flows 30 --kills 120 --brokers 3

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
