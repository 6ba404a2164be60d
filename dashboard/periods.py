"""The range a page shows and the previous period its headlines compare with, and its charts by day, week or
month: how many days of each period the range holds (a 2-day first week is marked partial, not read as a 7x
jump), and charts that stay readable with one or two periods (bars from zero, ticks on the periods)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard.filters import Filters

GRAINS = {"Day": "D", "Week": "W", "Month": "M"}
FEW_PERIODS = 2  # up to this many periods a chart draws bars: a line of one point is a dot on a zoomed axis
MAX_TICKS = 12


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


def shown_days(f: Filters, first_day: dt.date, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """The days a chart of the range can hold: the range within the data."""
    return max(f.start, first_day), min(f.end, last_day)


def shown_of(start: dt.date, end: dt.date, f: Filters, first_day: dt.date, last_day: dt.date) -> str:
    """How much of a window of days (a sale event, the week after it) the page shows: "all 4 days", or "3 of 5
    days: the data ends on 31 Dec 2025" (or the selected dates start or end), so a cut window is not read whole."""
    total = (end - start).days + 1
    lo, hi = max(start, f.start, first_day), min(end, f.end, last_day)
    held = max((hi - lo).days + 1, 0)
    if held == total:
        return f"all {total} days"
    why = []
    if end > min(f.end, last_day):
        why.append(
            f"the data ends on {last_day:%d %b %Y}"
            if f.end >= last_day
            else f"the selected dates end on {f.end:%d %b %Y}"
        )
    if start < max(f.start, first_day):
        why.append(
            f"the data starts on {first_day:%d %b %Y}"
            if f.start <= first_day
            else f"the selected dates start on {f.start:%d %b %Y}"
        )
    return f"{held} of {total} days: {' and '.join(why)}"


def by_period(
    df: pd.DataFrame,
    grain: str,
    sums: list[str],
    span: tuple[dt.date, dt.date],
    keys: tuple[str, ...] = (),
    column: str = "day",
) -> pd.DataFrame:
    """Sum `sums` per day, week (starting Monday) or month, labelled by the period's first day, with `days`
    (how many of the period's days lie in `span`, the days shown), `period_days` (how many it has) and
    `partial` (fewer shown than it has)."""
    period = df[column].dt.to_period(GRAINS[grain]).dt.start_time
    out = df.assign(period=period).groupby(["period", *keys], as_index=False)[sums].sum()
    return out.join(coverage(out.period, grain, span))


def coverage(starts: pd.Series, grain: str, span: tuple[dt.date, dt.date]) -> pd.DataFrame:
    """For periods starting at `starts`: their days inside `span`, their length and whether they are partial."""
    first, last = pd.Timestamp(span[0]), pd.Timestamp(span[1])
    ends = starts.dt.to_period(GRAINS[grain]).dt.end_time.dt.normalize()
    length = (ends - starts).dt.days + 1
    held = (ends.clip(upper=last) - starts.clip(lower=first)).dt.days + 1
    return pd.DataFrame({"days": held, "period_days": length, "partial": held < length}, index=starts.index)


def period_name(start: pd.Timestamp, grain: str) -> str:
    return {"Day": f"{start:%d %b %Y}", "Week": f"week of {start:%d %b %Y}", "Month": f"{start:%b %Y}"}[grain]


def partial_text(row) -> str:
    return f"partial: {row.days} of {row.period_days} days" if row.partial else ""


def partial_note(periods: pd.DataFrame, grain: str) -> str | None:
    """The line under a chart that names its partial periods, or None when every period is whole."""
    partial = periods[periods.partial].drop_duplicates("period").sort_values("period")
    if partial.empty:
        return None
    named = ", ".join(
        f"{period_name(r.period, grain)} ({r.days} of {r.period_days} days)" for r in partial.itertuples()
    )
    unit = grain.lower()
    return (
        f"Partial {unit}s, marked on the chart: {named}. The selected dates and the data hold only those days, "
        f"so their totals are not comparable with a whole {unit}'s."
    )


def period_chart(
    periods: pd.DataFrame, grain: str, y: str, from_zero: bool = True, **kwargs
) -> tuple[go.Figure, bool]:
    """A chart of `y` over the periods: lines (with a marker per period above a daily grain), or bars when there
    are one or two periods, on a category axis (a single bar on a date axis is a millisecond wide). Partial
    periods are lighter bars or open markers, with "partial: 2 of 7 days" on hover. Returns the figure and
    whether it draws bars (its x values are then the periods' names, see `chart_x`)."""
    few = periods.period.nunique() <= FEW_PERIODS
    drawn = periods.assign(partial_text=[partial_text(r) for r in periods.itertuples()])
    if few:
        drawn = drawn.assign(period=chart_x(drawn.period, grain, True))
        fig = px.bar(drawn, x="period", y=y, barmode="group", custom_data=["partial_text"], **kwargs)
        fig.update_xaxes(
            type="category", categoryorder="array", categoryarray=list(dict.fromkeys(drawn.period))
        )
    else:
        fig = px.line(drawn, x="period", y=y, markers=grain != "Day", custom_data=["partial_text"], **kwargs)
        ticks = sorted(drawn.period.unique())
        every = math.ceil(len(ticks) / MAX_TICKS)
        fig.update_xaxes(
            tickvals=ticks[::every], tickformat="%d %b %Y" if grain != "Month" else "%b %Y", type="date"
        )
    for trace in fig.data:
        flags = [bool(text) for text in trace.customdata[:, 0]]
        trace.hovertemplate += "<br>%{customdata[0]}"
        if few:
            trace.marker.opacity = [0.45 if p else 1.0 for p in flags]
            trace.text = trace.customdata[:, 0]
            trace.textposition = "inside"
        elif any(flags):
            trace.marker.symbol = ["circle-open" if p else "circle" for p in flags]
            trace.marker.size = [11 if p else 6 for p in flags]
    if from_zero:
        fig.update_yaxes(rangemode="tozero")
    fig.update_layout(xaxis_title_text=grain)
    return fig, few


def chart_x(days: pd.Series, grain: str, few: bool) -> pd.Series:
    """Where days (period starts) sit on a period chart's x axis: the dates, or the periods' names on bars."""
    return days.map(lambda d: period_name(d, grain).capitalize()) if few else days


def grain_picker(key: str) -> str:
    return st.segmented_control("Show by", list(GRAINS), default="Day", key=key, required=True)


def note_partial(periods: pd.DataFrame, grain: str) -> None:
    note = partial_note(periods, grain)
    if note:
        st.caption(note)
