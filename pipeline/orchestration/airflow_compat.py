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
