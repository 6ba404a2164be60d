"""Workarounds for gaps in the pinned Airflow (`apache-airflow>=3.3,<3.4` in pyproject.toml), kept in one place.

Each says why it exists; `tests/dags/test_airflow_compat.py` fails when an upgrade fixes the gap (remove the
workaround then) or breaks the workaround.
"""

from __future__ import annotations

import datetime as dt


def events_timetable(days: list[dt.date], description: str):
    """A timetable with one run per listed day (midnight UTC).

    `airflow.sdk.EventsTimetable` cannot be used in Airflow 3.3: its serializer leaves out `_summary`, which the
    scheduler's `airflow.timetables.events.EventsTimetable.deserialize` requires, so the DAG fails to serialize
    (`KeyError: '_summary'`). The scheduler's class is accepted in a DAG file and serializes itself whole.
    """
    import pendulum
    from airflow.timetables.events import EventsTimetable

    return EventsTimetable(
        event_dates=[pendulum.datetime(d.year, d.month, d.day, tz="UTC") for d in days],
        presorted=True,
        description=description,
    )


async def read_xcom_in_trigger(*, dag_id: str, task_id: str, run_id: str, key: str = "return_value"):
    """Another task's XCom value (None when it pushed none), read from a trigger's `async def run()`.

    A trigger in Airflow 3.3 has no public way to read an XCom: its `task_instance` is a plain record of the task
    instance, with no `xcom_pull`. The Task SDK's `BaseXCom.get_one` (keyword arguments key, dag_id, task_id,
    run_id, map_index) asks the triggerer's supervisor over its comms channel. It is synchronous: on the event
    loop's thread it would block the loop (or need the greenback portal), so it runs in a worker thread
    (`sync_to_async`).
    """
    from airflow.sdk import BaseXCom
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseXCom.get_one)(
        key=key, dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=-1
    )
