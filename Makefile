# E-Case — the two commands are `make run` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
export ECASE_DATA_DIR ?= $(abspath data)
SERVICES := gateway intake approval payment reporting
STAGES := intake approval payment reporting

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## create the virtual environment and install everything

migrate: install ## migrate every service database (SQLite under $$ECASE_DATA_DIR unless ECASE_DATABASE_URL is set)
	@for svc in $(SERVICES); do echo "migrating $$svc"; $(BIN)/python -m services.$$svc.manage migrate || exit 1; done

seed: migrate ## load reference data (districts, banks, welfare catalogue)
	$(BIN)/python -m services.intake.manage seed

demo: seed ## load the demo users of CONTRACT.md
	$(BIN)/python -m services.gateway.manage seed-demo

run: demo ## start every service, worker and relay; the gateway on http://127.0.0.1:8000 (Ctrl-C stops all)
	@echo "E-Case: http://127.0.0.1:$${ECASE_GATEWAY_PORT:-8000}  (data in $$ECASE_DATA_DIR)"
	exec $(BIN)/honcho --no-colour -f deploy/Procfile -d . start

lint: install ## ruff, formatting and the import contracts (services never import each other)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: install ## format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint ## lint, then the whole test suite (PostgreSQL and Redis on localhost)
	$(BIN)/python -m pytest $(T)

test-unit: install ## unit tests only
	$(BIN)/python -m pytest -m unit $(T)

chaos: install ## fault injection (reliability R1–R11): 1,000 events and a payout batch under kills, Redis restarts, PostgreSQL terminations; make chaos EVENTS=… SEED=…
	$(BIN)/python -m tests.chaos.run --events $${EVENTS:-1000} $(if $(SEED),--seed $(SEED))

bench: install ## every benchmark under tests/perf (prints figures; never fails on speed; needs PostgreSQL and Redis)
	@for b in tests/perf/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

load: install ## load test: Locust, 50 district officers for 10 min on PostgreSQL + Redis (JSON; fails on errors, never on speed; LOAD_ARGS="--terminate-pg-at 300": R11)
	$(BIN)/python tests/load/run.py $(LOAD_ARGS)

.PHONY: load

worker: install ## run one worker: make worker SVC=intake
	$(BIN)/celery -A services.$(SVC).worker:celery_app worker -Q $(SVC) -n $(SVC)@%h -c 2 --prefetch-multiplier 1 --loglevel INFO

up: ## production shape with Docker: docker compose up
	docker compose up -d --build

down: ## stop the Docker stack
	docker compose down

clean-data: ## delete the embedded run's data folder
	rm -rf data

.PHONY: help install migrate seed demo run lint fmt test test-unit bench worker up down clean-data
