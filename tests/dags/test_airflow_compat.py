"""The workarounds of pipeline/orchestration/airflow_compat.py are still needed, and still work, with the installed Airflow."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from pipeline.orchestration.airflow_compat import events_timetable


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
