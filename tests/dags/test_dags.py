"""The DAG files parse cleanly and run end to end in-process with `dag.test()`."""

from __future__ import annotations

import datetime as dt
import subprocess

import duckdb
import pendulum
import pytest

from tests.conftest import BIN, REPO

DAG_IDS = {"ecommerce_generate_daily", "ecommerce_marts_refresh"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture(scope="module")
def airflow_db():
    """A fresh metadata database in this run's AIRFLOW_HOME, with the project's pool."""
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "airflow"), "pools", "set", "ecommerce_duckdb", "1", "single writer of the build DuckDB"],
        check=True, capture_output=True,
    )  # fmt: skip


def test_no_import_errors_and_both_dags(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) >= DAG_IDS


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_dag_hygiene(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and dag_id in dag.doc_md
    assert "ecommerce" in dag.tags
    for task in dag.tasks:
        assert task.owner == "data-platform"
        assert task.execution_timeout is not None, task.task_id


def test_refresh_is_scheduled_on_the_generated_assets(dagbag):
    produced = {a.name for t in dagbag.dags["ecommerce_generate_daily"].tasks for a in t.outlets}
    consumed = {a.name for a in dagbag.dags["ecommerce_marts_refresh"].timetable.asset_condition.objects}
    assert produced == consumed
    assert {f"ecommerce_lake_{t}" for t in ("users", "orders", "user_events")} <= produced


def test_generate_then_refresh_in_process(dagbag, airflow_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ECOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ECOM_SCALE", "tiny")
    day = dt.date(2025, 9, 1)
    run = dagbag.dags["ecommerce_generate_daily"].test(
        logical_date=pendulum.datetime(day.year, day.month, day.day, tz="UTC"), run_conf={"scale": "tiny"}
    )
    assert run.state == "success"
    assert (tmp_path / "lake" / "orders" / f"dt={day}" / "part-0.parquet").exists()

    run = dagbag.dags["ecommerce_marts_refresh"].test()
    assert run.state == "success"
    con = duckdb.connect(str(tmp_path / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        assert con.execute("select min(kpi_date), max(kpi_date) from marts.dm_kpi_daily").fetchone() == (
            day,
            day,
        )
    finally:
        con.close()
