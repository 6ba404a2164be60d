"""Frames the statistical truth tests read straight from a generated lake (no build): what the dbt models feed
`predict/` with, computed with DuckDB over the lake's Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from generator.calendar import promo_period
from generator.experiments import EXPERIMENTS


def _read(lake: Path, table: str) -> str:
    return f"read_parquet('{lake}/{table}/dt=*/*.parquet', hive_partitioning = true, union_by_name = true)"


def daily_series(lake: Path, market: str = "us") -> tuple[pd.DataFrame, pd.Series]:
    """(orders and revenue per day, each day's promo period from the market's calendar)."""
    con = duckdb.connect()
    try:
        frame = con.execute(
            f"select cast(created_at as date) as day, count(*) as orders, "
            f"cast(sum(order_total) as double) as revenue from {_read(lake, 'orders')} group by 1 order by 1"
        ).df()
    finally:
        con.close()
    days = pd.Index([pd.Timestamp(d).date() for d in frame["day"]])
    frame.index = days
    return frame[["orders", "revenue"]], pd.Series([promo_period(d, market) for d in days], index=days)


def experiment_plan() -> pd.DataFrame:
    """The plan as the dbt seed holds it, with the truth beside it (`true_relative_effect`)."""
    return pd.DataFrame(
        [
            {
                "experiment_id": e.experiment_id,
                "unit": e.unit,
                "allocation": e.allocation,
                "target_metric": e.target_metric,
                "true_relative_effect": e.true_relative_effect,
            }
            for e in EXPERIMENTS
        ]
    )


def experiment_frames(lake: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per experiment x variant x unit: sessions, converted sessions, orders, order value; per order of an
    exposed session: its value), as int_experiment_units and int_experiment_orders build them."""
    units_of = " ".join(f"when '{e.experiment_id}' then '{e.unit}'" for e in EXPERIMENTS)
    con = duckdb.connect()
    try:
        con.execute(
            f"""create temp table exposed as
            select cast(e.experiment_id as varchar) as experiment_id, cast(e.variant as varchar) as variant,
                e.session_id, e.user_id, case cast(e.experiment_id as varchar) {units_of} end as unit
            from {_read(lake, "experiment_exposures")} as e"""
        )
        con.execute(
            f"""create temp table session_orders as
            select session_id, order_id, cast(order_total as double) as order_value from {_read(lake, "orders")}"""
        )
        units = con.execute(
            """select experiment_id, variant,
                case when unit = 'user' then user_id else exposed.session_id end as unit_id,
                count(distinct exposed.session_id) as sessions,
                count(distinct session_orders.session_id) as converted_sessions,
                count(session_orders.order_id) as orders,
                coalesce(sum(session_orders.order_value), 0) as order_value
            from exposed left join session_orders on exposed.session_id = session_orders.session_id
            where unit_id is not null group by all"""
        ).df()
        orders = con.execute(
            """select experiment_id, variant, order_id, order_value
            from exposed inner join session_orders on exposed.session_id = session_orders.session_id"""
        ).df()
    finally:
        con.close()
    return units, orders


def window(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
