# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install demo test lint unit dbt-test clean clean-data

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## build .venv from the lock file (a no-op when up to date)

$(STAMP): requirements.lock pyproject.toml
	@echo "==> building $(VENV) from requirements.lock"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)
	@echo "==> $(VENV) is ready: $$($(BIN)/ecom --version)"

demo: install ## generate, build, test and publish the demo window, then print a summary
	$(BIN)/ecom run
	$(BIN)/ecom summary

test: install lint unit ## lint + the whole test suite

lint: install ## ruff and sqlfluff (dbt templater)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ECOM_BUILD_DB=:memory: ../$(BIN)/sqlfluff lint models --disable-progress-bar

unit: install ## pytest (unit, end-to-end, DAG and dbt tests)
	$(BIN)/pytest

clean-data: ## delete generated data (data/)
	rm -rf data

clean: clean-data ## delete data, .venv and build outputs
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
