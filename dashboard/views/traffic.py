"""Traffic: sessions per day and channel (dm_funnel_events), and the weekday x hour pattern of the whole
history (dm_traffic_hourly)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.filters import Filters
from dashboard.marts import load, q
from dashboard.periods import (
    by_period,
    grain_picker,
    note_partial,
    period_chart,
    previous_label,
    shown_days,
    split,
)
from dashboard.ui import LABELS, Headline, count, headlines, humanize, show
from pipeline.settings import Settings

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HEADLINES = (
    Headline("Sessions", "sessions", count, source="dm_funnel_events.sessions"),
    Headline(
        "Sessions per day",
        "sessions_per_day",
        count,
        meaning="Sessions of the selected dates divided by the days among them that hold data.",
    ),
)

# ------------------------------------------------------------------------------------------ queries


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


def traffic_totals(days: pd.DataFrame) -> dict:
    sessions = float(days.sessions.sum())
    return {"sessions": sessions, "sessions_per_day": sessions / max(days.day.nunique(), 1)}


# ------------------------------------------------------------------------------------------------ page


def page() -> None:
    f = st.session_state.filters
    st.title("Traffic")
    rows = load(traffic_days, f)
    current, previous = split(rows, f, st.session_state.first_day)
    now = traffic_totals(current)
    before = traffic_totals(previous) if len(previous) else {}
    hourly = load(traffic_hourly)
    cols = st.columns(3)
    headlines(cols, HEADLINES, now, before, previous_label(f))
    if len(hourly):
        busiest = hourly.loc[hourly.average_sessions_per_day.idxmax()]
        cols[2].metric(
            "Busiest hour (all history)",
            f"{busiest.weekday_name[:3]} {int(busiest.hour):02d}:00 UTC",
            help="From the weekday x hour mart, which covers the whole history of every channel",
        )

    grain = grain_picker("traffic_grain")
    span = shown_days(f, st.session_state.first_day, st.session_state.last_day)
    periods = by_period(current, grain, ["sessions", "purchasing_sessions"], span, ("channel",))
    periods["channel"] = periods.channel.map(humanize)
    fig, _ = period_chart(periods, grain, "sessions", color="channel", labels=LABELS)
    show(fig, periods.drop(columns="period_days"), f"Sessions per {grain.lower()} by channel")
    note_partial(periods, grain)

    grid = hourly.pivot(index="weekday_name", columns="hour", values="average_sessions_per_day")
    grid = grid.reindex([d for d in WEEKDAYS if d in grid.index])
    fig = px.imshow(
        grid,
        aspect="auto",
        color_continuous_scale="Viridis",
        labels={"x": LABELS["hour"], "y": "Weekday", "color": "Sessions per day"},
    )
    fig.update_xaxes(dtick=2)
    show(
        fig,
        hourly[["weekday_name", "hour", "average_sessions_per_day"]],
        "Average sessions per day, weekday x hour (whole history, all channels and devices)",
    )
    st.caption(
        "The weekday x hour mart is not split by day, channel or device: the filters do not apply to it."
    )
