"""The funnel: sessions reaching each stage over the chosen channels and devices (dm_funnel_events), and its
step conversion around a sale event against regular days."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard.filters import Filters
from dashboard.marts import load, q, ratio
from dashboard.periods import previous_label, shown_of, split
from dashboard.ui import LABELS, Headline, count, headlines, percent, show, table
from dashboard.views.kpis import event_window, kpi_days, label_events
from generator.calendar import PROMO_WINDOW_DAYS
from pipeline.settings import Settings

STAGES = ("view", "cart", "checkout", "purchase")
HEADLINES = (
    Headline("Sessions", "sessions", count, source="dm_funnel_events.sessions"),
    Headline(
        "Purchasing sessions",
        "purchasing_sessions",
        count,
        source="dm_funnel_events.sessions_reached",
        meaning="Sessions that reached the purchase stage (placed an order).",
    ),
    Headline(
        "Session conversion", "conversion_rate", percent, rate=True, source="dm_kpi_daily.conversion_rate"
    ),
    Headline(
        "Cart abandonment",
        "cart_abandonment_rate",
        percent,
        rate=True,
        lower_is_better=True,
        source="dm_kpi_daily.cart_abandonment_rate",
    ),
)

# ------------------------------------------------------------------------------------------ queries


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
        "conversion_rate": ratio(purchasing, sessions),
        "cart_abandonment_rate": ratio(cart - purchasing, cart),
    }


def around_notes(
    sale_start: dt.date, sale_end: dt.date, f: Filters, first_day: dt.date, last_day: dt.date
) -> list[str]:
    """What the weeks before and after a sale lack: "No week after to compare: the data ends on 31 Dec 2025."
    when none of its days is shown, or how many are when only some are."""
    week = dt.timedelta(days=PROMO_WINDOW_DAYS)
    notes = []
    for name, start, end in (
        ("week before", sale_start - week, sale_start - dt.timedelta(days=1)),
        ("week after", sale_end + dt.timedelta(days=1), sale_end + week),
    ):
        shown = shown_of(start, end, f, first_day, last_day)
        if shown.startswith("0 of "):
            notes.append(f"No {name} to compare: {shown.split(': ', 1)[1]}.")
        elif not shown.startswith("all "):
            notes.append(f"The {name}: {shown}.")
    return notes


# ------------------------------------------------------------------------------------------------ page


def page() -> None:
    f = st.session_state.filters
    st.title("Funnel")
    rows = load(funnel_days, f)
    current, previous = split(rows, f, st.session_state.first_day)
    now = funnel_totals(current)
    before = funnel_totals(previous) if len(previous) else {}
    headlines(st.columns(4), HEADLINES, now, before, previous_label(f))

    stages = funnel_stages(current)
    shown = pd.DataFrame(
        {
            "stage": ["session", *stages.stage],
            "sessions_reached": [now["sessions"], *stages.sessions_reached],
        }
    )
    fig = go.Figure(
        go.Funnel(
            y=shown.stage.map(str.title),
            x=shown.sessions_reached,
            texttemplate="%{value:,}<br>%{percentPrevious:.0%}",
        )
    )
    fig.update_layout(xaxis_title="Sessions", yaxis_title="Stage")
    show(fig, shown, "Sessions reaching each stage (drop-off between stages)")

    st.subheader("Around a sale event")
    days = label_events(load(kpi_days, f))[["day", "event"]]
    labelled = current.merge(days, on="day", how="left")
    events = labelled[labelled.promo_period == "sale"].event.dropna().unique().tolist()
    if not events:
        st.info(
            "No sale day in the selected dates: widen the dates to compare a sale with the weeks around it."
        )
        return
    event = st.selectbox("Sale event", events, index=len(events) - 1, key="funnel_event")
    windows = labelled[labelled.event == event].assign(
        window=lambda d: d.promo_period.map(
            {"pre_sale": "Week before", "sale": "Sale days", "post_sale": "Week after"}
        )
    )
    sale_days = windows[windows.promo_period == "sale"].day
    window = event_window(sale_days.min(), st.session_state.settings.lake_market())
    for note in around_notes(
        window.start, window.end, f, st.session_state.first_day, st.session_state.last_day
    ):
        st.info(note)
    regular = labelled[labelled.promo_period == "regular"].assign(window="Regular days")
    both = pd.concat([windows, regular])
    steps = both.groupby(["window", "stage_number", "stage"], as_index=False)[
        ["sessions_reached", "previous_stage_sessions"]
    ].sum()
    steps["step_conversion_rate"] = steps.sessions_reached / steps.previous_stage_sessions.where(
        steps.previous_stage_sessions > 0
    )
    order = [w for w in ("Regular days", "Week before", "Sale days", "Week after") if w in set(steps.window)]
    steps = steps.assign(stage=steps.stage.str.title(), window_order=steps.window.map(order.index))
    steps = steps.sort_values(["stage_number", "window_order"])
    fig = px.bar(
        steps,
        x="stage",
        y="step_conversion_rate",
        color="window",
        barmode="group",
        labels=LABELS,
        category_orders={"stage": [s.title() for s in STAGES], "window": order},
    )
    fig.update_yaxes(tickformat=".0%")
    show(
        fig,
        steps[["window", "stage", "sessions_reached", "previous_stage_sessions", "step_conversion_rate"]],
        f"Step conversion: {event} against regular days",
    )
    table(
        steps[["window", "stage", "sessions_reached", "step_conversion_rate"]],
        f"Step conversion: {event}",
        count_columns=("sessions_reached",),
        percent_columns=("step_conversion_rate",),
    )
