"""The DAG files parse cleanly, are wired as designed, and run end to end in-process with `dag.test()`."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import duckdb
import pendulum
import pytest

from tests.support.ecom import BIN, REPO, ecom

DAG_IDS = {"ecommerce_generate_daily", "ecommerce_marts_refresh", "ecommerce_models_train"}
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


def generate(dagbag, logical: dt.date, **conf):
    return dagbag.dags["ecommerce_generate_daily"].test(
        logical_date=pendulum.datetime(logical.year, logical.month, logical.day, tz="UTC"),
        run_conf=conf or None,
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
    # bounded below Airflow's default of 16 on a 2-core machine; one refresh at a time (DuckDB has one writer)
    assert 1 <= dag.max_active_runs <= 4
    assert dag_id != "ecommerce_marts_refresh" or dag.max_active_runs == 1
    for task in dag.tasks:
        assert task.owner == "data-platform", task.task_id
        assert task.execution_timeout is not None, task.task_id
    # Retries with backoff, except the dbt tasks: a failing data test cannot be fixed by trying again.
    from pipeline.orchestration.node_tasks import DbtNodeResult

    dbt = {"start_build", "dbt_build"}
    retried = [t for t in dag.tasks if not isinstance(t, DbtNodeResult) and t.task_id not in dbt]
    assert retried and all(t.retries >= 1 and t.retry_exponential_backoff for t in retried)


def test_generation_catches_up_from_the_opening_date_with_a_validated_form(dagbag):
    dag = dagbag.dags["ecommerce_generate_daily"]
    assert dag.catchup is True
    assert dag.start_date == pendulum.datetime(2025, 9, 1, tz="UTC")
    # bounded history: every day of the demo window (to ECOM_END), not every day up to the wall clock
    days = dag.timetable.event_dates
    assert days[0] == pendulum.datetime(2025, 9, 1, tz="UTC")
    assert days[-1] == pendulum.datetime(2025, 12, 31, tz="UTC") and len(days) == 122
    assert dag.timetable.description.startswith("daily, 2025-09-01 to 2025-12-31")  # what the UI shows
    assert dag.end_date is None  # which would block manual runs dated today
    params = dag.params
    assert set(params) == {"scale", "seed", "market", "inject", "day"}
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


def test_refresh_runs_one_dbt_build_shown_as_a_task_per_model_grouped_by_layer(dagbag):
    import json

    from pipeline.orchestration.node_tasks import DbtNodeResult

    dag = dagbag.dags["ecommerce_marts_refresh"]
    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    models = {n["name"]: n["fqn"][1] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    from pipeline.build.results import LAYERS, layer_group_id

    for model, layer in models.items():
        assert f"{layer_group_id(layer)}.{model}" in dag.task_dict, model  # with its tests
    assert {"staging", "intermediate", "marts"} <= set(models.values())
    # the grid sorts sibling groups by id: sorted, they read in the order data flows, shown by their layer name
    groups = {g.group_id: g for g in dag.task_group.children.values() if hasattr(g, "children")}
    assert sorted(groups) == [layer_group_id(layer) for layer in LAYERS]
    assert [groups[g].group_display_name for g in sorted(groups)] == list(LAYERS)
    assert "2_lake.orders" in dag.task_dict  # source tests gate the models that read the lake
    nodes = [t for t in dag.tasks if isinstance(t, DbtNodeResult)]
    # one task per model / tested source (plus seeds), not one per test: readable without zooming
    assert len(models) <= len(nodes) <= len(models) + 12
    assert len(dag.tasks) <= len(nodes) + 8
    tests = [uid for uid in manifest["nodes"] if uid.startswith("test.")]
    shown = {m for t in nodes for m in t.members}
    assert set(tests) <= shown  # every data test is reported by exactly one model's or source's task
    # ... and nothing else: builds run no unit test (they run in `make test`, tests/e2e/test_run.py)
    assert sum(len(t.members) - 1 for t in nodes) == len(tests)
    # the node tasks run no dbt and need no worker: they start and end in the triggerer
    assert all(t.start_from_trigger and t.retries == 0 for t in nodes)
    assert all(t.trigger_rule == "all_done" and t.upstream_task_ids == {"dbt_build"} for t in nodes)
    # one writer: the single `dbt build` takes the one slot of the DuckDB pool
    build = dag.task_dict["dbt_build"]
    assert build.pool == "ecommerce_duckdb" and build.retries == 0
    assert {t.task_id for t in dag.tasks if t.pool == "ecommerce_duckdb"} == {
        "start_build",
        "dbt_build",
        "publish",
    }
    # write-audit-publish: nothing reaches publish without passing through mark_passed
    assert dag.task_dict["publish"].upstream_task_ids == {"mark_passed"}
    # ... and what reads the published file waits for publish alone, side by side, not for each other
    for reader in ("publish_bi", "publish_redis", "smoke_check"):
        assert dag.task_dict[reader].upstream_task_ids == {"publish"}, reader
    assert dag.task_dict["mark_passed"].upstream_task_ids >= {
        "start_build",
        "dbt_build",
        "5_marts.dm_kpi_daily",
    }
    assert dag.task_dict["mark_failed"].trigger_rule == "one_failed"


def test_refresh_form_submits_with_its_defaults(dagbag):
    """The Trigger form's defaults validate (an empty selector is the whole project) and the DAG starts
    unpaused, so the generation DAG's Asset events reach it without a second unpause."""
    dag = dagbag.dags["ecommerce_marts_refresh"]
    params = dag.params
    assert params.get_param("select").resolve(None) is None  # not required: the form enables Trigger
    assert params.get_param("select").resolve("dm_kpi_daily+") == "dm_kpi_daily+"
    params.validate()
    assert dag.is_paused_upon_creation is False
    assert dagbag.dags["ecommerce_generate_daily"].is_paused_upon_creation is not False


# --- end to end in-process --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refreshed(dagbag, airflow_db, data_dir, tmp_path_factory):
    """Two days generated, then a refresh of the daily KPIs and everything they read."""
    assert generate(dagbag, DAY1).state == "success"
    assert generate(dagbag, DAY2).state == "success"
    run = dagbag.dags["ecommerce_marts_refresh"].test(run_conf={"select": "+dm_kpi_daily"})
    return run


def test_generation_is_idempotent_per_logical_date(dagbag, refreshed, data_dir):
    part = data_dir / "lake" / "orders" / f"dt={DAY1}" / "part-0.parquet"
    before = part.read_bytes()
    assert generate(dagbag, DAY1).state == "success"
    assert part.read_bytes() == before


def build_result(run) -> dict:
    """What the build task returned (XCom): the verdict of every model / source task."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=run.run_id, key="return_value", task_ids="dbt_build", dag_ids="ecommerce_marts_refresh"
            )
        ).first()
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
    assert ti["5_marts.dm_kpi_daily"] == ti["2_lake.orders"] == ti["smoke_check"] == "success"
    assert ti["5_marts.dm_rfm_segments"] == "skipped"  # outside the selector


def test_failing_dbt_test_is_one_red_task_whose_log_opens_with_the_test_and_rows(
    dagbag, refreshed, data_dir, capfd
):
    publish_db = data_dir / "warehouse" / "ecommerce.duckdb"
    before_id, before = publication(publish_db), marts(publish_db)

    assert generate(dagbag, DAY2, inject=["duplicate_keys"]).state == "success"
    capfd.readouterr()
    # the form's default, the whole project (explicit: in-process, dag.test() keeps the previous run's conf)
    run = dagbag.dags["ecommerce_marts_refresh"].test(run_conf={"select": None})
    out = capfd.readouterr()
    log = out.out + out.err

    assert run.state == "failed"
    ti = states(run)
    # only the node that failed is red, and the gate after it (the run reads as failed at a glance); what dbt
    # skipped because of it shows as skipped
    assert sorted(k for k, v in ti.items() if v == "failed") == ["2_lake.orders", "mark_failed"], ti
    assert ti["dbt_build"] == "success"  # dbt ran; its verdict is the model tasks'
    assert ti["3_staging.stg_lake__orders"] == ti["5_marts.dm_kpi_daily"] == "skipped"
    assert ti["2_lake.users"] == ti["2_lake.products"] == "success"  # healthy sources stay green
    assert ti["mark_failed"] == "failed"
    assert ti["publish"] == "upstream_failed"
    assert publication(publish_db) == before_id and marts(publish_db) == before
    import json

    assert json.loads((data_dir / "warehouse" / "build.json").read_text())["status"] == "failed"
    # the failing task's verdict opens with the test's name, then the rows dbt stored for it
    result = build_result(run)
    lines = result["nodes"]["2_lake.orders"]["lines"]
    assert lines[0].startswith("dbt test source_unique_lake_orders_order_id FAIL"), lines
    assert "failing rows" in lines[2] and '"audit"' in lines[2]
    assert lines[3].split("|")[0].strip() == "unique_field" and "n_records" in lines[3]
    assert "\n".join(lines) in log  # printed first in that task's log
    skipped = result["nodes"]["3_staging.stg_lake__orders"]["lines"][0]
    assert "skipped" in skipped and "source_unique_lake_orders_order_id" in skipped
    # the build's log ends with a readable summary, not raw JSON
    summary = log[log.rindex("dbt build summary") :]
    assert "FAILED 2_lake.orders" in summary and "nothing will be published" in summary

    # the day regenerated clean (explicit: in-process, dag.test() keeps the previous run's conf)
    assert generate(dagbag, DAY2, inject=[]).state == "success"


def test_a_refresh_after_a_failed_one_publishes_what_a_clean_run_publishes(
    dagbag, refreshed, data_dir, tmp_path
):
    """A failed refresh leaves nothing the next one starts from: after the bad day is fixed (the test above
    regenerated it) or removed, the refresh publishes exactly the marts of a clean build of the same lake."""
    from generator.lake import TABLES, link_days, partition_dir
    from tests.support.marts import published_marts

    clean = tmp_path / "clean"
    link_days(data_dir / "lake", clean / "lake", DAY1, DAY2)
    ecom("build", data_dir=clean)
    ecom("publish", data_dir=clean)
    expected = published_marts(clean)
    refresh = dagbag.dags["ecommerce_marts_refresh"]

    assert refresh.test(run_conf={"select": None}).state == "success"  # DAY2 was fixed after the failure
    assert published_marts(data_dir) == expected

    day3 = DAY2 + dt.timedelta(days=1)
    assert generate(dagbag, day3, inject=["duplicate_keys"]).state == "success"
    assert refresh.test(run_conf={"select": None}).state == "failed"
    for table in TABLES:  # the bad day removed by hand
        shutil.rmtree(partition_dir(data_dir / "lake", table, day3), ignore_errors=True)
    assert refresh.test(run_conf={"select": None}).state == "success"
    assert published_marts(data_dir) == expected


def test_the_trigger_form_submitted_untouched_generates_the_lakes_next_day(dagbag, refreshed, data_dir):
    """A manual run's logical date is the moment it was triggered: with `day` empty the run extends the lake by
    one day instead of writing today's date far past its end; a `day` that leaves a gap is refused."""
    from generator.lake import days_present

    before = days_present(data_dir / "lake", "orders")
    run = dagbag.dags["ecommerce_generate_daily"].test(
        logical_date=pendulum.now("UTC"), run_conf={"inject": [], "day": None}
    )
    assert run.state == "success"
    assert days_present(data_dir / "lake", "orders") == [*before, before[-1] + dt.timedelta(days=1)]

    lake = sorted(p.relative_to(data_dir) for p in (data_dir / "lake").rglob("*.parquet"))
    far = before[-1] + dt.timedelta(days=30)
    assert generate(dagbag, far, day=far.isoformat(), inject=[]).state == "failed"
    assert sorted(p.relative_to(data_dir) for p in (data_dir / "lake").rglob("*.parquet")) == lake
