"""Which lake days changed since the last passing build, so incremental models rebuild from the right day.

Incremental models normally look back a few days from the newest day they hold. That misses a day generated out
of order (an Airflow backfill of an older date) or re-generated after a fix. The pipeline therefore compares the
lake's partitions (size and modification time of every file) with those of the last build that passed, and hands
dbt the earliest changed day as `ECOM_REBUILD_FROM`; the models then rebuild from that day on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from generator.lake import PART_FILE, PARTITION_RE, TABLES

Signature = dict[str, list[int]]  # "<table>/dt=YYYY-MM-DD" -> [size, mtime_ns]


def lake_signature(lake: Path) -> Signature:
    signature: Signature = {}
    for table in TABLES:
        root = lake / table
        if not root.is_dir():
            continue
        for part in root.iterdir():
            if not PARTITION_RE.match(part.name):
                continue
            try:
                stat = (part / PART_FILE).stat()
            except FileNotFoundError:
                continue
            signature[f"{table}/{part.name}"] = [stat.st_size, stat.st_mtime_ns]
    return dict(sorted(signature.items()))


def _day(key: str) -> dt.date:
    return dt.date.fromisoformat(key.rsplit("dt=", 1)[1])


def earliest_change(current: Signature, previous: Signature | None) -> dt.date | None:
    """The first day whose partitions differ from `previous` (added, removed or rewritten); None if none do.

    Without a previous signature every day counts as changed.
    """
    if previous is None:
        keys = set(current)
    else:
        keys = {k for k in current.keys() | previous.keys() if current.get(k) != previous.get(k)}
    return min((_day(k) for k in keys), default=None)
