"""A day-by-day incremental build gives the same marts as a full refresh of the same window, row for row.

The window is long enough for late cancellations (1-3 days after the order) to arrive for orders older than
the lookback window, which the incremental order model must pick up through the status-change partitions.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from generator.lake import TABLES
from pipeline.dbt import run_dbt
from pipeline.settings import Settings
from tests.conftest import ecom
from tests.dbt.conftest import MARTS

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


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    full = tmp_path_factory.mktemp("full-refresh")
    ecom("generate", "--scale", "tiny", "--start", str(START), "--end", str(END), data_dir=full)
    ecom("build", "--full-refresh", data_dir=full)

    daily = tmp_path_factory.mktemp("day-by-day")
    settings = Settings.load(env={"ECOM_DATA_DIR": str(daily)})
    link_days(full / "lake", daily / "lake", START, FIRST_BUILD_END)
    ecom("build", data_dir=daily)
    compiled = []
    for first, last in STEPS:
        link_days(full / "lake", daily / "lake", first, last)
        outcome = run_dbt(settings, "run", quiet=True)
        assert outcome.success, outcome.describe_failures()
        compiled_sql = (
            settings.dbt_target_dir / "compiled/ecommerce/models/intermediate/int_events_sessionized.sql"
        )
        compiled.append(compiled_sql.read_text())
    return full, daily, compiled


def test_incremental_runs_only_read_the_lookback_window(builds):
    _, _, compiled = builds
    # The cutoff is inlined as a literal: newest day held (the previous step's end) minus the 3-day lookback.
    previous_end = [FIRST_BUILD_END] + [last for _, last in STEPS[:-1]]
    for sql, end in zip(compiled, previous_end, strict=True):
        cutoff = end - dt.timedelta(days=3)
        assert f"partition_date >= cast('{cutoff.isoformat()}' as date)" in sql


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
