"""The e-commerce marts dashboard: `make dashboard`, or `streamlit run dashboard/app.py`.

Reads the published DuckDB file read-only (open, query, close per request), or PostgreSQL when
ECOM_DASHBOARD_DSN holds a connection URL such as the bi_reader one `ecom serve` prints. A new publish shows
up at the next page load, without a restart.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # `streamlit run` puts only dashboard/ on the path

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard import data
from generator.config import ConfigError
from pipeline.settings import Settings

SALE_COLOR = "#d62728"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def money(value: float) -> str:
    return f"${value:,.2f}"


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    return f"{value:.2%}"


def chart(fig: go.Figure) -> None:
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10})
    st.plotly_chart(fig, width="stretch")


def sidebar(settings: Settings) -> data.Filters:
    first, last = data.date_bounds(settings)
    channels, devices = data.segments(settings)
    with st.sidebar:
        picked = st.date_input(
            "Date range", value=(first, last), min_value=first, max_value=last, key="range"
        )
        start, end = (picked[0], picked[1]) if len(picked) == 2 else (picked[0], picked[0])
        chosen_channels = st.multiselect("Channel", channels, key="channels", placeholder="All channels")
        chosen_devices = st.multiselect("Device", devices, key="devices", placeholder="All devices")
        pub = data.publication(settings)
        source = "PostgreSQL" if settings.dashboard_dsn else f"DuckDB {settings.publish_db.name}"
        st.caption(f"Build {pub.get('build_id')}, published {pub.get('published_at')} · {source}")
    return data.Filters(start, end, tuple(chosen_channels), tuple(chosen_devices))


# --------------------------------------------------------------------------------------------------- pages


def page_kpis() -> None:
    settings, f = st.session_state.settings, st.session_state.filters
    st.title("KPI overview")
    totals = data.kpi_totals(settings, f)
    cols = st.columns(5)
    cols[0].metric("Orders", count(totals["orders"]))
    cols[1].metric("Revenue", money(totals["revenue"]))
    cols[2].metric("Sessions", count(totals["sessions"]))
    cols[3].metric("Conversion", percent(totals["conversion_rate"]))
    cols[4].metric("Average order value", money(totals["average_order_value"]))
    if f.segmented:
        st.caption(
            "Sessions and conversion follow the channel/device filter; orders and revenue are shop-wide."
        )
    daily = data.kpi_daily(settings, f)
    fig = px.line(daily, x="kpi_date", y="revenue", title="Revenue per day (sale days marked)")
    sale = daily[daily.is_sale_day]
    fig.add_scatter(x=sale.kpi_date, y=sale.revenue, mode="markers", name="sale day", marker_color=SALE_COLOR)
    chart(fig)
    fig = px.line(
        daily,
        x="kpi_date",
        y=["conversion_rate", "cart_abandonment_rate"],
        title="Conversion and cart abandonment",
    )
    fig.update_yaxes(tickformat=".0%")
    chart(fig)


def page_categories() -> None:
    settings, f = st.session_state.settings, st.session_state.filters
    st.title("Category performance")
    totals = data.category_totals(settings, f)
    revenue = float(totals.revenue.sum())
    cols = st.columns(3)
    cols[0].metric("Category revenue", money(revenue))
    cols[1].metric("Units sold", count(totals.units.sum()))
    if len(totals):
        cols[2].metric("Top category", str(totals.category.iloc[0]))
    chart(px.bar(totals, x="category", y="revenue", color="department", title="Revenue by category"))
    daily = data.category_daily(settings, f)
    chart(
        px.area(
            daily, x="performance_date", y="revenue", color="category", title="Revenue per day by category"
        )
    )
    totals["view_to_purchase_rate"] = totals.purchases / totals.product_views.where(totals.product_views > 0)
    totals["return_rate"] = totals.returned_units / totals.units.where(totals.units > 0)
    st.dataframe(totals, hide_index=True)


def page_cohorts() -> None:
    settings, f = st.session_state.settings, st.session_state.filters
    st.title("Cohort retention")
    cohort_type = st.radio("Cohorts by", ["signup", "first_purchase"], horizontal=True, key="cohort_type")
    df = data.cohorts(settings, f, cohort_type)
    first_period = df[df.period_number == 0]
    cols = st.columns(2)
    label = "Signup cohort users" if cohort_type == "signup" else "First-purchase cohort users"
    cols[0].metric(label, count(first_period.cohort_users.sum()))
    cols[1].metric("Cohorts", count(len(first_period)))
    if df.empty:
        st.info("No cohort starts in the selected range.")
        return
    df["cohort"] = df.cohort_month.astype(str).str[:7]
    grid = df.pivot(index="cohort", columns="period_number", values="retention_rate")
    fig = px.imshow(
        grid, text_auto=".0%", aspect="auto", color_continuous_scale="Blues",
        labels={"x": "months since cohort month", "y": "cohort", "color": "retention"},
        title="Share of the cohort active (completed order) in each month",
    )  # fmt: skip
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    chart(fig)
    chart(
        px.line(
            df,
            x="period_number",
            y="cumulative_revenue_per_user",
            color="cohort",
            title="Cumulative revenue per user",
        )
    )


def page_funnel() -> None:
    settings, f = st.session_state.settings, st.session_state.filters
    st.title("Funnel")
    df = data.funnel(settings, f)
    stages = df.groupby(["stage_number", "stage"], as_index=False)[["sessions", "sessions_reached"]].sum()
    sessions = float(stages.sessions.iloc[0]) if len(stages) else 0.0
    purchases = float(stages.sessions_reached.iloc[-1]) if len(stages) else 0.0
    cols = st.columns(3)
    cols[0].metric("Sessions", count(sessions))
    cols[1].metric("Purchasing sessions", count(purchases))
    cols[2].metric("Session conversion", percent(purchases / sessions if sessions else 0.0))
    top = stages[["stage_number", "stage"]].copy()
    top["sessions_reached"] = stages.sessions_reached
    all_sessions = {"stage_number": 0, "stage": "session", "sessions_reached": sessions}
    funnel_df = [all_sessions, *top.to_dict("records")]
    fig = go.Figure(go.Funnel(y=[r["stage"] for r in funnel_df], x=[r["sessions_reached"] for r in funnel_df],
                              textinfo="value+percent previous"))  # fmt: skip
    fig.update_layout(title="Sessions reaching each stage (drop-off between stages)")
    chart(fig)
    by_period = df.groupby(["promo_period", "stage_number", "stage"], as_index=False)[
        ["sessions_reached", "previous_stage_sessions"]
    ].sum()
    by_period["step_conversion_rate"] = by_period.sessions_reached / by_period.previous_stage_sessions.where(
        by_period.previous_stage_sessions > 0
    )
    by_period["drop_off_rate"] = 1 - by_period.step_conversion_rate
    fig = px.bar(
        by_period, x="stage", y="step_conversion_rate", color="promo_period", barmode="group",
        category_orders={"stage": list(data.STAGES), "promo_period": list(data.PROMO_PERIODS)},
        title="Step conversion before, during and after sales",
    )  # fmt: skip
    fig.update_yaxes(tickformat=".0%")
    chart(fig)
    st.dataframe(by_period.sort_values(["stage_number", "promo_period"]), hide_index=True)


def page_traffic() -> None:
    settings, f = st.session_state.settings, st.session_state.filters
    st.title("Traffic")
    hourly = data.traffic_hourly(settings)
    cols = st.columns(2)
    cols[0].metric("Sessions (all history)", count(hourly.sessions.sum()))
    if len(hourly):
        busiest = hourly.loc[hourly.average_sessions_per_day.idxmax()]
        cols[1].metric("Busiest hour", f"{busiest.weekday_name} {int(busiest.hour):02d}:00")
    grid = hourly.pivot(index="weekday_name", columns="hour", values="average_sessions_per_day")
    grid = grid.reindex([d for d in WEEKDAYS if d in grid.index])
    fig = px.imshow(grid, aspect="auto", color_continuous_scale="Viridis",
                    labels={"x": "hour (UTC)", "y": "", "color": "sessions/day"},
                    title="Average sessions per day, weekday x hour (whole history)")  # fmt: skip
    chart(fig)
    daily = data.traffic_daily(settings, f)
    fig = px.line(daily, x="day", y="sessions", title="Sessions per day (sale days marked)")
    sale = daily[daily.is_sale_day]
    fig.add_scatter(x=sale.day, y=sale.sessions, mode="markers", name="sale day", marker_color=SALE_COLOR)
    chart(fig)


def page_rfm() -> None:
    settings = st.session_state.settings
    st.title("RFM segments")
    segments = data.rfm_segments(settings)
    customers = float(segments.customers.sum())
    cols = st.columns(2)
    cols[0].metric("Customers", count(customers))
    cols[1].metric("Segments", count(len(segments)))
    chart(px.bar(segments, x="segment_name", y="customers", title="Customers per segment"))
    chart(px.pie(segments, names="segment_name", values="revenue", title="Share of net revenue"))
    scores = data.rfm_scores(settings)
    grid = scores.pivot(index="recency_score", columns="frequency_score", values="customers").sort_index(
        ascending=False
    )
    chart(px.imshow(grid, text_auto=True, aspect="auto", color_continuous_scale="Greens",
                    labels={"x": "frequency score", "y": "recency score", "color": "customers"},
                    title="Customers by recency and frequency score"))  # fmt: skip
    st.caption("Segments cover the whole history: RFM scores are computed as of the last order day.")


PAGES = [
    st.Page(page_kpis, title="KPI overview", url_path="kpis", default=True),
    st.Page(page_categories, title="Category performance", url_path="categories"),
    st.Page(page_cohorts, title="Cohort retention", url_path="cohorts"),
    st.Page(page_funnel, title="Funnel", url_path="funnel"),
    st.Page(page_traffic, title="Traffic", url_path="traffic"),
    st.Page(page_rfm, title="RFM segments", url_path="rfm"),
]


def main() -> None:
    st.set_page_config(page_title="E-commerce marts", layout="wide")
    nav = st.navigation(PAGES)
    try:
        settings = Settings.load()
        st.session_state.settings = settings
        st.session_state.filters = sidebar(settings)
    except (ConfigError, OSError) as exc:
        st.error(f"No marts to show: {exc}")
        st.stop()
    nav.run()


main()
