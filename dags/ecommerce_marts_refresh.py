"""
### ecommerce_marts_refresh

Rebuilds and tests the marts whenever `ecommerce_generate_daily` lands new lake partitions (it is scheduled on the
lake Assets), then publishes them: **write, audit, publish**.

1. **start_build** marks a build `running` in `build.json` and resolves the `select` Param with `dbt ls`.
2. **dbt** (astronomer-cosmos, watcher mode): **dbt.dbt_producer_watcher** runs one `dbt build` (models, seeds,
   source tests and each model's tests, in dbt's order) and is the only dbt task in the one-slot
   `ecommerce_duckdb` pool: DuckDB has a single writer. Then one task per dbt node (read from the manifest that
   `make manifest` writes) shows that node's result in the grid: `<model>.run`, `<model>.test` (its tests),
   `<source>.test`. The build's log streams live; the node tasks fill in when it ends.
3. **mark_passed** records `passed` only when no dbt task failed; otherwise **mark_failed** records `failed`.
4. **publish** swaps the marts into `ecommerce.duckdb` atomically (refused unless the build passed);
   **publish_bi** refreshes the PostgreSQL BI endpoint when one is configured; **smoke_check** reads the
   published marts back, read-only, as an analyst would.

When a dbt test fails nothing is published, the previous marts stay in place, dbt skips what depends on the
failing node, and the logs of the build task and of the failing node's task name the test and print the first rows
that broke it. Clearing a node task does not re-run dbt: re-run the DAG.

Params: `full_refresh` rebuilds incremental models from scratch; `select` is a dbt selector
(e.g. `dm_kpi_daily+`, `tag:daily`): nodes outside it skip themselves; `engine` builds on DuckDB (default) or on
Apache Spark (the `spark` dbt target; its marts are loaded into the build file by **mark_passed**, so the same
gate publishes them).
"""

from __future__ import annotations

import datetime as dt
import functools

import pendulum
from airflow.sdk import Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import (
    ExecutionMode,
    InvocationMode,
    LoadMode,
    SourceRenderingBehavior,
    TestBehavior,
)

from pipeline.assets import LAKE_ASSETS, MARTS_ASSET
from pipeline.dbt import dbt_executable
from pipeline.settings import DBT_PROJECT_DIR, ENGINES, Settings
from pipeline.tasks import (
    log_node_failures,
    node_result_from_build,
    prepare_dbt_task,
    report_dbt_failures,
    skip_unselected_node,
)

DUCKDB_POOL = "ecommerce_duckdb"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

if not MANIFEST.exists():
    # A clear import error in the UI beats a DAG that silently renders no dbt task.
    raise FileNotFoundError(f"dbt manifest not found at {MANIFEST}: run `make manifest` (dbt parse) first")

project_config = ProjectConfig(
    manifest_path=MANIFEST, project_name="ecommerce", install_dbt_deps=False, partial_parse=True
)
# The manifest is a local file: read it as one. Cosmos wraps it in an ObjectStoragePath, whose first use loads
# every Airflow plugin for lineage, which alone made each parse of this file take about a second.
project_config.manifest_path = MANIFEST

dbt_build = {
    "project_config": project_config,
    "profile_config": ProfileConfig(
        profile_name="ecommerce",
        target_name="duckdb",
        profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
    ),
    "execution_config": ExecutionConfig(
        # One `dbt build` (the producer task) and one light task per node that reports the node's result.
        execution_mode=ExecutionMode.WATCHER,
        # A child process: dbt-duckdb holds its DuckDB open for the life of the process.
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=dbt_executable(),
        dbt_project_path=DBT_PROJECT_DIR,
    ),
    "render_config": RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        test_behavior=TestBehavior.AFTER_EACH,
        source_rendering_behavior=SourceRenderingBehavior.ALL,
        should_detach_multiple_parents_tests=True,
        emit_datasets=False,
        enable_owner_inheritance=False,
    ),
    "operator_args": {
        # A failing data test is a fact about the data: retrying cannot fix it, re-running the DAG can. (The
        # build task could not retry anyway: Cosmos skips a second attempt rather than run dbt build twice.)
        "retries": 0,
        # a plain timedelta: a node task that defers hands it to the triggerer, which cannot encode pendulum's
        "execution_timeout": dt.timedelta(minutes=30),
        "trigger_rule": "none_failed",
        "install_deps": False,
        "full_refresh": "{{ params.full_refresh }}",
        "interceptors": [prepare_dbt_task],
        "callback": report_dbt_failures,
        "pre_execute": skip_unselected_node,
        "on_failure_callback": log_node_failures,
    },
}


def _answer_now(op, producer_state, try_number, context) -> bool:
    return node_result_from_build(op, try_number, context, producer_state)


def watch_the_build(group: DbtTaskGroup) -> None:
    """Arrange the Cosmos WATCHER task group: one writer, per-node tasks that read its results.

    * Only the build task (`dbt_producer_watcher`, the one `dbt build`) takes the `ecommerce_duckdb` slot.
    * The per-node tasks start once the build has finished, whatever its outcome: each reads its node's result
      from the build's XCom at its first look, so none holds a worker slot or a triggerer slot polling while dbt
      runs (on two cores they would slow the build down), and `dag.test()` runs them in a fixed order. A failing
      test fails its task, and `none_failed` stops the tasks downstream of it, as dbt skipped those nodes.
    * A per-node task never runs dbt itself and never waits: Cosmos's fallback (a per-model `dbt run` when the
      build gave no status) would write outside the pool, and its wait for a status would defer the task for
      nothing, so it answers from the build's per-node results instead.
    """
    ops = {op.task_id: op for op in group.iter_tasks()}
    producer = ops[f"{group.group_id}.dbt_producer_watcher"]
    done = ops[f"{group.group_id}.dbt_producer_watcher_done"]
    # A stale-source pre-check would skip models silently; freshness is `dbt source freshness`'s job.
    producer._check_source_freshness = False
    nodes = [op for op in ops.values() if op not in (producer, done)]
    roots = [op for op in nodes if not op.upstream_task_ids & ops.keys()]
    for op in nodes:
        op.pool = "default_pool"
        if hasattr(op, "_fallback_to_non_watcher_run"):
            op._fallback_to_non_watcher_run = functools.partial(node_result_from_build, op)
            # no status yet would mean "wait": the build has finished, so answer now (no deferral, no poke loop)
            op._handle_no_dbt_node_status = functools.partial(_answer_now, op)
    for op in roots:  # upstream: start_build, and now the build
        producer >> op
        op.trigger_rule = "all_done_min_one_success"  # start_build passed and the build finished, either way
    producer.pool = DUCKDB_POOL


@dag(
    dag_id="ecommerce_marts_refresh",
    schedule=LAKE_ASSETS,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
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
            "",
            type="string",
            description="dbt selector, e.g. 'dm_kpi_daily+' or 'tag:daily'. Empty: the whole project.",
        ),
        "engine": Param(
            Settings.load().engine,
            enum=list(ENGINES),
            description="Engine of the build: duckdb, or spark (needs `make install-spark` and Java 17).",
        ),
    },
)
def ecommerce_marts_refresh():
    @task(pool=DUCKDB_POOL, retries=0, execution_timeout=pendulum.duration(minutes=5))
    def start_build(params=None) -> dict:
        from pipeline.tasks import start_build as start

        return start(
            full_refresh=bool(params["full_refresh"]), select=params["select"], engine=params.get("engine")
        )

    @task(trigger_rule="none_failed", execution_timeout=pendulum.duration(minutes=2))
    def mark_passed(build: dict) -> dict:
        from pipeline.tasks import finish_build

        return finish_build(build["build_id"], passed=True, engine=build.get("engine"))

    @task(trigger_rule="one_failed", execution_timeout=pendulum.duration(minutes=2))
    def mark_failed(build: dict) -> dict:
        from pipeline.tasks import finish_build

        return finish_build(build["build_id"], passed=False)

    @task(pool=DUCKDB_POOL, outlets=[MARTS_ASSET], execution_timeout=pendulum.duration(minutes=15))
    def publish() -> dict:
        from pipeline.tasks import publish_marts

        return publish_marts()

    @task(execution_timeout=pendulum.duration(minutes=30))
    def publish_bi() -> dict:
        from pipeline.tasks import publish_bi as publish_to_postgres

        return publish_to_postgres()

    @task(execution_timeout=pendulum.duration(minutes=5))
    def smoke_check() -> dict:
        from pipeline.tasks import smoke_check as check

        return check()

    build = start_build()
    dbt = DbtTaskGroup(group_id="dbt", **dbt_build)
    passed = mark_passed(build)
    build >> dbt >> [passed, mark_failed(build)]
    watch_the_build(dbt)
    passed >> publish() >> publish_bi() >> smoke_check()


ecommerce_marts_refresh()
