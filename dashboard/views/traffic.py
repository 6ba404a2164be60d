"""Traffic: sessions per day and channel (dm_funnel_events), and the weekday x hour pattern of the whole
history (dm_traffic_hourly), read in the shop's time zone."""

from __future__ import annotations

import datetime as dt

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
from generator.markets import market
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


def local_hours(hourly: pd.DataFrame, zone: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The mart's UTC weekday x hour grid in time zone `zone`.

    The mart holds weekdays and hours, not days, so each UTC cell is moved by the zone's offset on each of the
    data's days (`first` to `last`) that has its weekday, split in the share of those days (a day under summer
    time moves one hour less), as if the cell's sessions were spread evenly over its days."""
    instants = pd.date_range(first, last + dt.timedelta(days=1), freq="h", inclusive="left", tz="UTC")
    local = instants.tz_convert(zone)
    hours = pd.DataFrame(
        {
            "weekday": instants.weekday + 1,
            "hour": instants.hour,
            "local_weekday": local.weekday + 1,
            "local_hour": local.hour,
        }
    )
    moves = hours.groupby(["weekday", "hour", "local_weekday", "local_hour"], as_index=False).size()
    moves["share"] = moves["size"] / moves.groupby(["weekday", "hour"])["size"].transform("sum")
    moved = hourly.merge(moves, on=["weekday", "hour"])
    for column in ("sessions", "average_sessions_per_day"):
        moved[column] = moved[column] * moved.share
    grid = moved.groupby(["local_weekday", "local_hour"], as_index=False)[
        ["sessions", "average_sessions_per_day"]
    ].sum()
    grid = grid.rename(columns={"local_weekday": "weekday", "local_hour": "hour"})
    grid.insert(1, "weekday_name", grid.weekday.map(lambda d: WEEKDAYS[d - 1]))
    return grid.sort_values(["weekday", "hour"]).reset_index(drop=True)


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
    zone = market(st.session_state.settings.lake_market()).time_zone
    hourly = local_hours(load(traffic_hourly), zone, st.session_state.first_day, st.session_state.last_day)
    cols = st.columns(3)
    headlines(cols, HEADLINES, now, before, previous_label(f))
    if len(hourly):
        busiest = hourly.loc[hourly.average_sessions_per_day.idxmax()]
        cols[2].metric(
            "Busiest hour (all history)",
            f"{busiest.weekday_name[:3]} {int(busiest.hour):02d}:00",
            help=f"In the shop's time zone, {zone}. From the weekday x hour mart, which covers the whole "
            "history of every channel",
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
        labels={"x": f"Hour ({zone.replace('_', ' ')})", "y": "Weekday", "color": "Sessions per day"},
    )
    fig.update_xaxes(dtick=2)
    show(
        fig,
        hourly[["weekday_name", "hour", "average_sessions_per_day"]],
        "Average sessions per day, weekday x hour (whole history, all channels and devices)",
    )
    st.caption(
        "The weekday x hour mart is not split by day, channel or device: the filters do not apply to it. It "
        f"counts hours in UTC; they are shown in {zone}, each moved by that zone's offset on the data's days "
        "(summer time included), as if a weekday's sessions were spread evenly over its days."
    )
