"""The dashboard's queries over the published marts, written once for DuckDB and PostgreSQL.

Every function opens, queries and closes (see `pipeline.serve.read_marts`): the dashboard never holds the
published file, so it never blocks a publish, and each page load reads the version published now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pipeline.serve import read_marts
from pipeline.settings import Settings

STAGES = ("view", "cart", "checkout", "purchase")
PROMO_PERIODS = ("pre_sale", "sale", "post_sale", "regular")


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    channels: tuple[str, ...] = ()  # empty: every channel
    devices: tuple[str, ...] = ()  # empty: every device

    @property
    def segmented(self) -> bool:
        return bool(self.channels or self.devices)

    def where(self, date_column: str, params: dict, with_segments: bool = True) -> str:
        """A portable WHERE clause over the date range (and channel/device when asked), filling `params`."""
        params.update(start=self.start, end=self.end)
        clauses = [f"{date_column} between %(start)s and %(end)s"]
        if with_segments:
            for column, values in (("channel", self.channels), ("device", self.devices)):
                if values:
                    names = [f"{column}_{i}" for i in range(len(values))]
                    params.update(zip(names, values, strict=True))
                    clauses.append(f"{column} in ({', '.join(f'%({n})s' for n in names)})")
        return " and ".join(clauses)


def q(settings: Settings, sql: str, params: dict | None = None) -> pd.DataFrame:
    return read_marts(settings, sql, params)


def publication(settings: Settings) -> dict:
    df = q(settings, "select build_id, published_at from ecom_meta.publication")
    return df.iloc[0].to_dict() if len(df) else {}


def date_bounds(settings: Settings) -> tuple[dt.date, dt.date]:
    df = q(settings, "select min(kpi_date) as first_day, max(kpi_date) as last_day from marts.dm_kpi_daily")
    return _date(df.first_day[0]), _date(df.last_day[0])


def segments(settings: Settings) -> tuple[list[str], list[str]]:
    channels = q(settings, "select distinct channel from marts.dm_funnel_events order by channel").channel
    devices = q(settings, "select distinct device from marts.dm_funnel_events order by device").device
    return list(channels), list(devices)


# ------------------------------------------------------------------------------------------------ KPIs


def kpi_totals(settings: Settings, f: Filters) -> dict:
    """Headline numbers of the range. Sessions and conversion follow the channel/device filter (funnel mart);
    orders and revenue are shop-wide (orders are not attributed to a channel in dm_kpi_daily)."""
    params: dict = {}
    df = q(
        settings,
        "select sum(sessions) as sessions, sum(orders) as orders, sum(revenue) as revenue, "
        f"sum(new_users) as new_users from marts.dm_kpi_daily where {f.where('kpi_date', params, False)}",
        params,
    )
    totals = {k: _num(v) for k, v in df.iloc[0].items()}
    if f.segmented:
        params = {}
        seg = q(
            settings,
            "select sum(case when stage = 'view' then sessions else 0 end) as sessions, "
            "sum(case when stage = 'purchase' then sessions_reached else 0 end) as purchasing_sessions "
            f"from marts.dm_funnel_events where {f.where('funnel_date', params)}",
            params,
        )
        totals["sessions"] = _num(seg.sessions[0])
        totals["conversion_rate"] = _ratio(_num(seg.purchasing_sessions[0]), totals["sessions"])
    else:
        totals["conversion_rate"] = _ratio(totals["orders"], totals["sessions"])
    totals["average_order_value"] = _ratio(totals["revenue"], totals["orders"])
    return totals


def kpi_daily(settings: Settings, f: Filters) -> pd.DataFrame:
    params: dict = {}
    return q(
        settings,
        "select kpi_date, promo_period, sessions, orders, revenue, average_order_value, conversion_rate, "
        f"cart_abandonment_rate, is_sale_day from marts.dm_kpi_daily where {f.where('kpi_date', params, False)} "
        "order by kpi_date",
        params,
    )


# ------------------------------------------------------------------------------------------ categories


def category_totals(settings: Settings, f: Filters) -> pd.DataFrame:
    params: dict = {}
    return q(
        settings,
        "select category, department, sum(revenue) as revenue, sum(net_revenue) as net_revenue, "
        "sum(units) as units, sum(orders) as orders, sum(product_views) as product_views, "
        "sum(purchases) as purchases, sum(returned_units) as returned_units "
        f"from marts.dm_category_performance where {f.where('performance_date', params, False)} "
        "group by category, department order by revenue desc, category",
        params,
    )


def category_daily(settings: Settings, f: Filters) -> pd.DataFrame:
    params: dict = {}
    return q(
        settings,
        "select performance_date, category, revenue, revenue_7d from marts.dm_category_performance "
        f"where {f.where('performance_date', params, False)} order by performance_date, category",
        params,
    )


# ----------------------------------------------------------------------------------------------- cohorts


def cohorts(settings: Settings, f: Filters, cohort_type: str) -> pd.DataFrame:
    params: dict = {"cohort_type": cohort_type}
    return q(
        settings,
        "select cohort_month, period_number, cohort_users, active_users, retention_rate, "
        "cumulative_revenue_per_user from marts.dm_cohort_retention "
        f"where cohort_type = %(cohort_type)s and {f.where('cohort_month', params, False)} "
        "order by cohort_month, period_number",
        {**params, "start": _month_start(f.start)},
    )


# ------------------------------------------------------------------------------------------------ funnel


def funnel(settings: Settings, f: Filters) -> pd.DataFrame:
    """Sessions reaching each stage, by promo period, over the filtered days, channels and devices."""
    params: dict = {}
    return q(
        settings,
        "select promo_period, stage, stage_number, sum(sessions) as sessions, "
        "sum(sessions_reached) as sessions_reached, sum(previous_stage_sessions) as previous_stage_sessions "
        f"from marts.dm_funnel_events where {f.where('funnel_date', params)} "
        "group by promo_period, stage, stage_number order by stage_number, promo_period",
        params,
    )


# ----------------------------------------------------------------------------------------------- traffic


def traffic_hourly(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select weekday, weekday_name, hour, sessions, average_sessions_per_day, conversion_rate "
        "from marts.dm_traffic_hourly order by weekday, hour",
    )


def traffic_daily(settings: Settings, f: Filters) -> pd.DataFrame:
    """Sessions per day (from the funnel mart, so the channel/device filter applies) and the sale days."""
    params: dict = {}
    return q(
        settings,
        "select funnel_date as day, sum(sessions) as sessions, bool_or(is_sale_day) as is_sale_day, "
        "min(promo_period) as promo_period "
        f"from marts.dm_funnel_events where stage = 'view' and {f.where('funnel_date', params)} "
        "group by funnel_date order by funnel_date",
        params,
    )


# --------------------------------------------------------------------------------------------------- RFM


def rfm_segments(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select segment_name, count(*) as customers, sum(monetary) as revenue, avg(recency_days) as "
        "average_recency_days, avg(frequency) as average_frequency from marts.dm_rfm_segments "
        "group by segment_name order by revenue desc",
    )


def rfm_scores(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select recency_score, frequency_score, count(*) as customers, sum(monetary) as revenue "
        "from marts.dm_rfm_segments group by recency_score, frequency_score",
    )


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _num(value) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0
