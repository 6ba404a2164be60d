"""The training and scoring inputs, read from the lake with DuckDB into the frames `predict.features` takes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd


@dataclass(frozen=True)
class CustomerFrames:
    users: pd.DataFrame
    orders: pd.DataFrame
    sessions: pd.DataFrame
    first_day: dt.date | None
    last_day: dt.date | None

    @property
    def days(self) -> int:
        return 0 if self.first_day is None else (self.last_day - self.first_day).days + 1


def _glob(lake: Path, table: str) -> str:
    return f"read_parquet('{lake / table}/dt=*/*.parquet', hive_partitioning = true, union_by_name = true)"


def read_customer_frames(lake: Path, until: dt.date | None = None) -> CustomerFrames:
    """Users, orders (with the category of their largest line) and sessions of the lake, up to `until`."""
    lake = Path(lake)
    if not (lake / "orders").is_dir() or not any((lake / "orders").glob("dt=*/*.parquet")):
        empty = pd.DataFrame()
        return CustomerFrames(empty, empty, empty, None, None)
    limit = f"and dt <= date '{until.isoformat()}'" if until else ""
    con = duckdb.connect()
    try:
        span = con.sql(f"select min(dt), max(dt) from {_glob(lake, 'orders')} where true {limit}").fetchall()[
            0
        ]
        users = con.sql(
            f"""select user_id, cast(signup_at as date) as signup_date, acquisition_channel as channel,
                       device, region
                from {_glob(lake, "users")} where true {limit} order by user_id"""
        ).df()
        orders = con.sql(
            f"""with items as (
                    select i.order_id, p.category, i.line_total,
                           row_number() over (partition by i.order_id order by i.line_total desc,
                                              i.order_item_id) as line_rank
                    from {_glob(lake, "order_items")} as i
                    left join (select distinct product_id, category from {_glob(lake, "products")}) as p
                        on i.product_id = p.product_id
                    where true {limit.replace("dt", "i.dt")}
                )
                select o.order_id, o.user_id, cast(o.created_at as date) as order_date,
                       cast(o.order_total as double) as order_total, items.category
                from {_glob(lake, "orders")} as o
                left join items on items.order_id = o.order_id and items.line_rank = 1
                where true {limit.replace("dt", "o.dt")}
                order by o.order_id"""
        ).df()
        sessions = con.sql(
            f"""select user_id, min(cast(event_at as date)) as session_date
                from {_glob(lake, "user_events")}
                where user_id is not null {limit}
                group by session_id, user_id order by session_id"""
        ).df()
    finally:
        con.close()
    return CustomerFrames(users, orders, sessions, span[0], span[1])
