"""
### ecommerce_marts_refresh

Rebuilds the marts whenever the generation DAG lands new lake partitions (Asset-scheduled), then publishes.

1. **build**: `dbt build` into `build.duckdb` (models, unit tests, data tests). Writes are serialized by the
   one-slot `ecommerce_duckdb` pool and `max_active_runs=1`.
2. **publish**: only when every test passed, the marts replace `ecommerce.duckdb` atomically.
3. **smoke_check**: the published file answers a query, read-only.

When a test fails, nothing is published and the build task's log names the failing tests.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from pipeline.assets import LAKE_ASSETS, MARTS_ASSET

DUCKDB_POOL = "ecommerce_duckdb"


@dag(
    dag_id="ecommerce_marts_refresh",
    schedule=LAKE_ASSETS,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ecommerce", "dbt", "marts"],
    default_args={"owner": "data-platform", "retries": 2, "retry_exponential_backoff": True},
    params={
        "full_refresh": Param(False, type="boolean", description="Rebuild incremental models from scratch."),
        "select": Param("", type="string", description="dbt selector, e.g. 'dm_kpi_daily+' (empty: all)."),
    },
)
def ecommerce_marts_refresh():
    @task(pool=DUCKDB_POOL, retries=0, execution_timeout=pendulum.duration(hours=1))
    def build(params=None) -> dict:
        from pipeline.tasks import build_marts

        return build_marts(full_refresh=bool(params["full_refresh"]), select=params["select"])

    @task(pool=DUCKDB_POOL, outlets=[MARTS_ASSET], execution_timeout=pendulum.duration(minutes=15))
    def publish() -> dict:
        from pipeline.tasks import publish_marts

        return publish_marts()

    @task(execution_timeout=pendulum.duration(minutes=5))
    def smoke_check() -> dict:
        from pipeline.tasks import smoke_check as check

        return check()

    build() >> publish() >> smoke_check()


ecommerce_marts_refresh()
