"""The dashboard's pages. Each reads the filters that apply to it (see `app.SCOPES`), shows its headlines with
their change against the previous period of equal length, and draws charts whose data can be downloaded."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard import data
from dashboard.ui import (
    LABELS,
    SALE_COLORS,
    change,
    compared_with,
    count,
    headline,
    money,
    percent,
    show,
    table,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TOP_CATEGORIES = 5
TOP_REGIONS = 15


def load(name: str, *args):
    """`data.<name>(settings, *args)`, cached per published build (a new publish shows at the next page load)."""
    return _load(st.session_state.settings, st.session_state.build_key, name, *args)


@st.cache_data(max_entries=256, show_spinner=False)
def _load(_settings, build_key: str, name: str, *args):
    return getattr(data, name)(_settings, *args)


def split(rows: pd.DataFrame, f: data.Filters, column: str = "day") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the range, and those of the previous period when the data covers all of it (else none: a
    change against a partial period would mislead)."""
    covered = f.previous().start >= st.session_state.first_day
    previous = data.in_range(rows, f.previous(), column) if covered else rows.iloc[0:0]
    return data.in_range(rows, f, column), previous


def previous_label(f: data.Filters) -> tuple[str, str]:
    p = f.previous()
    return f"previous {f.days} days", f"the previous {f.days} days ({p.start:%d %b %Y} to {p.end:%d %b %Y})"


def grain_picker(key: str) -> str:
    return st.segmented_control("Show by", list(data.GRAINS), default="Day", key=key, required=True)


def period_axis(fig: go.Figure, grain: str) -> None:
    """Dates on every x axis, the axis title once (on the bottom axis when a chart has rows)."""
    fig.update_xaxes(tickformat="%d %b %Y" if grain != "Month" else "%b %Y")
    fig.update_layout(xaxis_title_text=grain)


# ----------------------------------------------------------------------------------------------- KPIs


def page_kpis() -> None:
    f = st.session_state.filters
    st.title("KPI overview")
    days = data.label_events(load("kpi_days", f))
    current, previous = split(days, f)
    now = data.kpi_totals(current)
    before = data.kpi_totals(previous) if len(previous) else {}
    shop = "All channels and devices (orders are not attributed to one). " if f.segmented else ""
    prev = previous_label(f)
    cols = st.columns(5)
    headline(
        cols[0], "Revenue", money(now["revenue"]), change(now["revenue"], before.get("revenue")), prev, shop
    )
    headline(cols[1], "Orders", count(now["orders"]), change(now["orders"], before.get("orders")), prev, shop)
    headline(cols[2], "Average order value", money(now["average_order_value"]),
             change(now["average_order_value"], before.get("average_order_value")), prev, shop)  # fmt: skip
    headline(
        cols[3], "Sessions", count(now["sessions"]), change(now["sessions"], before.get("sessions")), prev
    )
    headline(cols[4], "Conversion", percent(now["conversion_rate"]),
             change(now["conversion_rate"], before.get("conversion_rate"), rate=True), prev)  # fmt: skip
    compared_with(prev, bool(before))
    if f.segmented:
        st.info(
            "Channel and device apply to sessions, conversion and cart abandonment. Revenue, orders and average "
            "order value stay shop-wide: the marts do not attribute orders to a channel or device."
        )

    grain = grain_picker("kpis_grain")
    sums = ["revenue", "orders", "sessions", "cart_sessions", "purchasing_sessions"]
    periods = data.with_rates(data.by_period(current, grain, sums))
    fig = px.line(periods, x="period", y="revenue", markers=grain != "Day", labels=LABELS)
    exported = periods[["period", "revenue", "orders"]]
    if grain == "Day":
        exported = current[["day", "revenue", "orders", "event", "promo_period"]].rename(
            columns={"day": "period"}
        )
        sale = current[current.promo_period == "sale"]
        for i, (event, rows) in enumerate(sale.groupby("event", sort=False)):
            fig.add_scatter(x=rows.day, y=rows.revenue, mode="markers", name=event,
                            marker={"color": SALE_COLORS[i % len(SALE_COLORS)], "size": 10})  # fmt: skip
    fig.update_traces(selector={"mode": "lines"}, name="Revenue", showlegend=False)
    fig.update_layout(legend_title_text="Sale days")
    period_axis(fig, grain)
    show(
        fig,
        exported,
        f"Revenue per {grain.lower()}" + (", sale days of each event marked" if grain == "Day" else ""),
    )

    rates = periods.melt(id_vars="period", value_vars=["conversion_rate", "cart_abandonment_rate"],
                         var_name="measure", value_name="share")  # fmt: skip
    rates["measure"] = rates.measure.map(LABELS)
    # Two rows, each with its own scale: conversion (a few percent) would lie flat under cart abandonment
    # (70-90%) on one axis.
    fig = px.line(rates, x="period", y="share", color="measure", facet_row="measure", markers=grain != "Day",
                  labels={"share": "Share of sessions", "measure": ""}, height=520)  # fmt: skip
    fig.update_yaxes(matches=None, tickformat=".1%")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    period_axis(fig, grain)
    segment = "the chosen channels and devices" if f.segmented else "all sessions"
    show(fig, periods[["period", "sessions", "cart_sessions", "purchasing_sessions", "conversion_rate",
                       "cart_abandonment_rate"]], f"Conversion and cart abandonment per {grain.lower()} ({segment})")  # fmt: skip

    st.subheader("Sale events")
    events = data.sale_events(current)
    if events.empty:
        st.info("No sale day in the selected dates.")
    else:
        table(events, "Sale events", money_columns=("Revenue", "Revenue per sale day"),
              percent_columns=("Lift vs a regular day", "Conversion"))  # fmt: skip


# ----------------------------------------------------------------------------------------- categories


def page_categories() -> None:
    f = st.session_state.filters
    st.title("Category performance")
    days = load("category_days", f)
    current, previous = split(days, f)
    names = data.category_totals(current).category.tolist()
    picked = st.selectbox("Category", ["All categories", *names], key="category",
                          help="Pick a category to see its numbers alone")  # fmt: skip
    if picked != "All categories":
        current, previous = current[current.category == picked], previous[previous.category == picked]
    now, before = _category_headlines(current), _category_headlines(previous) if len(previous) else {}
    prev = previous_label(f)
    cols = st.columns(5)
    headline(
        cols[0],
        "Category revenue",
        money(now["revenue"]),
        change(now["revenue"], before.get("revenue")),
        prev,
    )
    headline(cols[1], "Net revenue", money(now["net_revenue"]),
             change(now["net_revenue"], before.get("net_revenue")), prev)  # fmt: skip
    headline(cols[2], "Units sold", count(now["units"]), change(now["units"], before.get("units")), prev)
    headline(cols[3], "View to purchase", percent(now["view_to_purchase_rate"]),
             change(now["view_to_purchase_rate"], before.get("view_to_purchase_rate"), rate=True), prev)  # fmt: skip
    totals = data.category_totals(current)
    if picked == "All categories" and len(totals):
        cols[4].metric("Top category", str(totals.category.iloc[0]),
                       help=f"{percent(totals.revenue_share.iloc[0])} of category revenue")  # fmt: skip
    compared_with(prev, bool(before))

    if picked == "All categories":
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
    if picked == "All categories":
        top = totals.category.head(TOP_CATEGORIES).tolist()
        periods = data.top_and_other(data.by_period(current, grain, ["revenue", "units"], ("category",)), top)
        title = f"Revenue per {grain.lower()}: top {len(top)} categories and the others"
        order = {"category": [*top, "Other categories"]}
    else:
        periods = data.by_period(current, grain, ["revenue", "units"], ("category",))
        title = f"Revenue per {grain.lower()}: {picked}"
        order = {}
    fig = px.line(periods, x="period", y="revenue", color="category", markers=grain != "Day",
                  labels=LABELS, category_orders=order)  # fmt: skip
    period_axis(fig, grain)
    show(fig, periods, title)

    st.subheader("All categories in the selected dates")
    table(data.category_totals(data.in_range(days, f))[["category", "department", "revenue", "net_revenue", "units",
          "orders", "revenue_share", "view_to_purchase_rate", "return_rate"]], "All categories in the selected dates",
          money_columns=("revenue", "net_revenue"), count_columns=("units", "orders"),
          percent_columns=("revenue_share", "view_to_purchase_rate", "return_rate"))  # fmt: skip


def _category_headlines(rows: pd.DataFrame) -> dict:
    sums = {
        c: float(rows[c].sum()) for c in ("revenue", "net_revenue", "units", "purchases", "product_views")
    }
    sums["view_to_purchase_rate"] = data._ratio(sums["purchases"], sums["product_views"])
    return sums


# -------------------------------------------------------------------------------------------- cohorts


def page_cohorts() -> None:
    f = st.session_state.filters
    st.title("Cohort retention")
    cohort_type = st.radio("Cohorts by", ["signup", "first_purchase"], horizontal=True, key="cohort_type",
                           format_func={"signup": "Signup month", "first_purchase": "First purchase month"}.get)  # fmt: skip
    months = data.cohort_months(f)
    rows = load("cohort_rows", f, cohort_type, months)
    first_month = pd.Timestamp(f.start).to_period("M").start_time
    current, previous = rows[rows.cohort_month >= first_month], rows[rows.cohort_month < first_month]
    if (first_month.to_period("M") - months).start_time < pd.Timestamp(st.session_state.first_day).to_period(
        "M"
    ).start_time:
        previous = previous.iloc[0:0]  # the previous months are not all in the data
    now = data.cohort_totals(current)
    before = data.cohort_totals(previous) if len(previous) else {}
    plural = "s" if months > 1 else ""
    prev = (f"previous {months} month{plural}", f"the cohorts of the previous {months} month{plural}")
    cols = st.columns(3)
    headline(cols[0], "Users in these cohorts", count(now["cohort_users"]),
             change(now["cohort_users"], before.get("cohort_users")), prev)  # fmt: skip
    headline(cols[1], "Cohorts", count(now["cohorts"]), change(now["cohorts"], before.get("cohorts")), prev)
    headline(cols[2], "Month-1 retention", percent(now["month_1_retention"]),
             change(now["month_1_retention"], before.get("month_1_retention"), rate=True), prev)  # fmt: skip
    compared_with(prev, bool(before))
    st.caption("Cohorts whose month is in the selected dates; each follows its users to the newest month.")
    if current.empty:
        st.info("No cohort starts in the selected range.")
        return
    current = current.assign(cohort=current.cohort_month.dt.strftime("%Y-%m"))
    grid = current.pivot(index="cohort", columns="period_number", values="retention_rate")
    # The colour scale runs from 0 to the highest retention shown, except month 0 of first-purchase cohorts,
    # 100% by definition, which would wash out every later month.
    scaled = current[(current.period_number > 0) | (cohort_type != "first_purchase")].retention_rate
    top = float(scaled.max()) if len(scaled) else 1.0
    fig = px.imshow(grid, text_auto=".1%", aspect="auto", color_continuous_scale="Blues", zmin=0, zmax=top,
                    labels={"x": LABELS["period_number"], "y": LABELS["cohort"], "color": "Retention"})  # fmt: skip
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    fig.update_coloraxes(colorbar_tickformat=".0%")
    show(fig, current[["cohort", "period_number", "cohort_users", "active_users", "retention_rate"]],
         "Share of the cohort active (a completed order) in each month")  # fmt: skip
    fig = px.line(current, x="period_number", y="cumulative_revenue_per_user", color="cohort", markers=True,
                  labels=LABELS)  # fmt: skip
    fig.update_xaxes(dtick=1, tick0=0)
    show(
        fig,
        current[["cohort", "period_number", "cumulative_revenue_per_user"]],
        "Cumulative revenue per user",
    )


# --------------------------------------------------------------------------------------------- funnel


def page_funnel() -> None:
    f = st.session_state.filters
    st.title("Funnel")
    rows = load("funnel_days", f)
    current, previous = split(rows, f)
    now = data.funnel_totals(current)
    before = data.funnel_totals(previous) if len(previous) else {}
    prev = previous_label(f)
    cols = st.columns(4)
    headline(
        cols[0], "Sessions", count(now["sessions"]), change(now["sessions"], before.get("sessions")), prev
    )
    headline(cols[1], "Purchasing sessions", count(now["purchasing_sessions"]),
             change(now["purchasing_sessions"], before.get("purchasing_sessions")), prev)  # fmt: skip
    headline(cols[2], "Session conversion", percent(now["conversion_rate"]),
             change(now["conversion_rate"], before.get("conversion_rate"), rate=True), prev)  # fmt: skip
    headline(cols[3], "Cart abandonment", percent(now["cart_abandonment_rate"]),
             change(now["cart_abandonment_rate"], before.get("cart_abandonment_rate"), rate=True), prev,
             lower_is_better=True)  # fmt: skip
    compared_with(prev, bool(before))

    stages = data.funnel_stages(current)
    shown = pd.DataFrame({"stage": ["session", *stages.stage],
                          "sessions_reached": [now["sessions"], *stages.sessions_reached]})  # fmt: skip
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
    days = data.label_events(load("kpi_days", f))[["day", "event"]]
    labelled = current.merge(days, on="day", how="left")
    events = labelled[labelled.promo_period == "sale"].event.dropna().unique().tolist()
    if not events:
        st.info(
            "No sale day in the selected dates: widen the dates to compare a sale with the weeks around it."
        )
        return
    event = st.selectbox("Sale event", events, index=len(events) - 1, key="funnel_event")
    windows = labelled[labelled.event == event].assign(window=lambda d: d.promo_period.map(
        {"pre_sale": "Week before", "sale": "Sale days", "post_sale": "Week after"}))  # fmt: skip
    regular = labelled[labelled.promo_period == "regular"].assign(window="Regular days")
    both = pd.concat([windows, regular])
    steps = both.groupby(["window", "stage_number", "stage"], as_index=False)[
        ["sessions_reached", "previous_stage_sessions"]].sum()  # fmt: skip
    steps["step_conversion_rate"] = steps.sessions_reached / steps.previous_stage_sessions.where(
        steps.previous_stage_sessions > 0
    )
    order = [w for w in ("Regular days", "Week before", "Sale days", "Week after") if w in set(steps.window)]
    steps = steps.assign(stage=steps.stage.str.title(), window_order=steps.window.map(order.index))
    steps = steps.sort_values(["stage_number", "window_order"])
    fig = px.bar(steps, x="stage", y="step_conversion_rate", color="window", barmode="group", labels=LABELS,
                 category_orders={"stage": [s.title() for s in data.STAGES], "window": order})  # fmt: skip
    fig.update_yaxes(tickformat=".0%")
    show(fig, steps[["window", "stage", "sessions_reached", "previous_stage_sessions", "step_conversion_rate"]],
         f"Step conversion: {event} against regular days")  # fmt: skip
    table(steps[["window", "stage", "sessions_reached", "step_conversion_rate"]], f"Step conversion: {event}",
          count_columns=("sessions_reached",), percent_columns=("step_conversion_rate",))  # fmt: skip


# -------------------------------------------------------------------------------------------- traffic


def page_traffic() -> None:
    f = st.session_state.filters
    st.title("Traffic")
    rows = load("traffic_days", f)
    current, previous = split(rows, f)
    prev = previous_label(f)
    sessions, previous_sessions = (
        float(current.sessions.sum()),
        float(previous.sessions.sum()) if len(previous) else None,
    )
    per_day = sessions / max(current.day.nunique(), 1)
    per_day_before = (
        previous_sessions / max(previous.day.nunique(), 1) if previous_sessions is not None else None
    )
    hourly = load("traffic_hourly")
    cols = st.columns(3)
    headline(cols[0], "Sessions", count(sessions), change(sessions, previous_sessions), prev)
    headline(cols[1], "Sessions per day", count(per_day), change(per_day, per_day_before), prev)
    if len(hourly):
        busiest = hourly.loc[hourly.average_sessions_per_day.idxmax()]
        cols[2].metric("Busiest hour (all history)", f"{busiest.weekday_name[:3]} {int(busiest.hour):02d}:00 UTC",
                       help="From the weekday x hour mart, which covers the whole history of every channel")  # fmt: skip

    compared_with(prev, previous_sessions is not None)
    grain = grain_picker("traffic_grain")
    periods = data.by_period(current, grain, ["sessions", "purchasing_sessions"], ("channel",))
    periods["channel"] = periods.channel.map(data.humanize)
    fig = px.line(periods, x="period", y="sessions", color="channel", markers=grain != "Day", labels=LABELS)
    period_axis(fig, grain)
    show(fig, periods, f"Sessions per {grain.lower()} by channel")

    grid = hourly.pivot(index="weekday_name", columns="hour", values="average_sessions_per_day")
    grid = grid.reindex([d for d in WEEKDAYS if d in grid.index])
    fig = px.imshow(grid, aspect="auto", color_continuous_scale="Viridis",
                    labels={"x": LABELS["hour"], "y": "Weekday", "color": "Sessions per day"})  # fmt: skip
    fig.update_xaxes(dtick=2)
    show(fig, hourly[["weekday_name", "hour", "average_sessions_per_day"]],
         "Average sessions per day, weekday x hour (whole history, all channels and devices)")  # fmt: skip
    st.caption(
        "The weekday x hour mart is not split by day, channel or device: the filters do not apply to it."
    )


# ------------------------------------------------------------------------------------------------ RFM


def page_rfm() -> None:
    st.title("RFM segments")
    totals = load("region_totals")
    picked = st.selectbox("Region", ["All regions", *sorted(totals.region)], key="rfm_region",
                          help="Where the customers live (a state, a province): pick one to see its customers alone")  # fmt: skip
    region = None if picked == "All regions" else picked
    segments = load("rfm_segments", region)
    customers = float(segments.customers.sum())
    as_of = segments.as_of_date.max() if len(segments) else None
    where = f" in {region}" if region else ""
    cols = st.columns(4)
    cols[0].metric("Customers", count(customers), help=f"Every customer with an order{where}, whole history")
    cols[1].metric("Segments", count(len(segments)))
    cols[2].metric("Net revenue of these customers", money(float(segments.revenue.sum())))
    cols[3].metric("Scores as of", f"{as_of:%d %b %Y}" if as_of is not None else "n/a")
    st.caption(
        "RFM is a snapshot of the whole history as of the last order day: there is no previous period. "
        "Scores rank every customer of the shop; a region shows its customers with those scores."
    )
    if segments.empty:
        st.info(f"No customer{where} yet.")
        return
    segments = segments.assign(customer_share=segments.customers / customers if customers else 0.0,
                               revenue_share=segments.revenue / segments.revenue.sum())  # fmt: skip
    by_size = segments.sort_values("customers")
    fig = px.bar(by_size, x="customers", y="segment_name", orientation="h", labels=LABELS,
                 text=by_size.customer_share.map(lambda v: f"{v:.1%}"))  # fmt: skip
    show(fig, by_size[["segment_name", "customers", "customer_share"]], f"Customers per segment{where}")
    by_revenue = segments.sort_values("revenue")
    fig = px.bar(by_revenue, x="revenue_share", y="segment_name", orientation="h", labels=LABELS,
                 text=by_revenue.revenue_share.map(lambda v: f"{v:.1%}"))  # fmt: skip
    fig.update_xaxes(tickformat=".0%")
    show(
        fig,
        by_revenue[["segment_name", "revenue", "revenue_share"]],
        f"Share of net revenue per segment{where}",
    )

    scores = load("rfm_scores", region)
    grid = (
        scores.pivot(index="recency_score", columns="frequency_score", values="customers")
        .reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5])
        .fillna(0)
        .astype(int)
    )
    grid.index, grid.columns = [str(i) for i in grid.index], [str(c) for c in grid.columns]
    fig = px.imshow(grid, text_auto=True, aspect="equal", color_continuous_scale="Greens",
                    labels={"x": LABELS["frequency_score"], "y": LABELS["recency_score"], "color": "Customers"})  # fmt: skip
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category")
    exported = grid.reset_index(names="recency_score").melt(id_vars="recency_score", var_name="frequency_score",
                                                              value_name="customers")  # fmt: skip
    show(fig, exported, f"Customers by recency and frequency score (5 = best){where}")
    table(segments[["segment_name", "customers", "customer_share", "revenue", "revenue_share",
                    "average_recency_days", "average_frequency"]], "Segments",
          money_columns=("revenue",), count_columns=("customers",),
          percent_columns=("customer_share", "revenue_share"))  # fmt: skip

    st.subheader("By region")
    shown = data.top_regions(totals, TOP_REGIONS).iloc[::-1]
    colors = [
        "#d62728" if r == region else "#9e9e9e" if r.startswith("Other") else "#1f77b4" for r in shown.region
    ]
    fig = px.bar(shown, x="net_revenue", y="region", orientation="h", labels=LABELS,
                 hover_data={"buyers": ":,"})  # fmt: skip
    fig.update_traces(marker_color=colors)
    fig.update_xaxes(tickprefix="$")
    fig.update_layout(height=max(400, 24 * len(shown)))
    show(fig, shown.iloc[::-1], f"Net revenue per region: top {min(TOP_REGIONS, len(totals))} and the others")
    table(totals[["region", "users", "buyers", "buyer_share", "net_revenue", "net_revenue_per_buyer"]],
          "Regions", money_columns=("net_revenue", "net_revenue_per_buyer"), count_columns=("users", "buyers"),
          percent_columns=("buyer_share",))  # fmt: skip
