#!/usr/bin/env bash
# `make airflow`: Airflow standalone (SQLite metadata, LocalExecutor) with this project's DAGs and pool.
#
#   AIRFLOW_HOME           where Airflow keeps its config, SQLite database and logs (default: airflow/home, git-ignored)
#   ECOM_AIRFLOW_PORT      UI / REST API port (default 8080)
#   ECOM_AIRFLOW_USER      login (default admin)
#   ECOM_AIRFLOW_PASSWORD  password; when unset one is generated on first start and kept in $AIRFLOW_HOME
#   ECOM_*                 the pipeline settings (data dir, scale, seed...), as for the `ecom` CLI
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$REPO/.venv/bin:$PATH"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$REPO/airflow/home}"
PORT="${ECOM_AIRFLOW_PORT:-8080}"
USER_NAME="${ECOM_AIRFLOW_USER:-admin}"
PASSWORDS="$AIRFLOW_HOME/passwords.json"

export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="$USER_NAME:admin"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$PASSWORDS"
export AIRFLOW__API__PORT="$PORT"
# Loopback only by default; set AIRFLOW__API__HOST=0.0.0.0 to expose the UI on the network on purpose.
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
export AIRFLOW__API__BASE_URL="http://localhost:$PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://localhost:$PORT/execution/"
# New lake partitions should reach the UI and the refresh DAG quickly on a laptop.
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-30}"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false

if [ ! -f "$REPO/dbt_project/target/manifest.json" ]; then
  echo "dbt manifest missing: run \`make manifest\` (or \`make airflow\`) first" >&2
  exit 2
fi
mkdir -p "$AIRFLOW_HOME"

# The simple auth manager reads {user: password} from this file and only generates passwords for users missing
# from it. Writing it ourselves lets the password come from the environment, or stay stable across restarts.
python "$REPO/airflow/set_password.py" "$PASSWORDS" "$USER_NAME"

airflow db migrate >/dev/null
airflow pools set ecommerce_duckdb 1 "single writer of the build DuckDB (dbt tasks and publish)" >/dev/null

PASSWORD="$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$PASSWORDS" "$USER_NAME")"
echo "==> Airflow UI: http://localhost:$PORT   login: $USER_NAME / $PASSWORD   (kept in $PASSWORDS)"
echo "==> ecommerce_marts_refresh runs when the lake changes; unpause ecommerce_generate_daily to generate the demo window"
echo "    (opening date to ECOM_END; with ECOM_AIRFLOW_CATCHUP=false unpausing schedules nothing: trigger or backfill by hand)"
exec airflow standalone
