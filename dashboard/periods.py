"""The range a page shows and the previous period its headlines compare with, and its charts by day, week or
month."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.filters import Filters

GRAINS = {"Day": "D", "Week": "W", "Month": "M"}


def in_range(df: pd.DataFrame, f: Filters, column: str = "day") -> pd.DataFrame:
    return df[(df[column] >= pd.Timestamp(f.start)) & (df[column] <= pd.Timestamp(f.end))]


def split(
    rows: pd.DataFrame, f: Filters, first_day: dt.date, column: str = "day"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the range, and those of the previous period when the data (from `first_day`) covers all of
    it (else none: a change against a partial period would mislead)."""
    covered = f.previous().start >= first_day
    previous = in_range(rows, f.previous(), column) if covered else rows.iloc[0:0]
    return in_range(rows, f, column), previous


def previous_label(f: Filters) -> tuple[str, str]:
    p = f.previous()
    return f"previous {f.days} days", f"the previous {f.days} days ({p.start:%d %b %Y} to {p.end:%d %b %Y})"


def by_period(df: pd.DataFrame, grain: str, sums: list[str], keys: tuple[str, ...] = (), column: str = "day"):
    """Sum `sums` per day, week (starting Monday) or month, labelled by the period's first day."""
    period = df[column].dt.to_period(GRAINS[grain]).dt.start_time
    out = df.assign(period=period).groupby(["period", *keys], as_index=False)[sums].sum()
    return out


def grain_picker(key: str) -> str:
    return st.segmented_control("Show by", list(GRAINS), default="Day", key=key, required=True)


def period_axis(fig: go.Figure, grain: str) -> None:
    """Dates on every x axis, the axis title once (on the bottom axis when a chart has rows)."""
    fig.update_xaxes(tickformat="%d %b %Y" if grain != "Month" else "%b %Y")
    fig.update_layout(xaxis_title_text=grain)
