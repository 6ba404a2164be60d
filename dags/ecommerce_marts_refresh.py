"""
### ecommerce_marts_refresh

Rebuilds and tests the marts whenever `ecommerce_generate_daily` lands new lake partitions (it is scheduled on the
lake Assets), then publishes them: **write, audit, publish**. It starts unpaused: it only runs when the
generation DAG (or you) asks.

1. **start_build** checks the lake as `ecom build` does (contiguous from the opening date, no day still being
   generated: then the run **skips**, and the generation's own run triggers the next refresh) and marks a build
   `running` in `build.json`.
2. **dbt_build** runs one `dbt build` (seeds, source tests, models and each model's tests, in dbt's order) in the
   one-slot `ecommerce_duckdb` pool (DuckDB has a single writer), through the same function as `ecom build`: the
   same nodes for the same selector, the same record in `build.json`. Its log is dbt's, and ends with a summary.
3. One task per model, seed and tested lake source, grouped by layer in the order data flows (`1_seeds`,
   `2_lake`, `3_staging`, `4_intermediate`, `5_marts`), shows what the build did with it: **green** it and its tests passed, **red** it or
   one of its tests failed (the log opens with the test's name and its failing rows), **pink/skipped** dbt
   skipped it because something upstream failed, or the `select` Param left it out. These tasks run no dbt.
4. **mark_passed** lets the build through only when build.json records it `passed` (every node passed);
   otherwise **mark_failed** runs and fails (red): the run reads as failed at a glance, nothing is published.
5. **publish** swaps the marts into `ecommerce.duckdb` atomically (refused unless the build passed); then, side
   by side (each reads the published file read-only): **publish_bi** refreshes the PostgreSQL BI endpoint when
   one is configured, **publish_redis** the API's Redis (a new version, switched atomically) when it runs, and
   **smoke_check** reads the published marts back as an analyst would.

When a dbt test fails nothing is published and the previous marts stay in place. Clearing a model task does not
re-run dbt: trigger the DAG again (after fixing the day, e.g. re-running its generation).

Params (the form submits with its defaults: a full build, tests included): `full_refresh` rebuilds incremental
models from scratch; `select` is a dbt selector (e.g. `dm_kpi_daily+`, `tag:daily`), empty for the whole project;
`engine` builds on DuckDB (default) or on Apache Spark (the `spark` dbt target; its marts are loaded into the
build file by **mark_passed**, so the same gate publishes them).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, TaskGroup, dag, task

from pipeline.build.results import LAYERS, layer_group_id, load_manifest, task_nodes
from pipeline.orchestration.assets import LAKE_ASSETS, MARTS_ASSET
from pipeline.orchestration.node_tasks import BUILD_TASK_ID, DbtNodeResult
from pipeline.settings import DBT_PROJECT_DIR, ENGINES, Settings

DUCKDB_POOL = "ecommerce_duckdb"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

if not MANIFEST.exists():
    # A clear import error in the UI beats a DAG that silently renders no dbt task.
    raise FileNotFoundError(f"dbt manifest not found at {MANIFEST}: run `make manifest` (dbt parse) first")


@dag(
    dag_id="ecommerce_marts_refresh",
    schedule=LAKE_ASSETS,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,  # Asset-scheduled: it runs only after a generation run, or when triggered
    doc_md=__doc__,
    tags=["ecommerce", "dbt", "marts"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": pendulum.duration(seconds=30),
        "retry_exponential_backoff": True,
        "execution_timeout": pendulum.duration(minutes=30),
    },
    params={
        "full_refresh": Param(
            False, type="boolean", description="Rebuild incremental models from scratch (dbt --full-refresh)."
        ),
        "select": Param(
            None,
            type=["null", "string"],
            description="dbt selector, e.g. 'dm_kpi_daily+' or 'tag:daily'. Empty: the whole project, "
            "source tests included.",
        ),
        "engine": Param(
            Settings.load().engine,
            enum=list(ENGINES),
            description="Engine of the build: duckdb, or spark (needs `make install-spark` and Java 17).",
        ),
    },
)
def ecommerce_marts_refresh():
    @task(pool=DUCKDB_POOL, retries=0, execution_timeout=pendulum.duration(minutes=2))
    def start_build(params=None) -> dict:
        from pipeline.orchestration.tasks import start_build as start

        return start(
            full_refresh=bool(params["full_refresh"]),
            select=params.get("select"),
            engine=params.get("engine"),
        )

    # A failing data test is a fact about the data: retrying cannot fix it, re-running the DAG can.
    @task(task_id=BUILD_TASK_ID, pool=DUCKDB_POOL, retries=0)
    def dbt_build(build: dict) -> dict:
        from pipeline.orchestration.tasks import run_build

        return run_build(build)

    @task(trigger_rule="none_failed", execution_timeout=pendulum.duration(minutes=2))
    def mark_passed(build: dict, result: dict) -> dict:
        from pipeline.orchestration.tasks import finish_build

        return finish_build(build["build_id"], passed=True, engine=build.get("engine"))

    # Red when it runs (AirflowFailException: no retry): it runs only when the build failed, and a failed build
    # must read as failed at a glance.
    @task(trigger_rule="one_failed", execution_timeout=pendulum.duration(minutes=2))
    def mark_failed(build: dict) -> dict:
        from pipeline.orchestration.tasks import finish_build

        return finish_build(build["build_id"], passed=False, engine=build.get("engine"))

    @task(pool=DUCKDB_POOL, outlets=[MARTS_ASSET], execution_timeout=pendulum.duration(minutes=15))
    def publish() -> dict:
        from pipeline.orchestration.tasks import publish_marts

        return publish_marts()

    @task(execution_timeout=pendulum.duration(minutes=30))
    def publish_bi() -> dict:
        from pipeline.orchestration.tasks import publish_bi as publish_to_postgres

        return publish_to_postgres()

    @task(execution_timeout=pendulum.duration(minutes=15))
    def publish_redis() -> dict:
        from pipeline.orchestration.tasks import publish_redis as publish_to_redis

        return publish_to_redis()

    @task(execution_timeout=pendulum.duration(minutes=5))
    def smoke_check() -> dict:
        from pipeline.orchestration.tasks import smoke_check as check

        return check()

    build = start_build()
    result = dbt_build(build)
    graph = task_nodes(load_manifest(MANIFEST))
    nodes = []
    for layer in [layer for layer in LAYERS if any(n.layer == layer for n in graph)]:
        # The grid sorts sibling groups by id: numbered, they read in the order data flows (1_seeds .. 5_marts).
        with TaskGroup(
            group_id=layer_group_id(layer),
            group_display_name=layer,
            tooltip=f"dbt {layer}: one task per node, with its tests",
        ):
            nodes += [
                DbtNodeResult(task_id=n.name, key=n.key, unique_id=n.unique_id, members=n.members)
                for n in graph
                if n.layer == layer
            ]
    passed = mark_passed(build, result)
    result >> nodes >> passed
    [result, *nodes] >> mark_failed(build)
    # The three readers of the published file run side by side: in a chain each waited a scheduler turn.
    passed >> publish() >> [publish_bi(), publish_redis(), smoke_check()]


ecommerce_marts_refresh()
