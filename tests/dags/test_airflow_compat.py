"""The workarounds of pipeline/orchestration/airflow_compat.py are still needed, and still work, with the installed Airflow."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import subprocess

import pendulum
import pytest

from pipeline.orchestration.airflow_compat import events_timetable, read_xcom_in_trigger
from tests.support.ecom import BIN


def dag_with(timetable):
    from airflow.sdk import dag, task

    @dag(dag_id="compat_probe", schedule=timetable, start_date=pendulum.datetime(2025, 9, 1, tz="UTC"))
    def probe():
        @task
        def noop():
            pass

        noop()

    return probe()


def test_sdk_events_timetable_still_fails_to_serialize():
    """When this fails, Airflow serializes `airflow.sdk.EventsTimetable`: use it and drop the workaround."""
    from airflow.sdk import EventsTimetable
    from airflow.serialization.serialized_objects import DagSerialization

    timetable = EventsTimetable(event_dates=[pendulum.datetime(2025, 9, 1, tz="UTC")], description="x")
    with pytest.raises(Exception, match="_summary"):
        DagSerialization.from_dict(DagSerialization.to_dict(dag_with(timetable)))


def test_events_timetable_round_trips_and_schedules_only_the_listed_days():
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    days = [dt.date(2025, 9, 1) + dt.timedelta(days=n) for n in range(3)]
    dag = DagSerialization.from_dict(
        DagSerialization.to_dict(dag_with(events_timetable(days, "daily, 3 days")))
    )
    assert dag.timetable.summary == "daily, 3 days"
    start = pendulum.datetime(2025, 9, 1, tz="UTC")
    runs, last = [], None
    for _ in range(5):
        info = dag.timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=TimeRestriction(start, None, catchup=True)
        )
        if info is None:
            break
        runs.append(info.logical_date.date())
        last = info.data_interval
    assert runs == days  # and nothing after the last day, whatever today's date
    # catchup off: every listed day is in the past, so nothing is scheduled
    off = TimeRestriction(start, None, catchup=False)
    assert dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=off) is None


@pytest.fixture(scope="module")
def airflow_db():
    """A migrated metadata database in this run's AIRFLOW_HOME: `dag.test()` records its runs there."""
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, capture_output=True)


def registered(dag):
    """`dag` written to the metadata database as the DAG processor writes a parsed file (`dag.test()` runs only
    DAGs found there)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    return dag


def test_xcom_get_one_still_takes_the_keyword_arguments_the_trigger_passes():
    """When this fails, an upgrade changed `BaseXCom.get_one`: adapt `read_xcom_in_trigger` (and, once it is
    a coroutine or triggers get a public XCom reader, drop the `sync_to_async` around it)."""
    from airflow.sdk import BaseXCom

    parameters = inspect.signature(BaseXCom.get_one).parameters
    for name in ("key", "dag_id", "task_id", "run_id", "map_index"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert not inspect.iscoroutinefunction(BaseXCom.get_one)


def test_read_xcom_in_trigger_returns_the_pushed_value_and_none_when_nothing_was_pushed(airflow_db):
    from airflow.sdk import dag, task

    pushed = {"nodes": {"model.ecommerce.dm_kpi_daily": {"state": "failed", "lines": ["a test", "a row"]}}}
    seen = {}  # dag.test() runs the tasks in this process

    @dag(dag_id="compat_xcom_probe", schedule=None, start_date=pendulum.datetime(2025, 9, 1, tz="UTC"))
    def probe():
        @task
        def dbt_build():
            return pushed

        @task
        def quiet():
            pass  # returns None: pushes no XCom

        @task
        def read(dag_run=None):
            for task_id in ("dbt_build", "quiet"):
                seen[task_id] = asyncio.run(
                    read_xcom_in_trigger(dag_id=dag_run.dag_id, task_id=task_id, run_id=dag_run.run_id)
                )

        [dbt_build(), quiet()] >> read()

    run = registered(probe()).test()
    assert run.state == "success"
    assert seen == {"dbt_build": pushed, "quiet": None}
