"""The DAG files parse cleanly, are wired as designed, and run end to end in-process with `dag.test()`."""

from __future__ import annotations

import datetime as dt
import subprocess

import duckdb
import pendulum
import pytest

from tests.conftest import BIN, REPO, ecom

DAG_IDS = {"ecommerce_generate_daily", "ecommerce_marts_refresh"}
DAY1, DAY2 = dt.date(2025, 9, 1), dt.date(2025, 9, 2)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One data dir and tiny-scale settings for the whole module: the DAG files read them when parsed."""
    path = tmp_path_factory.mktemp("airflow-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOM_DATA_DIR", str(path))
        mp.setenv("ECOM_SCALE", "tiny")
        yield path


@pytest.fixture(scope="module")
def dagbag(data_dir):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture(scope="module")
def airflow_db():
    """A fresh metadata database in this run's AIRFLOW_HOME, with the project's pool (dag.test waits for it)."""
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "airflow"), "pools", "set", "ecommerce_duckdb", "1", "single writer of the build DuckDB"],
        check=True, capture_output=True,
    )  # fmt: skip


def marts(path) -> dict[str, list[tuple]]:
    """Every published mart, as sorted rows: equal dicts mean equal marts."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: sorted(con.execute(f"select * from marts.{n}").fetchall(), key=repr) for n in names}
    finally:
        con.close()


def publication(path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select build_id from ecom_meta.publication").fetchone()[0]
    finally:
        con.close()


def generate(dagbag, day: dt.date, **conf):
    return dagbag.dags["ecommerce_generate_daily"].test(
        logical_date=pendulum.datetime(day.year, day.month, day.day, tz="UTC"), run_conf=conf or None
    )


# --- integrity -------------------------------------------------------------------------------------------


def test_no_import_errors_and_both_dags(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) >= DAG_IDS


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_dag_hygiene(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and dag_id in dag.doc_md
    assert "ecommerce" in dag.tags
    assert dag.max_active_runs is not None
    for task in dag.tasks:
        assert task.owner == "data-platform", task.task_id
        assert task.execution_timeout is not None, task.task_id
    # Retries with backoff, except the dbt tasks: a failing data test cannot be fixed by trying again.
    retried = [t for t in dag.tasks if not t.task_id.startswith("dbt.") and t.task_id != "start_build"]
    assert retried and all(t.retries >= 1 and t.retry_exponential_backoff for t in retried)


def test_generation_catches_up_from_the_opening_date_with_a_validated_form(dagbag):
    dag = dagbag.dags["ecommerce_generate_daily"]
    assert dag.catchup is True
    assert dag.start_date == pendulum.datetime(2025, 9, 1, tz="UTC")
    params = dag.params
    assert set(params) == {"scale", "seed", "inject", "day"}
    assert all(params.get_param(name).description for name in params)
    assert params["scale"] == "tiny"  # defaults follow the settings (ECOM_SCALE), so the lake and form agree
    from airflow.sdk.definitions.param import ParamValidationError

    with pytest.raises(ParamValidationError):
        params.get_param("scale").resolve("huge")
    with pytest.raises(ParamValidationError):
        params.get_param("inject").resolve(["not_a_fault"])
    with pytest.raises(ParamValidationError):
        params.get_param("seed").resolve(-1)


def test_refresh_is_scheduled_on_the_generated_assets(dagbag):
    produced = {a.name for t in dagbag.dags["ecommerce_generate_daily"].tasks for a in t.outlets}
    consumed = {a.name for a in dagbag.dags["ecommerce_marts_refresh"].timetable.asset_condition.objects}
    assert produced == consumed
    from generator.lake import CORE_TABLES

    assert produced == {f"ecommerce_lake_{t}" for t in CORE_TABLES}  # every lake table the generator writes


def test_refresh_runs_one_dbt_build_watched_by_a_task_per_model(dagbag):
    import json

    dag = dagbag.dags["ecommerce_marts_refresh"]
    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for model in models:
        assert f"dbt.{model}.run" in dag.task_dict or f"dbt.{model}_run" in dag.task_dict, model
    assert "dbt.dm_kpi_daily.test" in dag.task_dict
    assert "dbt.lake_orders.test" in dag.task_dict  # source tests gate the models that read the lake
    # one writer: the single `dbt build` takes the one slot of the DuckDB pool; the per-node tasks only read
    # its results, and start once it has finished (whatever its outcome), so none waits on a worker slot
    build = dag.task_dict["dbt.dbt_producer_watcher"]
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert [t.task_id for t in dag.tasks if t.pool == "ecommerce_duckdb" and t in dbt_tasks] == [
        build.task_id
    ]
    assert build.base_cmd == ["build"] and build.retries == 0
    assert not build._check_source_freshness  # stale historical sources must not skip models silently
    watchers = [t for t in dbt_tasks if hasattr(t, "producer_task_id")]
    assert len(watchers) >= len(models)
    for task in watchers:
        assert build in task.get_flat_relatives(upstream=True), task.task_id
        assert task._fallback_to_non_watcher_run.func.__name__ == "node_result_from_build"  # never runs dbt
    roots = [t for t in dbt_tasks if t.upstream_task_ids == {"start_build", build.task_id}]
    assert roots and {t.trigger_rule for t in roots} == {"all_done_min_one_success"}
    # write-audit-publish: nothing reaches publish without passing through mark_passed
    assert dag.task_dict["publish"].upstream_task_ids == {"mark_passed"}
    assert {t.task_id for t in dag.task_dict["mark_passed"].upstream_list} >= {
        "start_build",
        "dbt.dbt_producer_watcher_done",
    }
    assert dag.task_dict["mark_failed"].trigger_rule == "one_failed"


# --- end to end in-process --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refreshed(dagbag, airflow_db, data_dir, tmp_path_factory):
    """Two days generated in reverse order, then a refresh of the daily KPIs and everything they read."""
    assert generate(dagbag, DAY2).state == "success"
    assert generate(dagbag, DAY1).state == "success"
    run = dagbag.dags["ecommerce_marts_refresh"].test(run_conf={"select": "+dm_kpi_daily"})
    return run


def test_generation_is_idempotent_per_logical_date(dagbag, refreshed, data_dir):
    part = data_dir / "lake" / "orders" / f"dt={DAY1}" / "part-0.parquet"
    before = part.read_bytes()
    assert generate(dagbag, DAY1).state == "success"
    assert part.read_bytes() == before


def build_failures(run) -> dict:
    """The failing dbt nodes the build task reported in XCom (the node tasks print them in their logs)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from pipeline.tasks import FAILURES_XCOM_KEY

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=run.run_id, key=FAILURES_XCOM_KEY, task_ids="dbt.dbt_producer_watcher",
                dag_ids="ecommerce_marts_refresh",
            )
        ).first()  # fmt: skip
        return XComModel.deserialize_value(row) if row is not None else {}


def states(run) -> dict[str, str]:
    return {t.task_id: t.state for t in run.get_task_instances()}


def test_refresh_publishes_what_the_cli_publishes(refreshed, data_dir, tmp_path):
    not_ok = {k: v for k, v in states(refreshed).items() if v not in ("success", "skipped")}
    assert refreshed.state == "success", not_ok
    published = marts(data_dir / "warehouse" / "ecommerce.duckdb")
    assert [r[0] for r in published["dm_kpi_daily"]] == [DAY1, DAY2]
    ecom("run", "--scale", "tiny", "--start", str(DAY1), "--end", str(DAY2), data_dir=tmp_path)
    cli = marts(tmp_path / "warehouse" / "ecommerce.duckdb")
    assert published["dm_kpi_daily"] == cli["dm_kpi_daily"]
    ti = {t.task_id: t.state for t in refreshed.get_task_instances()}
    assert ti["dbt.dm_kpi_daily.run"] == ti["dbt.dm_kpi_daily.test"] == ti["smoke_check"] == "success"
    assert ti["dbt.dm_rfm_segments.run"] == "skipped"  # outside the selector


def test_failing_dbt_test_publishes_nothing_and_logs_the_rows(dagbag, refreshed, data_dir, capfd):
    publish_db = data_dir / "warehouse" / "ecommerce.duckdb"
    before_id, before = publication(publish_db), marts(publish_db)

    assert generate(dagbag, DAY2, inject=["duplicate_keys"]).state == "success"
    run = dagbag.dags["ecommerce_marts_refresh"].test(run_conf={"select": "source:lake.orders+"})
    out = capfd.readouterr()
    log = out.out + out.err

    assert run.state == "failed"
    ti = {t.task_id: t.state for t in run.get_task_instances()}
    # The failing source test's task is red: failed itself, or upstream_failed when the task of its source
    # reported the failure first (the order in which the node tasks read the finished build is not fixed).
    assert ti["dbt.lake_orders.test"] in {"failed", "upstream_failed"}
    assert "failed" in {ti["dbt.lake_orders.test"], ti.get("dbt.lake_orders.source")}
    assert ti["mark_failed"] == "success"
    assert ti["publish"] == "upstream_failed"
    assert publication(publish_db) == before_id and marts(publish_db) == before
    import json

    assert json.loads((data_dir / "warehouse" / "build.json").read_text())["status"] == "failed"
    # the failing task's log names the test and shows the rows that broke it
    assert "source_unique_lake_orders_order_id" in log
    assert "first" in log and "failing rows" in log and "n_records" in log
    # one dbt build ran and failed; the node task of the failing source test repeats its report
    assert ti["dbt.dbt_producer_watcher"] == "failed"
    report = build_failures(run)
    assert report and all(uid.startswith("test.ecommerce.source_") for uid in report), report
    assert any("source_unique_lake_orders_order_id" in uid for uid in report)
    assert all("source.ecommerce.lake.orders" in f["parents"] for f in report.values())
    assert all("n_records" in f["text"] for f in report.values())
    assert ti["dbt.stg_lake__orders.run"] == "upstream_failed"  # dbt skipped what reads the bad source

    # the day regenerated clean: the next refresh passes again
    assert generate(dagbag, DAY2).state == "success"
