"""The training and scoring inputs, read from the lake with DuckDB into the frames `predict.features` takes."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
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


def read_customer_frames(
    lake: Path, until: dt.date | None = None, cache: Path | None = None
) -> CustomerFrames:
    """Users, orders (with the category of their largest line) and sessions of the lake, up to `until`.

    The sessions come from the whole clickstream, the one input that grows by millions of rows a day: with
    `cache`, each lake day's sessions are kept there (`session_days`), so a refresh reads only the new days'
    events.
    """
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
        if cache is None:
            sessions = con.sql(
                f"""select user_id, session_date from (
                        select {SESSION_COLUMNS} from {_glob(lake, "user_events")}
                        where user_id is not null {limit} group by session_id, user_id
                    ) order by session_id"""
            ).df()
        else:
            files = [str(f) for f in session_days(con, lake, cache, until)]
            sessions = (
                con.sql(
                    "select user_id, session_date from read_parquet(?) order by session_id", params=[files]
                ).df()
                if files
                else pd.DataFrame(
                    {"user_id": pd.Series(dtype="int64"), "session_date": pd.Series(dtype="datetime64[us]")}
                )
            )
    finally:
        con.close()
    return CustomerFrames(users, orders, sessions, span[0], span[1])


SESSION_COLUMNS = "session_id, user_id, min(cast(event_at as date)) as session_date"


def session_days(con, lake: Path, cache: Path, until: dt.date | None = None) -> list[Path]:
    """One Parquet file of (session_id, user_id, session_date) per lake day up to `until`, in `cache`.

    A day's file is named after the size and modification time of that day's clickstream files, so a day that
    is re-generated is read again and every other day is read from the cache. The generator writes each session
    into the partition of the day it starts (a session never spans two partitions), so grouping a day's events
    by session gives the same rows as grouping the whole clickstream. Files are written under a temporary name
    and renamed: a reader never sees half of one, and two processes filling the cache write the same bytes.
    """
    out = []
    for day_dir in sorted((Path(lake) / "user_events").glob("dt=*")):
        day = day_dir.name.removeprefix("dt=")
        parts = sorted(day_dir.glob("*.parquet"))
        if not parts or (until is not None and day > until.isoformat()):
            continue
        stats = [(p.name, p.stat()) for p in parts]
        signature = hashlib.sha256(
            "|".join(f"{name}:{st.st_size}:{st.st_mtime_ns}" for name, st in stats).encode()
        ).hexdigest()[:16]
        target = cache / f"dt={day}" / f"{signature}.parquet"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            for stale in target.parent.glob("*.parquet"):
                stale.unlink(missing_ok=True)
            partial = target.with_name(f".{signature}.{os.getpid()}.tmp")
            con.execute(
                f"""copy (select {SESSION_COLUMNS} from read_parquet(?) where user_id is not null
                          group by session_id, user_id order by session_id)
                    to '{partial}' (format parquet)""",
                [[str(p) for p in parts]],
            )
            os.replace(partial, target)
        out.append(target)
    return out
