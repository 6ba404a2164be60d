"""How the dashboard writes numbers and draws: compact headline formats, a row of headlines (from a table of
them) with their changes against the previous period, a chart helper that labels axes for people and offers what
the chart shows as CSV, and formatted tables."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.definitions import describe

SALE_COLORS = ["#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]

# Column names as a person reads them, for axes, legends, tables and exported files.
LABELS = {
    "day": "Day",
    "period": "Period",
    "revenue": "Revenue ($)",
    "net_revenue": "Net revenue ($)",
    "orders": "Orders",
    "sessions": "Sessions",
    "purchasing_sessions": "Purchasing sessions",
    "cart_sessions": "Sessions with a cart",
    "new_users": "New users",
    "units": "Units sold",
    "conversion_rate": "Conversion",
    "cart_abandonment_rate": "Cart abandonment",
    "average_order_value": "Average order value ($)",
    "category": "Category",
    "department": "Department",
    "product_views": "Product views",
    "purchases": "Purchases",
    "returned_units": "Returned units",
    "view_to_purchase_rate": "View to purchase",
    "return_rate": "Return rate",
    "revenue_share": "Share of revenue",
    "cohort": "Cohort",
    "cohort_month": "Cohort month",
    "period_number": "Months since the cohort month",
    "cohort_users": "Users in the cohort",
    "active_users": "Active users",
    "retention_rate": "Retention",
    "cumulative_revenue_per_user": "Cumulative revenue per user ($)",
    "stage": "Stage",
    "sessions_reached": "Sessions reaching the stage",
    "step_conversion_rate": "Step conversion",
    "window": "Window",
    "channel": "Channel",
    "weekday_name": "Weekday",
    "hour": "Hour",
    "average_sessions_per_day": "Sessions per day",
    "segment_name": "Segment",
    "customers": "Customers",
    "customer_share": "Share of customers",
    "average_recency_days": "Days since last order (average)",
    "average_frequency": "Orders per customer (average)",
    "recency_score": "Recency score",
    "frequency_score": "Frequency score",
    "event": "Sale event",
    "region": "Region",
    "users": "Registered users",
    "buyers": "Buyers",
    "buyer_share": "Share who bought",
    "net_revenue_per_buyer": "Net revenue per buyer ($)",
}


def money(value: float) -> str:
    """$1,234.56 up to ten thousand, then $12.3K and $5.50M: a headline never needs truncating."""
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f}M"
    if abs(value) >= 1e4:
        return f"${value / 1e3:,.1f}K"
    return f"${value:,.2f}"


def count(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if abs(value) >= 1e5:
        return f"{value / 1e3:,.1f}K"
    return f"{value:,.0f}"


def percent(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.2%}"


def change(current: float | None, previous: float | None, rate: bool = False) -> str | None:
    """The change against the previous period: relative for amounts, in percentage points for rates; None when
    there is nothing to compare with."""
    if current is None or previous is None or pd.isna(current) or pd.isna(previous):
        return None
    if rate:
        return f"{(current - previous) * 100:+.2f} pp"
    if previous == 0:
        return None
    return f"{current / previous - 1:+.1%}"


@dataclass(frozen=True)
class Headline:
    """One headline of a page: its label, the key of its number in the page's totals, how the number is written,
    and how its change against the previous period reads: in percentage points for a rate, else relative; a rise
    shows green, or red when `lower_is_better` (cart abandonment). Its help defines it: `meaning` when the page
    computes it, else the dbt description of `source` (a mart's "model.column")."""

    label: str
    key: str
    format: Callable[[float], str]
    rate: bool = False
    lower_is_better: bool = False
    source: str = ""
    meaning: str = ""

    def definition(self) -> str:
        """What the headline counts, and where from: shown in its help."""
        text = self.meaning or describe(self.source)
        where = f" (`{self.source}`)" if self.source else ""
        over = (
            " Over several days it is the ratio of their sums, not a mean of daily rates."
            if self.rate
            else ""
        )
        return f"**{self.label}**: {text}{where}{over}" if text else ""

    def value(self, now: dict) -> str:
        return self.format(now[self.key])

    def change(self, now: dict, before: dict) -> str | None:
        return change(now[self.key], before.get(self.key), rate=self.rate)


def headlines(
    columns,
    row: Sequence[Headline],
    now: dict,
    before: dict,
    previous: tuple[str, str],
    notes: Mapping[str, str] | None = None,
) -> None:
    """`row` in the first of `columns`, each with its change against `before` (the previous period's totals, empty
    when the data does not hold all of it), and under the row the line that says what the changes compare with.
    `previous` is (short name, full dates); `notes` (by key) open a headline's help."""
    _, full = previous
    for column, h in zip(columns, row, strict=False):
        delta = h.change(now, before)
        column.metric(
            h.label,
            h.value(now),
            delta=delta if delta is not None else "no earlier data",
            delta_color=("inverse" if h.lower_is_better else "normal") if delta is not None else "off",
            delta_arrow="auto" if delta is not None else "off",
            help="\n\n".join(
                part
                for part in (
                    h.definition(),
                    (notes or {}).get(h.key, ""),
                    f"Change against {full}."
                    if delta is not None
                    else f"The data does not hold all of {full}.",
                )
                if part
            ),
        )
    st.caption(
        f"Changes against {full}." if before else f"No change shown: the data does not hold all of {full}."
    )


def humanize(name: str) -> str:
    """A channel or device as a person writes it: organic_search -> Organic search."""
    return name.replace("_", " ").capitalize()


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def show(fig: go.Figure, table: pd.DataFrame, title: str) -> None:
    """Draw `fig` titled `title` and, under it, a CSV download of `table`: the rows the chart draws, with the
    column names the chart shows."""
    fig.update_layout(title=title, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    slug = _slug(title)
    st.plotly_chart(fig, width="stretch", key=f"chart-{slug}")
    csv_download(table.rename(columns=LABELS), slug, key=f"csv-{slug}", help=f"The data of “{title}”")


def csv_download(frame: pd.DataFrame, slug: str, key: str, help: str) -> None:
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode(),
        file_name=f"{slug}.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
        help=help,
    )


def table(df: pd.DataFrame, title: str, money_columns=(), percent_columns=(), count_columns=()) -> None:
    """A static table with human headers, money in dollars, ratios as percentages, other numbers rounded and
    dates written out, every row shown; under it, a CSV download of its numbers (unrounded).

    A static table rather than an interactive grid: these tables hold a few dozen rows at most, and the grid
    draws on a canvas whose accessible text (what a screen reader reads, what a copy takes) is the raw number
    (0.5334570335150179 for 0.53%), whatever format the column shows."""
    formats = {}
    for column in df.columns:
        if column in money_columns:
            formats[column] = "${:,.2f}"
        elif column in percent_columns:
            formats[column] = percent
        elif column in count_columns or pd.api.types.is_integer_dtype(df[column]):
            formats[column] = "{:,.0f}"
        elif pd.api.types.is_float_dtype(df[column]):
            formats[column] = "{:,.1f}"
        elif any(isinstance(v, dt.date) for v in df[column].head(1)):
            formats[column] = "{:%d %b %Y}"
    shown = df.rename(columns=LABELS)
    styled = shown.style.format({LABELS.get(c, c): f for c, f in formats.items()}, na_rep="n/a")
    st.table(styled.hide(axis="index"), hide_index=True)
    slug = _slug(title)
    csv_download(shown, slug, key=f"csv-table-{slug}", help=f"The data of the table “{title}”")
