"""The dashboard's queries over the published marts, written once for DuckDB and PostgreSQL, and the pandas
that turns their rows into what a page shows (totals, periods, sale events).

Every query opens, queries and closes (see `pipeline.read.read_marts`): the dashboard never holds the published
file, so it never blocks a publish. Nothing here imports Streamlit: the app caches these functions per published
build, and the tests and `bench/` call them directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

import pandas as pd

from pipeline.read import read_marts
from pipeline.settings import Settings

STAGES = ("view", "cart", "checkout", "purchase")
PROMO_PERIODS = ("pre_sale", "sale", "post_sale")
GRAINS = {"Day": "D", "Week": "W", "Month": "M"}


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    channels: tuple[str, ...] = ()  # empty: every channel
    devices: tuple[str, ...] = ()  # empty: every device

    @property
    def segmented(self) -> bool:
        return bool(self.channels or self.devices)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of equal length just before this one, with the same channels and devices."""
        return replace(
            self, start=self.start - dt.timedelta(days=self.days), end=self.start - dt.timedelta(days=1)
        )

    def where(
        self, date_column: str, params: dict, with_segments: bool = True, start: dt.date | None = None
    ) -> str:
        """A portable WHERE clause over the date range (and channel/device when asked), filling `params`."""
        params.update(start=start or self.start, end=self.end)
        clauses = [f"{date_column} between %(start)s and %(end)s"]
        if with_segments:
            for column, values in (("channel", self.channels), ("device", self.devices)):
                if values:
                    names = [f"{column}_{i}" for i in range(len(values))]
                    params.update(zip(names, values, strict=True))
                    clauses.append(f"{column} in ({', '.join(f'%({n})s' for n in names)})")
        return " and ".join(clauses)


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


# ------------------------------------------------------------------------------------------- KPIs, by day


def kpi_days(settings: Settings, f: Filters) -> pd.DataFrame:
    """One row per day from the start of the previous period to the end: orders, revenue and signups (shop-wide,
    dm_kpi_daily) beside sessions, cart and purchasing sessions of the chosen channels and devices
    (dm_funnel_events), and the day's sale event window."""
    params: dict = {}
    traffic_where = f.where("funnel_date", params, start=f.previous().start)
    return q(
        settings,
        "with traffic as (select funnel_date, "
        "sum(case when stage = 'view' then sessions else 0 end) as sessions, "
        "sum(case when stage = 'cart' then sessions_reached else 0 end) as cart_sessions, "
        "sum(case when stage = 'purchase' then sessions_reached else 0 end) as purchasing_sessions "
        f"from marts.dm_funnel_events where {traffic_where} group by funnel_date) "
        "select k.kpi_date as day, k.promo_period, k.promotion_name, k.is_sale_day, k.orders, k.revenue, "
        "k.new_users, coalesce(t.sessions, 0) as sessions, coalesce(t.cart_sessions, 0) as cart_sessions, "
        "coalesce(t.purchasing_sessions, 0) as purchasing_sessions "
        "from marts.dm_kpi_daily as k left join traffic as t on t.funnel_date = k.kpi_date "
        "where k.kpi_date between %(start)s and %(end)s order by k.kpi_date",
        params,
        dates=("day",),
    )


def kpi_totals(days: pd.DataFrame) -> dict:
    """Headline numbers of a set of days (the rates are over the whole set, not averages of daily rates)."""
    sums = {c: float(days[c].sum()) for c in ("orders", "revenue", "new_users", "sessions", "cart_sessions",
                                              "purchasing_sessions")}  # fmt: skip
    sums["average_order_value"] = _ratio(sums["revenue"], sums["orders"])
    sums["conversion_rate"] = _ratio(sums["purchasing_sessions"], sums["sessions"])
    sums["cart_abandonment_rate"] = _ratio(
        sums["cart_sessions"] - sums["purchasing_sessions"], sums["cart_sessions"]
    )
    return sums


def in_range(df: pd.DataFrame, f: Filters, column: str = "day") -> pd.DataFrame:
    return df[(df[column] >= pd.Timestamp(f.start)) & (df[column] <= pd.Timestamp(f.end))]


def by_period(df: pd.DataFrame, grain: str, sums: list[str], keys: tuple[str, ...] = (), column: str = "day"):
    """Sum `sums` per day, week (starting Monday) or month, labelled by the period's first day."""
    period = df[column].dt.to_period(GRAINS[grain]).dt.start_time
    out = df.assign(period=period).groupby(["period", *keys], as_index=False)[sums].sum()
    return out


def with_rates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["conversion_rate"] = df.purchasing_sessions / df.sessions.where(df.sessions > 0)
    df["cart_abandonment_rate"] = (df.cart_sessions - df.purchasing_sessions) / df.cart_sessions.where(
        df.cart_sessions > 0
    )
    df["average_order_value"] = df.revenue / df.orders.where(df.orders > 0)
    return df


# ------------------------------------------------------------------------------------------- sale events


def label_events(days: pd.DataFrame) -> pd.DataFrame:
    """Add `event`: the sale event a day belongs to (its pre-sale week, sale days and post-sale week), named
    after the promotion and the year of its sale days, e.g. "Black Friday 2025"; None on regular days.

    A promotion name comes back every year, so an event is a run of consecutive days with one name."""
    days = days.sort_values("day").reset_index(drop=True)
    named = days.promotion_name.notna()
    new_run = named & (
        (days.promotion_name != days.promotion_name.shift()) | (days.day.diff() != pd.Timedelta(days=1))
    )
    run = new_run.cumsum().where(named)
    labels = {}
    for run_id, rows in days[named].groupby(run[named]):
        sale_days = rows[rows.promo_period == "sale"].day
        year = (sale_days.iloc[0] if len(sale_days) else rows.day.iloc[0]).year
        labels[run_id] = f"{rows.promotion_name.iloc[0].replace('_', ' ').title()} {year}"
    days["event"] = run.map(labels)
    return days


def sale_events(days: pd.DataFrame) -> pd.DataFrame:
    """One row per sale event with sale days among `days` (already labelled): its dates and what it sold,
    against the average regular day of the same set."""
    regular = days[days.promo_period == "regular"]
    regular_revenue = float(regular.revenue.mean()) if len(regular) else float("nan")
    rows = []
    for event, d in days[days.promo_period == "sale"].groupby("event", sort=False):
        totals = kpi_totals(d)
        rows.append({
            "Sale event": event,
            "First sale day": d.day.min().date(),
            "Last sale day": d.day.max().date(),
            "Sale days": len(d),
            "Orders": int(totals["orders"]),
            "Revenue": totals["revenue"],
            "Revenue per sale day": totals["revenue"] / len(d),
            "Lift vs a regular day": totals["revenue"] / len(d) / regular_revenue - 1 if regular_revenue else None,
            "Conversion": totals["conversion_rate"],
        })  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=[
            "Sale event",
            "First sale day",
            "Last sale day",
            "Sale days",
            "Orders",
            "Revenue",
            "Revenue per sale day",
            "Lift vs a regular day",
            "Conversion",
        ],
    )


def humanize(name: str) -> str:
    """A channel or device as a person writes it: organic_search -> Organic search."""
    return name.replace("_", " ").capitalize()


# ------------------------------------------------------------------------------------------ categories


def category_days(settings: Settings, f: Filters) -> pd.DataFrame:
    """Per category and day, from the start of the previous period to the end (no channel/device split)."""
    params: dict = {}
    return q(
        settings,
        "select performance_date as day, category, department, revenue, net_revenue, units, orders, "
        "product_views, cart_adds, purchases, returned_units from marts.dm_category_performance "
        f"where {f.where('performance_date', params, False, start=f.previous().start)} "
        "order by performance_date, category",
        params,
        dates=("day",),
    )


def category_totals(days: pd.DataFrame) -> pd.DataFrame:
    totals = days.groupby(["category", "department"], as_index=False)[
        ["revenue", "net_revenue", "units", "orders", "product_views", "purchases", "returned_units"]
    ].sum()
    totals["view_to_purchase_rate"] = totals.purchases / totals.product_views.where(totals.product_views > 0)
    totals["return_rate"] = totals.returned_units / totals.units.where(totals.units > 0)
    revenue = totals.revenue.sum()
    totals["revenue_share"] = totals.revenue / revenue if revenue else 0.0
    return totals.sort_values(["revenue", "category"], ascending=[False, True]).reset_index(drop=True)


def top_and_other(df: pd.DataFrame, top: list[str], column: str = "category") -> pd.DataFrame:
    """Categories outside `top` folded into one "Other categories" row per period."""
    df = df.assign(**{column: df[column].where(df[column].isin(top), "Other categories")})
    return df.groupby(["period", column], as_index=False).sum(numeric_only=True)


# ----------------------------------------------------------------------------------------------- cohorts


def cohort_rows(settings: Settings, f: Filters, cohort_type: str, months: int) -> pd.DataFrame:
    """Cohorts of `cohort_type` whose month starts from `months` months before the range's first month up to
    the range's end (the earlier months are the previous period of the headlines)."""
    params: dict = {"cohort_type": cohort_type}
    first = (pd.Timestamp(f.start).to_period("M") - months).start_time.date()
    return q(
        settings,
        "select cohort_month, period_number, cohort_users, active_users, retention_rate, "
        "cumulative_revenue_per_user from marts.dm_cohort_retention "
        f"where cohort_type = %(cohort_type)s and {f.where('cohort_month', params, False, start=first)} "
        "order by cohort_month, period_number",
        params,
        dates=("cohort_month",),
    )


def cohort_months(f: Filters) -> int:
    """How many cohort months the range touches."""
    return (f.end.year - f.start.year) * 12 + f.end.month - f.start.month + 1


def cohort_totals(df: pd.DataFrame) -> dict:
    first = df[df.period_number == 0]
    second = df[df.period_number == 1]
    with_second = first[first.cohort_month.isin(second.cohort_month)]
    return {
        "cohort_users": float(first.cohort_users.sum()),
        "cohorts": float(len(first)),
        "month_1_retention": _ratio(float(second.active_users.sum()), float(with_second.cohort_users.sum()))
        if len(second)
        else None,
    }


# ------------------------------------------------------------------------------------------------ funnel


def funnel_days(settings: Settings, f: Filters) -> pd.DataFrame:
    """Sessions reaching each stage per day over the chosen channels and devices, from the start of the previous
    period to the end, with the day's sale event window."""
    params: dict = {}
    return q(
        settings,
        "select funnel_date as day, stage, stage_number, min(promo_period) as promo_period, "
        "sum(sessions) as sessions, sum(sessions_reached) as sessions_reached, "
        "sum(previous_stage_sessions) as previous_stage_sessions from marts.dm_funnel_events "
        f"where {f.where('funnel_date', params, start=f.previous().start)} "
        "group by funnel_date, stage, stage_number order by funnel_date, stage_number",
        params,
        dates=("day",),
    )


def funnel_stages(df: pd.DataFrame) -> pd.DataFrame:
    stages = df.groupby(["stage_number", "stage"], as_index=False)[
        ["sessions", "sessions_reached", "previous_stage_sessions"]
    ].sum()
    stages["step_conversion_rate"] = stages.sessions_reached / stages.previous_stage_sessions.where(
        stages.previous_stage_sessions > 0
    )
    return stages.sort_values("stage_number").reset_index(drop=True)


def funnel_totals(df: pd.DataFrame) -> dict:
    stages = funnel_stages(df).set_index("stage")
    sessions = float(stages.sessions.get("view", 0.0))
    purchasing = float(stages.sessions_reached.get("purchase", 0.0))
    cart = float(stages.sessions_reached.get("cart", 0.0))
    return {
        "sessions": sessions,
        "purchasing_sessions": purchasing,
        "conversion_rate": _ratio(purchasing, sessions),
        "cart_abandonment_rate": _ratio(cart - purchasing, cart),
    }


# ----------------------------------------------------------------------------------------------- traffic


def traffic_hourly(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select weekday, weekday_name, hour, sessions, average_sessions_per_day, conversion_rate "
        "from marts.dm_traffic_hourly order by weekday, hour",
    )


def traffic_days(settings: Settings, f: Filters) -> pd.DataFrame:
    """Sessions per day and channel (the channel/device filter applies), from the previous period's start."""
    params: dict = {}
    return q(
        settings,
        "select funnel_date as day, channel, sum(case when stage = 'view' then sessions else 0 end) as sessions, "
        "sum(case when stage = 'purchase' then sessions_reached else 0 end) as purchasing_sessions "
        f"from marts.dm_funnel_events where stage in ('view', 'purchase') and "
        f"{f.where('funnel_date', params, start=f.previous().start)} "
        "group by funnel_date, channel order by funnel_date, channel",
        params,
        dates=("day",),
    )


# --------------------------------------------------------------------------------------------------- RFM


def _in_region(region: str | None, params: dict) -> str:
    """A join of RFM rows (alias r) to their users' region, when one region is asked for."""
    if region is None:
        return ""
    params["region"] = region
    return (
        " inner join marts.dm_user_purchase_summary as u on u.user_id = r.user_id and u.region = %(region)s"
    )


def rfm_segments(settings: Settings, region: str | None = None) -> pd.DataFrame:
    """Customers, net revenue, recency and frequency per RFM segment, of every customer or of one region's."""
    params: dict = {}
    return q(
        settings,
        "select r.segment_name, count(*) as customers, sum(r.monetary) as revenue, avg(r.recency_days) as "
        "average_recency_days, avg(r.frequency) as average_frequency, max(r.as_of_date) as as_of_date "
        f"from marts.dm_rfm_segments as r{_in_region(region, params)} group by r.segment_name order by revenue desc",
        params,
        dates=("as_of_date",),
    )


def rfm_scores(settings: Settings, region: str | None = None) -> pd.DataFrame:
    params: dict = {}
    return q(
        settings,
        "select r.recency_score, r.frequency_score, count(*) as customers, sum(r.monetary) as revenue "
        f"from marts.dm_rfm_segments as r{_in_region(region, params)} group by r.recency_score, r.frequency_score",
        params,
    )


def region_totals(settings: Settings) -> pd.DataFrame:
    """Per region (where users live): registered users, buyers and their net revenue, largest revenue first."""
    df = q(
        settings,
        "select region, count(*) as users, sum(case when is_buyer then 1 else 0 end) as buyers, "
        "sum(net_revenue) as net_revenue from marts.dm_user_purchase_summary group by region",
    )
    df["buyer_share"] = df.buyers / df.users.where(df.users > 0)
    df["net_revenue_per_buyer"] = df.net_revenue / df.buyers.where(df.buyers > 0)
    return df.sort_values(["net_revenue", "region"], ascending=[False, True]).reset_index(drop=True)


def top_regions(totals: pd.DataFrame, top: int) -> pd.DataFrame:
    """The `top` regions by net revenue, and one row for the rest ("Other regions (N)")."""
    head, rest = totals.head(top), totals.iloc[top:]
    if rest.empty:
        return head[["region", "net_revenue", "buyers"]]
    other = pd.DataFrame({"region": [f"Other regions ({len(rest)})"], "net_revenue": [rest.net_revenue.sum()],
                          "buyers": [rest.buyers.sum()]})  # fmt: skip
    return pd.concat([head[["region", "net_revenue", "buyers"]], other], ignore_index=True)


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0
