"""Category performance: revenue, units and view-to-purchase per category and day (dm_category_performance),
of every category or of one picked."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.filters import Filters
from dashboard.marts import load, q, ratio
from dashboard.periods import (
    by_period,
    grain_picker,
    in_range,
    note_partial,
    period_chart,
    previous_label,
    shown_days,
    split,
)
from dashboard.ui import LABELS, Headline, count, headlines, money, percent, show, table
from pipeline.settings import Settings

TOP_CATEGORIES = 5
ALL = "All categories"
HEADLINES = (
    Headline("Category revenue", "revenue", money, source="dm_category_performance.revenue"),
    Headline("Net revenue", "net_revenue", money, source="dm_category_performance.net_revenue"),
    Headline("Units sold", "units", count, source="dm_category_performance.units"),
    Headline(
        "View to purchase",
        "view_to_purchase_rate",
        percent,
        rate=True,
        source="dm_category_performance.view_to_purchase_rate",
    ),
)

# ------------------------------------------------------------------------------------------ queries


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


def category_rows(
    days: pd.DataFrame, f: Filters, first_day: dt.date, category: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the range and of its previous period (see `periods.split`), of `category` alone when one is
    picked: a category's change compares it with itself, never with the whole shop."""
    current, previous = split(days, f, first_day)
    if category is None:
        return current, previous
    return current[current.category == category], previous[previous.category == category]


def category_headlines(rows: pd.DataFrame) -> dict:
    sums = {
        c: float(rows[c].sum()) for c in ("revenue", "net_revenue", "units", "purchases", "product_views")
    }
    sums["view_to_purchase_rate"] = ratio(sums["purchases"], sums["product_views"])
    return sums


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
    """Categories outside `top` folded into one "Other categories" row per period (of `periods.by_period`)."""
    df = df.assign(**{column: df[column].where(df[column].isin(top), "Other categories")})
    return df.groupby(["period", "days", "period_days", "partial", column], as_index=False).sum(
        numeric_only=True
    )


# ------------------------------------------------------------------------------------------------ page


def page() -> None:
    f = st.session_state.filters
    st.title("Category performance")
    days = load(category_days, f)
    names = category_totals(in_range(days, f)).category.tolist()
    picked = st.selectbox(
        "Category", [ALL, *names], key="category", help="Pick a category to see its numbers alone"
    )
    current, previous = category_rows(days, f, st.session_state.first_day, None if picked == ALL else picked)
    now = category_headlines(current)
    before = category_headlines(previous) if len(previous) else {}
    cols = st.columns(5)
    headlines(cols, HEADLINES, now, before, previous_label(f))
    totals = category_totals(current)
    if picked == ALL and len(totals):
        cols[4].metric(
            "Top category",
            str(totals.category.iloc[0]),
            help=f"{percent(totals.revenue_share.iloc[0])} of category revenue",
        )

    if picked == ALL:
        fig = px.bar(
            totals,
            x="category",
            y="revenue",
            color="department",
            labels=LABELS,
            category_orders={"department": sorted(days.department.unique())},
        )  # same colours whatever the dates
        fig.update_xaxes(categoryorder="total descending")
        show(fig, totals[["category", "department", "revenue", "units"]], "Revenue by category")
    grain = grain_picker("categories_grain")
    span = shown_days(f, st.session_state.first_day, st.session_state.last_day)
    periods = by_period(current, grain, ["revenue", "units"], span, ("category",))
    if picked == ALL:
        top = totals.category.head(TOP_CATEGORIES).tolist()
        periods = top_and_other(periods, top)
        title = f"Revenue per {grain.lower()}: top {len(top)} categories and the others"
        order = {"category": [*top, "Other categories"]}
    else:
        title = f"Revenue per {grain.lower()}: {picked}"
        order = {}
    fig, _ = period_chart(periods, grain, "revenue", color="category", labels=LABELS, category_orders=order)
    show(fig, periods.drop(columns="period_days"), title)
    note_partial(periods, grain)

    st.subheader("All categories in the selected dates")
    table(
        category_totals(in_range(days, f))[
            [
                "category",
                "department",
                "revenue",
                "net_revenue",
                "units",
                "orders",
                "revenue_share",
                "view_to_purchase_rate",
                "return_rate",
            ]
        ],
        "All categories in the selected dates",
        money_columns=("revenue", "net_revenue"),
        count_columns=("units", "orders"),
        percent_columns=("revenue_share", "view_to_purchase_rate", "return_rate"),
    )
