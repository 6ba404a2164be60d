"""Cohort retention: the cohorts of signup or first-purchase months in the range, month by month
(dm_cohort_retention); their previous period is the cohort months before."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.filters import Filters
from dashboard.marts import load, q, ratio
from dashboard.ui import LABELS, Headline, count, headlines, percent, show
from pipeline.settings import Settings

HEADLINES = (
    Headline(
        "Users in these cohorts",
        "cohort_users",
        count,
        source="dm_cohort_retention.cohort_users",
        meaning="Users whose signup (or first purchase) month is in the selected dates.",
    ),
    Headline("Cohorts", "cohorts", count, meaning="Cohort months in the selected dates."),
    Headline(
        "Month-1 retention",
        "month_1_retention",
        percent,
        rate=True,
        source="dm_cohort_retention.retention_rate",
        meaning="Share of a cohort's users with a completed order in the month after the cohort month, over the "
        "cohorts that have that month in the data.",
    ),
)

# ------------------------------------------------------------------------------------------ queries


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
        "month_1_retention": ratio(float(second.active_users.sum()), float(with_second.cohort_users.sum()))
        if len(second)
        else None,
    }


def history_notes(first_day: dt.date, last_day: dt.date, has_month_1: bool) -> list[str]:
    """What a short history cannot show, said plainly: month-1 retention without a cohort that has a month
    after it (in the data, or in the dates picked), and the newest month when the data holds only part of it."""
    held = (
        f"the data holds {(last_day - first_day).days + 1} days ({first_day:%d %b %Y} to {last_day:%d %b %Y})"
    )
    notes = []
    if not has_month_1 and (first_day.year, first_day.month) < (last_day.year, last_day.month):
        # the data has earlier cohorts with a month after them: the dates picked only the newest one
        notes.append(
            f"Month-1 retention needs a cohort with a month after it: the selected dates hold only {last_day:%b %Y}, "
            "the newest month, which has none yet. Pick dates that start in an earlier month (Whole history shows "
            "every cohort)."
        )
    elif not has_month_1:
        notes.append(
            f"Month-1 retention needs a cohort with a month after it in the data: {held}. Cohorts are by calendar "
            "month (dm_cohort_retention), so it shows once the data reaches into the month after the first "
            "cohort's."
        )
    month_end = (pd.Timestamp(last_day).to_period("M").end_time).date()
    if last_day < month_end:
        month_start = last_day.replace(day=1)
        notes.append(
            f"{last_day:%b %Y}, the newest month, is partial: {held}, so its activity covers "
            f"{(last_day - max(month_start, first_day)).days + 1} of its {month_end.day} days."
        )
    return notes


# ------------------------------------------------------------------------------------------------ page


def page() -> None:
    f = st.session_state.filters
    st.title("Cohort retention")
    cohort_type = st.radio(
        "Cohorts by",
        ["signup", "first_purchase"],
        horizontal=True,
        key="cohort_type",
        format_func={"signup": "Signup month", "first_purchase": "First purchase month"}.get,
    )
    months = cohort_months(f)
    rows = load(cohort_rows, f, cohort_type, months)
    first_month = pd.Timestamp(f.start).to_period("M").start_time
    current, previous = rows[rows.cohort_month >= first_month], rows[rows.cohort_month < first_month]
    if (first_month.to_period("M") - months).start_time < pd.Timestamp(st.session_state.first_day).to_period(
        "M"
    ).start_time:
        previous = previous.iloc[0:0]  # the previous months are not all in the data
    now = cohort_totals(current)
    before = cohort_totals(previous) if len(previous) else {}
    plural = "s" if months > 1 else ""
    prev = (f"previous {months} month{plural}", f"the cohorts of the previous {months} month{plural}")
    headlines(st.columns(3), HEADLINES, now, before, prev)
    st.caption("Cohorts whose month is in the selected dates; each follows its users to the newest month.")
    if current.empty:
        st.info("No cohort starts in the selected range.")
        return
    for note in history_notes(
        st.session_state.first_day, st.session_state.last_day, now["month_1_retention"] is not None
    ):
        st.info(note)
    current = current.assign(cohort=current.cohort_month.dt.strftime("%Y-%m"))
    grid = current.pivot(index="cohort", columns="period_number", values="retention_rate")
    # The colour scale runs from 0 to the highest retention shown, except month 0 of first-purchase cohorts,
    # 100% by definition, which would wash out every later month.
    scaled = current[(current.period_number > 0) | (cohort_type != "first_purchase")].retention_rate
    top = float(scaled.max()) if len(scaled) else 1.0
    fig = px.imshow(
        grid,
        text_auto=".1%",
        aspect="auto",
        color_continuous_scale="Blues",
        zmin=0,
        zmax=top,
        labels={"x": LABELS["period_number"], "y": LABELS["cohort"], "color": "Retention"},
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    fig.update_coloraxes(colorbar_tickformat=".0%")
    show(
        fig,
        current[["cohort", "period_number", "cohort_users", "active_users", "retention_rate"]],
        "Share of the cohort active (a completed order) in each month",
    )
    if current.period_number.max() == 0:  # one dot per cohort, on an axis that spans -1 to 1
        st.info("Cumulative revenue per user needs a second month of data after a cohort's month.")
        return
    fig = px.line(
        current,
        x="period_number",
        y="cumulative_revenue_per_user",
        color="cohort",
        markers=True,
        labels=LABELS,
    )
    fig.update_xaxes(dtick=1, tick0=0)
    show(
        fig,
        current[["cohort", "period_number", "cumulative_revenue_per_user"]],
        "Cumulative revenue per user",
    )
