"""The KPI overview: revenue, orders and sessions by day (dm_kpi_daily beside dm_funnel_events), and the sale
events those days belong to."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.filters import Filters
from dashboard.marts import load, q, ratio
from dashboard.periods import (
    by_period,
    chart_x,
    grain_picker,
    note_partial,
    period_chart,
    previous_label,
    shown_days,
    shown_of,
    split,
)
from dashboard.ui import LABELS, SALE_COLORS, Headline, count, headlines, money, percent, show, table
from generator.calendar import SaleEvent, sale_on
from pipeline.settings import Settings

HEADLINES = (
    Headline("Revenue", "revenue", money, source="dm_kpi_daily.revenue"),
    Headline("Orders", "orders", count, source="dm_kpi_daily.orders"),
    Headline("Average order value", "average_order_value", money, source="dm_kpi_daily.average_order_value"),
    Headline("Sessions", "sessions", count, source="dm_funnel_events.sessions"),
    Headline("Conversion", "conversion_rate", percent, rate=True, source="dm_kpi_daily.conversion_rate"),
)
SHOP_WIDE = ("revenue", "orders", "average_order_value")  # orders are not attributed to a channel or device

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
    sums = {
        c: float(days[c].sum())
        for c in ("orders", "revenue", "new_users", "sessions", "cart_sessions", "purchasing_sessions")
    }
    sums["average_order_value"] = ratio(sums["revenue"], sums["orders"])
    sums["conversion_rate"] = ratio(sums["purchasing_sessions"], sums["sessions"])
    sums["cart_abandonment_rate"] = ratio(
        sums["cart_sessions"] - sums["purchasing_sessions"], sums["cart_sessions"]
    )
    return sums


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


def event_window(first_sale_day: pd.Timestamp, market: str) -> SaleEvent:
    """The sale event (of the market's calendar, as dbt's promotions seed) a sale day belongs to."""
    return sale_on(first_sale_day.date(), market)


def sale_events(
    days: pd.DataFrame, f: Filters, first_day: dt.date, last_day: dt.date, market: str
) -> pd.DataFrame:
    """One row per sale event with sale days among `days` (already labelled): its dates, how many of its sale
    days are shown (an event cut by the data's edge or the dates says so), and what it sold, against the
    average regular day of the same set."""
    regular = days[days.promo_period == "regular"]
    regular_revenue = float(regular.revenue.mean()) if len(regular) else float("nan")
    rows = []
    for event, d in days[days.promo_period == "sale"].groupby("event", sort=False):
        totals = kpi_totals(d)
        window = event_window(d.day.min(), market)
        rows.append(
            {
                "Sale event": event,
                "First sale day": d.day.min().date(),
                "Last sale day": d.day.max().date(),
                "Sale days": len(d),
                "Sale days shown": shown_of(window.start, window.end, f, first_day, last_day),
                "Orders": int(totals["orders"]),
                "Revenue": totals["revenue"],
                "Revenue per sale day": totals["revenue"] / len(d),
                "Lift vs a regular day": totals["revenue"] / len(d) / regular_revenue - 1
                if regular_revenue
                else None,
                "Conversion": totals["conversion_rate"],
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Sale event",
            "First sale day",
            "Last sale day",
            "Sale days",
            "Sale days shown",
            "Orders",
            "Revenue",
            "Revenue per sale day",
            "Lift vs a regular day",
            "Conversion",
        ],
    )


def cut_events(events: pd.DataFrame) -> dict[str, str]:
    """Event -> how many of its sale days are shown, of the events not shown whole (of `sale_events`)."""
    cut = events[~events["Sale days shown"].str.startswith("all ")]
    return dict(zip(cut["Sale event"], cut["Sale days shown"], strict=True))


# ------------------------------------------------------------------------------------------------ page


def page() -> None:
    f = st.session_state.filters
    st.title("KPI overview")
    days = label_events(load(kpi_days, f))
    current, previous = split(days, f, st.session_state.first_day)
    now = kpi_totals(current)
    before = kpi_totals(previous) if len(previous) else {}
    shop = "All channels and devices (orders are not attributed to one). " if f.segmented else ""
    headlines(st.columns(5), HEADLINES, now, before, previous_label(f), notes=dict.fromkeys(SHOP_WIDE, shop))
    if f.segmented:
        st.info(
            "Channel and device apply to sessions, conversion and cart abandonment. Revenue, orders and average "
            "order value stay shop-wide: the marts do not attribute orders to a channel or device."
        )

    first_day, last_day = st.session_state.first_day, st.session_state.last_day
    events = sale_events(current, f, first_day, last_day, st.session_state.settings.lake_market())
    cut = cut_events(events)

    grain = grain_picker("kpis_grain")
    sums = ["revenue", "orders", "sessions", "cart_sessions", "purchasing_sessions"]
    span = shown_days(f, first_day, last_day)
    periods = with_rates(by_period(current, grain, sums, span))
    fig, few = period_chart(periods, grain, "revenue", labels=LABELS)
    fig.data[0].update(name="Revenue", showlegend=False)
    exported = periods[["period", "revenue", "orders", "days", "partial"]]
    if grain == "Day":
        exported = current[["day", "revenue", "orders", "event", "promo_period"]].rename(
            columns={"day": "period"}
        )
        sale = current[current.promo_period == "sale"]
        for i, (event, rows) in enumerate(sale.groupby("event", sort=False)):
            fig.add_scatter(
                x=chart_x(rows.day, grain, few),
                y=rows.revenue,
                mode="markers",
                name=f"{event} ({cut[event].split(':')[0]} shown)" if event in cut else event,
                marker={"color": SALE_COLORS[i % len(SALE_COLORS)], "size": 10},
            )
    fig.update_layout(legend_title_text="Sale days")
    show(
        fig,
        exported,
        f"Revenue per {grain.lower()}" + (", sale days of each event marked" if grain == "Day" else ""),
    )
    note_partial(periods, grain)

    rates = periods.melt(
        id_vars=["period", "days", "period_days", "partial"],
        value_vars=["conversion_rate", "cart_abandonment_rate"],
        var_name="measure",
        value_name="share",
    )
    rates["measure"] = rates.measure.map(LABELS)
    # Two rows, each with its own scale: conversion (a few percent) would lie flat under cart abandonment
    # (70-90%) on one axis.
    fig, _ = period_chart(
        rates,
        grain,
        "share",
        from_zero=False,
        color="measure",
        facet_row="measure",
        labels={"share": "Share of sessions", "measure": ""},
        height=520,
    )
    fig.update_yaxes(matches=None, tickformat=".1%")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    segment = "the chosen channels and devices" if f.segmented else "all sessions"
    show(
        fig,
        periods[
            [
                "period",
                "sessions",
                "cart_sessions",
                "purchasing_sessions",
                "conversion_rate",
                "cart_abandonment_rate",
                "days",
                "partial",
            ]
        ],
        f"Conversion and cart abandonment per {grain.lower()} ({segment})",
    )

    st.subheader("Sale events")
    if events.empty:
        st.info("No sale day in the selected dates.")
    else:
        for event, note in cut.items():
            st.caption(f"{event}: sale days shown {note}. Its numbers are of those days only.")
        table(
            events,
            "Sale events",
            money_columns=("Revenue", "Revenue per sale day"),
            percent_columns=("Lift vs a regular day", "Conversion"),
        )
