"""A day-by-day incremental build gives the same marts as a full refresh of the same window, row for row.

The window is long enough for late cancellations (1-3 days after the order) to arrive for orders older than
the lookback window, which the incremental order model must pick up through the status-change partitions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pytest
import yaml

from generator.lake import TABLES
from pipeline.build.dbt import run_dbt
from pipeline.settings import Settings
from tests.support.ecom import REPO, ecom
from tests.support.marts import MARTS

pytestmark = pytest.mark.slow

START, END = dt.date(2025, 9, 1), dt.date(2025, 9, 19)
FIRST_BUILD_END = dt.date(2025, 9, 14)
# Then the lake grows a day at a time, once by several days (missed runs that catch up).
STEPS = [
    (dt.date(2025, 9, 15), dt.date(2025, 9, 15)),
    (dt.date(2025, 9, 16), dt.date(2025, 9, 18)),
    (dt.date(2025, 9, 19), dt.date(2025, 9, 19)),
]


def link_days(source_lake: Path, target_lake: Path, first: dt.date, last: dt.date) -> None:
    """Make days first..last of the source lake appear in the target lake (hard links, as a writer would)."""
    day = first
    while day <= last:
        for table in TABLES:
            part = f"{table}/dt={day.isoformat()}"
            (target_lake / part).mkdir(parents=True, exist_ok=True)
            for f in (source_lake / part).glob("*.parquet"):
                os.link(f, target_lake / part / f.name)
        day += dt.timedelta(days=1)


LOOKBACK_DAYS = int(
    yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]["ecom__lookback_days"]
)


def days_rebuilt(settings: Settings) -> tuple[set[dt.date], set[dt.date]]:
    """(days whose sessions the last dbt invocation wrote, every day the sessions model holds)."""
    invocation = json.loads((settings.dbt_target_dir / "run_results.json").read_text())["metadata"][
        "invocation_id"
    ]
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        rows = con.execute(
            "select partition_date, bool_or(dbt_invocation_id = ?) from intermediate.int_events_sessionized "
            "group by partition_date",
            [invocation],
        ).fetchall()
    finally:
        con.close()
    return {day for day, rebuilt in rows if rebuilt}, {day for day, _ in rows}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    full = tmp_path_factory.mktemp("full-refresh")
    ecom("generate", "--scale", "tiny", "--start", str(START), "--end", str(END), data_dir=full)
    ecom("build", "--full-refresh", data_dir=full)

    daily = tmp_path_factory.mktemp("day-by-day")
    settings = Settings.load(data_dir=daily)
    link_days(full / "lake", daily / "lake", START, FIRST_BUILD_END)
    ecom("build", data_dir=daily)
    rebuilt = []
    for first, last in STEPS:
        link_days(full / "lake", daily / "lake", first, last)
        outcome = run_dbt(settings, "run", quiet=True)
        assert outcome.success, outcome.describe_failures()
        rebuilt.append(days_rebuilt(settings))
    return full, daily, rebuilt


def test_incremental_runs_rebuild_only_the_lookback_window(builds):
    """Each run rewrites the sessions of the lookback window before the newest day it held, plus the new days,
    and leaves every older day as the previous runs wrote it."""
    _, _, rebuilt = builds
    previous_end = [FIRST_BUILD_END] + [last for _, last in STEPS[:-1]]
    for (written, held), end, (_, last) in zip(rebuilt, previous_end, STEPS, strict=True):
        cutoff = end - dt.timedelta(days=LOOKBACK_DAYS)
        window = {day for day in held if cutoff <= day <= last}
        assert max(held) == last
        assert written == window, (sorted(written), cutoff, last)
        assert min(held) < cutoff  # older days exist and were left alone


@pytest.mark.parametrize("mart", MARTS)
def test_day_by_day_equals_full_refresh(builds, mart):
    full, daily, _ = builds
    con = duckdb.connect()
    try:
        con.execute(f"attach '{full / 'warehouse' / 'build.duckdb'}' as full_refresh (read_only)")
        con.execute(f"attach '{daily / 'warehouse' / 'build.duckdb'}' as day_by_day (read_only)")
        rows = con.execute(f"select count(*) from full_refresh.marts.{mart}").fetchone()[0]
        only_full = con.execute(
            f"select count(*) from (select * from full_refresh.marts.{mart} "
            f"except all select * from day_by_day.marts.{mart})"
        ).fetchone()[0]
        only_daily = con.execute(
            f"select count(*) from (select * from day_by_day.marts.{mart} "
            f"except all select * from full_refresh.marts.{mart})"
        ).fetchone()[0]
    finally:
        con.close()
    assert rows > 0
    assert (only_full, only_daily) == (0, 0)


def test_late_status_changes_reached_orders_outside_the_lookback(builds):
    """The window must exercise the late-change path: some order placed before the last lookback window
    changed state inside it, and the incremental build shows the change."""
    _, daily, _ = builds
    con = duckdb.connect(str(daily / "warehouse" / "build.duckdb"), read_only=True)
    try:
        late = con.execute(
            "select count(*) from intermediate.int_orders_enriched "
            "where order_status <> 'placed' and partition_date < status_changed_date - 3"
        ).fetchone()[0]
    finally:
        con.close()
    assert late > 0
