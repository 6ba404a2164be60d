"""How the dashboard reads the published marts: queries written once for DuckDB and PostgreSQL, their rows as
typed frames, cached per published build; and the queries of the app itself (the publication, the date bounds
and the channels and devices the sidebar offers).

Every query opens, queries and closes (see `pipeline.read.read_marts`): the dashboard never holds the published
file, so it never blocks a publish. The pages' queries are plain functions of (settings, ...): the app caches
them per published build (`load`), and the tests and `bench/` call them directly.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import streamlit as st

from pipeline.read import read_marts
from pipeline.settings import Settings


def q(settings: Settings, sql: str, params: dict | None = None, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    df = read_marts(settings, sql, params)
    for column in df.columns:
        if column in dates:
            df[column] = pd.to_datetime(df[column])
        elif df[column].dtype == object and isinstance(_first(df[column]), Decimal | int | float):
            df[column] = pd.to_numeric(df[column])  # PostgreSQL numerics arrive as Decimal
    return df


def _first(values: pd.Series):
    present = values.dropna()
    return present.iloc[0] if len(present) else None


def load(query: Callable, *args):
    """`query(settings, *args)`, cached per published build (a new publish shows at the next page load)."""
    name = f"{query.__module__}.{query.__qualname__}"
    return _cache()(st.session_state.settings, st.session_state.build_key, name, query, *args)


@functools.cache
def _cache():
    # Made at first use, in the app: the pages' modules import without a Streamlit runtime (tests, bench/).
    return st.cache_data(max_entries=256, show_spinner=False)(_run)


def _run(_settings, build_key: str, name: str, _query: Callable, *args):
    # Keyed by the build and the query's name: neither the settings nor the function itself is hashed.
    return _query(_settings, *args)


def publication(settings: Settings) -> dict:
    df = read_marts(settings, "select build_id, published_at from ecom_meta.publication")
    return df.iloc[0].to_dict() if len(df) else {}


def date_bounds(settings: Settings) -> tuple[dt.date, dt.date]:
    df = read_marts(
        settings, "select min(kpi_date) as first_day, max(kpi_date) as last_day from marts.dm_kpi_daily"
    )
    return _date(df.first_day[0]), _date(df.last_day[0])


def segments(settings: Settings) -> tuple[list[str], list[str]]:
    df = read_marts(settings, "select distinct channel, device from marts.dm_funnel_events")
    return sorted(set(df.channel)), sorted(set(df.device))


def ratio(a: float, b: float) -> float:
    """a / b, or 0 when there is nothing to divide by (a headline over no sessions)."""
    return a / b if b else 0.0


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()
