"""The same lake built by DuckDB and by Spark publishes the same marts, row for row, and again after new days land.

The window opens two weeks before Black Friday (the shop's opening date is moved there, so the lake is small
and contiguous) and runs through the Black Friday weekend, the sale the generator and the dbt project share.
The second run adds Cyber Monday and the days after it incrementally: their partitions hold late returns and
cancellations of orders placed days earlier, which both engines must carry into the older orders' state.

Each engine builds in its own data directory and publishes through the same gate (`ecom publish`); the test
compares the two published files. Tolerance: none, except for floating-point columns (rates and shares), which
may differ in the last bits because the engines sum doubles in different orders; they are compared with a
relative tolerance of 1e-9. Every other column (keys, counts, decimals, dates, timestamps, names) is exact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from generator.lake import link_days
from tests.support.ecom import ecom
from tests.support.marts import MARTS

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("spark_ready")]

OPENING = dt.date(2025, 11, 17)
FIRST_END = dt.date(2025, 11, 30)  # Black Friday weekend 11-28..11-30
SECOND_END = dt.date(2025, 12, 3)  # Cyber Monday 12-01, then ordinary days
ENV = {"ECOM_OPENING_DATE": OPENING.isoformat(), "ECOM_SCALE": "tiny"}
FLOAT_TOLERANCE = 1e-9


def build_and_publish(data_dir: Path, engine: str) -> None:
    ecom("build", "--engine", engine, data_dir=data_dir, env=ENV)
    ecom("publish", data_dir=data_dir, env=ENV)


def mart_differences(duck_db: Path, spark_db: Path) -> dict[str, str]:
    """For each mart: '' when both published files hold the same rows, else what differs."""
    con = duckdb.connect()
    found = {}
    try:
        con.execute(f"attach '{duck_db}' as duck (read_only)")
        con.execute(f"attach '{spark_db}' as spark (read_only)")
        for mart in MARTS:
            found[mart] = _differences(con, mart)
    finally:
        con.close()
    return found


def _columns(con, database: str, mart: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = 'marts' "
        "and table_name = ? order by column_index",
        [database, mart],
    ).fetchall()


def _differences(con, mart: str) -> str:
    columns = _columns(con, "duck", mart)
    if columns != _columns(con, "spark", mart):
        return f"columns differ: duckdb {columns} vs spark {_columns(con, 'spark', mart)}"
    floats = [c for c, t in columns if t in ("DOUBLE", "FLOAT")]
    exact = ", ".join(f'"{c}"' for c, t in columns if c not in floats)
    counts = [
        con.execute(f"select count(*) from {db}.marts.{mart}").fetchone()[0] for db in ("duck", "spark")
    ]
    if counts[0] != counts[1]:
        return f"row counts differ: duckdb {counts[0]} vs spark {counts[1]}"
    for left, right in (("duck", "spark"), ("spark", "duck")):
        extra = con.execute(
            f"select {exact} from {left}.marts.{mart} except all select {exact} from {right}.marts.{mart} limit 5"
        ).fetchall()
        if extra:
            return f"rows only {left} has (non-float columns): {extra}"
    if not floats:
        return ""
    # Pair the rows on every exact column (the key is among them) and compare the floats within the tolerance.
    on = " and ".join(f'd."{c}" is not distinct from s."{c}"' for c, t in columns if c not in floats)
    off = " or ".join(
        f'(d."{c}" is null) <> (s."{c}" is null) or abs(d."{c}" - s."{c}") > '
        f'{FLOAT_TOLERANCE} * greatest(abs(d."{c}"), abs(s."{c}"), 1e-12)'
        for c in floats
    )
    paired, wrong = con.execute(
        f"select count(*), count(*) filter (where {off}) "
        f"from duck.marts.{mart} as d inner join spark.marts.{mart} as s on {on}"
    ).fetchone()
    if paired != counts[0]:
        return f"{paired} of {counts[0]} rows pair up on the non-float columns"
    if wrong:
        sample = con.execute(
            f"select {', '.join(f'd.{c}, s.{c}' for c in floats)} from duck.marts.{mart} as d "
            f"inner join spark.marts.{mart} as s on {on} where {off} limit 3"
        ).fetchall()
        return f"{wrong} rows differ beyond {FLOAT_TOLERANCE} in {floats}: {sample}"
    return ""


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """One lake, built and published by each engine: first the window, then incrementally with new days."""
    source = tmp_path_factory.mktemp("lake-source")
    ecom("generate", "--start", str(OPENING), "--end", str(SECOND_END), data_dir=source, env=ENV)
    duck, spark = tmp_path_factory.mktemp("duckdb-engine"), tmp_path_factory.mktemp("spark-engine")
    runs = {}
    windows = [(OPENING, FIRST_END), (FIRST_END + dt.timedelta(days=1), SECOND_END)]
    for step, (first, last) in enumerate(windows):
        for data_dir, engine in ((duck, "duckdb"), (spark, "spark")):
            link_days(source / "lake", data_dir / "lake", first, last)
            build_and_publish(data_dir, engine)
        runs[step] = mart_differences(
            duck / "warehouse" / "ecommerce.duckdb", spark / "warehouse" / "ecommerce.duckdb"
        )
    return runs, duck, spark


@pytest.mark.parametrize("mart", MARTS)
def test_first_build_is_identical(engines, mart):
    runs, _, _ = engines
    assert runs[0][mart] == "", f"{mart}: {runs[0][mart]}"


@pytest.mark.parametrize("mart", MARTS)
def test_incremental_run_after_new_days_is_identical(engines, mart):
    runs, _, _ = engines
    assert runs[1][mart] == "", f"{mart}: {runs[1][mart]}"


def test_window_holds_a_sale_and_late_status_changes(engines):
    """The comparison covered what it claims to: a sale day, and orders whose state changed days later."""
    _, _, spark = engines
    con = duckdb.connect(str(spark / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        sale_days = con.execute("select count(*) from marts.dm_kpi_daily where is_sale_day").fetchone()[0]
        changed = con.execute(
            "select sum(cancelled_orders + returned_orders) from marts.dm_user_purchase_summary"
        ).fetchone()

        days = con.execute("select min(kpi_date), max(kpi_date) from marts.dm_kpi_daily").fetchone()
    finally:
        con.close()
    assert sale_days >= 4  # Black Friday to Cyber Monday
    assert changed[0] > 0  # cancellations (1-3 days later) and returns (5-30) arrive in later partitions
    assert days == (OPENING, SECOND_END)


def test_spark_build_published_through_the_gate(engines):
    """The published file says which build it holds, and that build is the Spark build that passed."""
    _, _, spark = engines
    con = duckdb.connect(str(spark / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        published = con.execute("select build_id from ecom_meta.publication").fetchone()[0]
        keys = con.execute("select count(distinct table_name) from ecom_meta.mart_keys").fetchone()[0]
    finally:
        con.close()
    state = (spark / "warehouse" / "build.json").read_text()
    assert f'"build_id": "{published}"' in state and '"status": "passed"' in state
    assert keys == len(MARTS)
