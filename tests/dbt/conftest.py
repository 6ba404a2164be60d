"""Fixtures for the dbt suite: one generated and built `small` window shared by the truth and reference tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ecom

# From the opening day (returning users need their signup partitions) through Black Friday-Cyber Monday and into
# its post-sale week (a US lake: every promo period occurs).
SMALL_START = dt.date(2025, 9, 1)
SMALL_END = dt.date(2025, 12, 4)
MARTS = (
    "dm_kpi_daily",
    "dm_funnel_events",
    "dm_traffic_hourly",
    "dm_user_purchase_summary",
    "dm_category_performance",
    "dm_cohort_retention",
    "dm_rfm_segments",
)


@pytest.fixture(scope="session")
def small_build(tmp_path_factory) -> Path:
    """A `small` window generated and built (all dbt tests passing); returns its data dir."""
    data_dir = tmp_path_factory.mktemp("small-build")
    ecom(
        "generate", "--scale", "small", "--start", str(SMALL_START), "--end", str(SMALL_END),
        "--workers", "2", data_dir=data_dir,
    )  # fmt: skip
    ecom("build", data_dir=data_dir)
    return data_dir


def read_mart(data_dir: Path, name: str, order_by: str):
    con = duckdb.connect(str(data_dir / "warehouse" / "build.duckdb"), read_only=True)
    try:
        return con.execute(f"select * from marts.{name} order by {order_by}").df()
    finally:
        con.close()


def lake_frame(data_dir: Path, table: str):
    con = duckdb.connect()
    try:
        return (
            con.sql(
                f"select * from read_parquet('{data_dir / 'lake' / table}/dt=*/*.parquet', "
                "hive_partitioning = true, union_by_name = true)"
            )
            .to_arrow_table()
            .to_pandas()
        )  # through Arrow: decimals stay exact (Decimal objects)
    finally:
        con.close()
