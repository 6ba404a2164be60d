"""A day-by-day incremental build gives the same marts as a full refresh of the same window, row for row.

The window is long enough for late cancellations (1-3 days after the order) to arrive for orders older than
the lookback window, which the incremental order model must pick up through the status-change partitions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from generator.lake import PART_FILE, TABLES
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


# --- a day older than the lookback window, re-generated with other rows --------------------------------------

REGENERATED_DAY, NEWEST_DAY = dt.date(2025, 9, 2), dt.date(2025, 9, 8)


def drop_browsing_sessions(lake: Path, day: dt.date) -> int:
    """Rewrite `day`'s clickstream without every fifth session that bought nothing: an earlier version of the
    day that still passes every test (no order points to those sessions). Returns how many were dropped."""
    part = lake / "user_events" / f"dt={day}" / PART_FILE
    events = pq.read_table(part)
    bought = pc.unique(
        pc.filter(events["session_id"], pc.equal(pc.cast(events["event_type"], pa.string()), "purchase"))
    )
    browsing = sorted(set(pc.unique(events["session_id"]).to_pylist()) - set(bought.to_pylist()))
    dropped = pa.array(browsing[::5], events.schema.field("session_id").type)
    kept = events.filter(pc.invert(pc.is_in(events["session_id"], value_set=dropped)))
    tmp = part.with_name(f".{PART_FILE}.tmp")
    pq.write_table(kept, tmp)
    os.replace(tmp, part)
    return len(dropped)


def table_differences(first: Path, second: Path, schemas: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Per table of `schemas` in either build database: (rows only in the first, rows only in the second),
    for the tables where they differ; the column recording which dbt invocation wrote a row is left out."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{first}' as first_db (read_only)")
        con.execute(f"attach '{second}' as second_db (read_only)")
        tables = con.execute(
            "select distinct schema_name, table_name from duckdb_tables() "
            "where database_name in ('first_db', 'second_db') and list_contains(?, schema_name) order by all",
            [list(schemas)],
        ).fetchall()
        differences = {}
        for schema, table in tables:
            columns = ", ".join(
                f'"{name}"'
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'first_db' "
                    "and schema_name = ? and table_name = ? and column_name <> 'dbt_invocation_id' "
                    "order by column_index",
                    [schema, table],
                ).fetchall()
            )
            a, b = f"first_db.{schema}.{table}", f"second_db.{schema}.{table}"
            counts = tuple(
                con.execute(
                    f"select count(*) from (select {columns} from {x} except all select {columns} from {y})"
                ).fetchone()[0]
                for x, y in ((a, b), (b, a))
            )
            if counts != (0, 0):
                differences[f"{schema}.{table}"] = counts
        return differences
    finally:
        con.close()


def test_a_day_regenerated_before_the_lookback_window_is_rebuilt_as_a_full_refresh_would(tmp_path):
    """A day older than the lookback window gets other rows after a passing build (re-generated, as after a
    fix): the next incremental build must rebuild it, giving what a full refresh of the same lake gives."""
    assert (NEWEST_DAY - REGENERATED_DAY).days > LOOKBACK_DAYS  # older than the plain lookback window
    data_dir = tmp_path / "data"
    build_db = data_dir / "warehouse" / "build.duckdb"
    ecom("generate", "--scale", "tiny", "--start", str(START), "--end", str(NEWEST_DAY), data_dir=data_dir)
    assert drop_browsing_sessions(data_dir / "lake", REGENERATED_DAY) > 0
    ecom("build", data_dir=data_dir)
    shutil.copy(build_db, tmp_path / "before.duckdb")

    day = str(REGENERATED_DAY)  # generated again: the whole day, other rows than the build read
    ecom("generate", "--scale", "tiny", "--start", day, "--end", day, data_dir=data_dir)
    ecom("build", data_dir=data_dir)
    shutil.copy(build_db, tmp_path / "incremental.duckdb")
    ecom("build", "--full-refresh", data_dir=data_dir)

    schemas = ("intermediate", "marts")
    assert table_differences(tmp_path / "before.duckdb", build_db, schemas)  # the day's rows did change
    assert table_differences(tmp_path / "incremental.duckdb", build_db, schemas) == {}
