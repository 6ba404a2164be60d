"""The marts and the lake as tests read them: snapshots of the published marts, a mart of the build, a lake table."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb

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
    "dm_product_performance",
    "dm_hot_products",
    "dm_product_affinity",
)
# Statistical marts (DuckDB only): scored against the generator's truth in tests/stats/, not by a pandas copy.
STATISTICS_MARTS = (
    "dm_revenue_forecast",
    "dm_forecast_backtest",
    "dm_experiment_results",
    "dm_segment_comparisons",
)
# Scored against the truth instead of a pandas reference (tests/predict/), and DuckDB-only (dbt_project.yml).
PREDICTIVE_MARTS = (
    "dm_customer_churn",
    "dm_customer_lifetime_value",
    "dm_retention_targets",
    "dm_customer_clusters",
    "dm_customer_cluster_profiles",
)


def published_marts(data_dir: Path) -> dict[str, list[tuple]]:
    """Every table of the published `marts` schema, rows sorted, read as an analyst would (read-only)."""
    con = duckdb.connect(str(data_dir / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"
            ).fetchall()
        ]
        return {
            name: sorted(con.execute(f"select * from marts.{name}").fetchall(), key=repr) for name in names
        }
    finally:
        con.close()


def published_build_id(data_dir: Path) -> str:
    con = duckdb.connect(str(data_dir / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        return con.execute("select build_id from ecom_meta.publication").fetchone()[0]
    finally:
        con.close()


def lake_digest(data_dir: Path) -> dict[str, str]:
    lake = data_dir / "lake"
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
    }


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
