# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install install-spark demo test lint unit bench clean clean-data manifest airflow docs test-fast \
	system-deps

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

SPARK_STAMP := $(VENV)/.installed-spark

install-spark: $(SPARK_STAMP) ## add Apache Spark (pyspark + dbt-spark, ~0.5 GB) to .venv: `ecom build --engine spark`

$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	@echo "==> adding Spark to $(VENV) from requirements-spark.lock"
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-spark.lock -c requirements.lock
	@touch $@
	@$(BIN)/python -c "from pipeline.build.spark import spark_missing as m; print('==> ' + (m() or 'Spark is ready'))"

demo: install ## generate, build, test and publish the demo window, then print a summary
	@$(BIN)/ecom run
	@$(BIN)/ecom summary

test: install lint unit ## lint + the whole test suite

lint: install ## ruff and sqlfluff (dbt templater)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ECOM_BUILD_DB=:memory: ../$(BIN)/sqlfluff lint models --disable-progress-bar

# Two pytest-xdist workers: a build keeps about one core busy, and much of the rest is waiting on servers.
# Modules (and the modules sharing an expensive fixture) stay on one worker (tests/conftest.py); TEST_WORKERS=0
# runs the suite in this process, in the same order.
TEST_WORKERS ?= 2

unit: install manifest ## pytest: the whole suite (unit, end-to-end, DAG, dbt, PostgreSQL, browser tests)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

test-fast: install manifest ## the unit-level tests only: no servers, browsers or built runs (~1-2 min)
	$(BIN)/pytest -m "not slow and not integration"

# Debian packages of the browser, PostgreSQL, Redis and compose tests. `make test` never installs them itself
# (that needs root and changes the machine): without them those tests are skipped, each kind with one line.
SYSTEM_PACKAGES := chromium postgresql docker-compose openjdk-17-jre-headless redis-server wrk

system-deps: ## install the Debian packages the browser, PostgreSQL, Redis and compose tests need (root + apt-get)
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| command -v google-chrome >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
		|| missing="$$missing postgresql"; \
	command -v docker-compose >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	command -v java >/dev/null 2>&1 || missing="$$missing openjdk-17-jre-headless"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	if [ -z "$$missing" ]; then echo "==> system packages present: $(SYSTEM_PACKAGES)"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "make system-deps: needs root and apt-get; run: sudo apt-get install$$missing" >&2; exit 1; fi; \
	echo "==> installing system packages:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -path dbt_project/logs -prune \
	-o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)

manifest: $(MANIFEST) ## dbt parse -> dbt_project/target/manifest.json (the refresh DAG renders its tasks from it)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && DBT_SEND_ANONYMOUS_USAGE_STATS=false ECOM_BUILD_DB=:memory: \
		../$(BIN)/dbt parse --profiles-dir . --quiet
	@touch $@

airflow: install manifest ## Airflow standalone on http://localhost:8080 (ECOM_AIRFLOW_PORT) with this project's DAGs
	airflow/standalone.sh

docs: install ## dbt docs (models, columns, lineage, exposures) into ECOM_DATA_DIR/dbt/target (default data/)
	@$(BIN)/python -c "from pipeline.build.dbt import generate_docs; from pipeline.settings import Settings; \
	target = generate_docs(Settings.load()); print(f'dbt docs: {target / \"index.html\"}'); \
	print(f'serve them: .venv/bin/dbt docs serve --project-dir dbt_project --profiles-dir dbt_project --target-path {target}')"

.PHONY: bi bi-stop dashboard
DASHBOARD_ADDRESS ?= 127.0.0.1

bi: install ## serve the published marts over PostgreSQL for BI tools; prints the bi_reader URL
	$(BIN)/ecom serve

bi-stop: install ## stop the local PostgreSQL server `make bi` started
	$(BIN)/ecom serve --stop

.PHONY: redis redis-stop api
redis: install ## start the local Redis server for the API (ECOM_REDIS_PORT) and load the published marts into it
	$(BIN)/ecom redis

redis-stop: install ## stop the local Redis server `make redis` started
	$(BIN)/ecom redis --stop

api: install ## the HTTP API on http://127.0.0.1:8000 (ECOM_API_PORT), docs at /docs
	$(BIN)/ecom api

dashboard: install ## the dashboard over the published marts on http://127.0.0.1:8501 (ECOM_DASHBOARD_PORT)
	$(BIN)/streamlit run dashboard/app.py --server.port $${ECOM_DASHBOARD_PORT:-8501} \
		--server.address $(DASHBOARD_ADDRESS) --server.headless true --browser.gatherUsageStats false

bench: install manifest ## run every benchmark (small + medium, a year each): bench/report.md, bench/baselines/<date>.json
	$(BIN)/python -m bench.report

clean-data: ## delete generated data (data/)
	rm -rf data

clean: clean-data ## delete data, .venv and build outputs
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
