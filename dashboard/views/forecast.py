"""Forecast: daily revenue or orders, the history and the next 90 days with 80% and 95% intervals
(dm_revenue_forecast), and the backtest that chose the model (dm_forecast_backtest)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard.marts import load, q
from dashboard.ui import count, money, percent, show, table
from pipeline.settings import Settings

METRICS = {"revenue": "Revenue ($)", "orders": "Orders"}
MODELS = {"sarimax": "Seasonal ARIMA with sale days", "seasonal_naive": "Same weekday last week (baseline)"}

# ------------------------------------------------------------------------------------------ queries


def history(settings: Settings, metric: str) -> pd.DataFrame:
    column = "cast(revenue as double)" if metric == "revenue" else "cast(orders as double)"
    return q(
        settings,
        f"select kpi_date as day, {column} as value from marts.dm_kpi_daily order by 1",
        dates=("day",),
    )


def forecast_days(settings: Settings, metric: str) -> pd.DataFrame:
    return q(
        settings,
        "select forecast_date as day, model_name, promo_period, point_forecast, lower_80, upper_80, lower_95, "
        "upper_95 from marts.dm_revenue_forecast where metric = %(metric)s order by forecast_date",
        {"metric": metric},
        dates=("day",),
    )


def backtest_summary(settings: Settings, metric: str) -> pd.DataFrame:
    """Per model: origins, origin-days, MAPE on regular and on sale days, interval coverage."""
    return q(
        settings,
        "select model_name, bool_or(is_chosen_model) as is_chosen_model, count(distinct origin_date) as origins, "
        "count(*) as origin_days, "
        "avg(absolute_percentage_error) filter (where promo_period <> 'sale') as mape_regular_days, "
        "avg(absolute_percentage_error) filter (where promo_period = 'sale') as mape_sale_days, "
        "avg(case when is_within_80 then 1.0 else 0.0 end) as coverage_80, "
        "avg(case when is_within_95 then 1.0 else 0.0 end) as coverage_95 "
        "from marts.dm_forecast_backtest where metric = %(metric)s group by model_name order by model_name",
        {"metric": metric},
    )


def backtest_by_origin(settings: Settings, metric: str) -> pd.DataFrame:
    return q(
        settings,
        "select origin_date, model_name, avg(absolute_percentage_error) filter (where promo_period <> 'sale') "
        "as mape_regular_days from marts.dm_forecast_backtest where metric = %(metric)s "
        "group by origin_date, model_name order by origin_date, model_name",
        {"metric": metric},
        dates=("origin_date",),
    )


# ------------------------------------------------------------------------------------------------ page


def page() -> None:
    st.title("Forecast")
    metric = st.radio(
        "Metric", list(METRICS), format_func=METRICS.get, horizontal=True, key="forecast_metric"
    )
    past, ahead = load(history, metric), load(forecast_days, metric)
    summary = load(backtest_summary, metric)
    fmt = money if metric == "revenue" else count
    chosen = summary[summary.is_chosen_model] if len(summary) else summary
    cols = st.columns(4)
    model = ahead.model_name.iloc[0] if len(ahead) else None
    cols[0].metric("Model", MODELS.get(model, "n/a") if model else "n/a", help="The winner of the backtest")
    cols[1].metric("Next 30 days", fmt(float(ahead.point_forecast.head(30).sum())) if len(ahead) else "n/a")
    cols[2].metric(
        "Backtest MAPE, regular days",
        percent(float(chosen.mape_regular_days.iloc[0])) if len(chosen) else "n/a",
        help="Mean absolute percentage error of the chosen model over the backtest's regular days",
    )
    cols[3].metric(
        "Backtest 80% / 95% coverage",
        f"{percent(float(chosen.coverage_80.iloc[0]))} / {percent(float(chosen.coverage_95.iloc[0]))}"
        if len(chosen)
        else "n/a",
    )
    st.caption(
        "The forecast covers the 90 days after the last published day. Sale days of the market's calendar are a "
        "known regressor once the history holds a sale; a sale the history has not seen is forecast as a "
        "regular day."
    )
    if ahead.empty:
        st.info("The forecast needs at least 14 days of history.")
        return
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=ahead.day, y=ahead.upper_95, line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    fig.add_trace(
        go.Scatter(x=ahead.day, y=ahead.lower_95, fill="tonexty", line={"width": 0}, name="95% interval",
                   fillcolor="rgba(31,119,180,0.15)")
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=ahead.day, y=ahead.upper_80, line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    fig.add_trace(
        go.Scatter(x=ahead.day, y=ahead.lower_80, fill="tonexty", line={"width": 0}, name="80% interval",
                   fillcolor="rgba(31,119,180,0.3)")
    )  # fmt: skip
    fig.add_trace(go.Scatter(x=past.day, y=past.value, name="History", line={"color": "#444"}))
    fig.add_trace(go.Scatter(x=ahead.day, y=ahead.point_forecast, name="Forecast", line={"color": "#1f77b4"}))
    fig.update_layout(xaxis_title="Day", yaxis_title=METRICS[metric], legend_title="Series")
    exported = ahead.rename(columns={"point_forecast": "forecast"})
    show(fig, exported, f"{METRICS[metric]}: history and the next 90 days")

    st.subheader("Backtest")
    if summary.empty:
        st.info(
            "The backtest needs 65 days of history (35 to fit, 30 to score); until then the baseline forecasts."
        )
        return
    by_origin = load(backtest_by_origin, metric).assign(model=lambda d: d.model_name.map(MODELS))
    fig = px.bar(
        by_origin,
        x="origin_date",
        y="mape_regular_days",
        color="model",
        barmode="group",
        labels={"origin_date": "Origin (last day of history)", "mape_regular_days": "MAPE, regular days",
                "model": "Model"},
    )  # fmt: skip
    fig.update_yaxes(tickformat=".0%")
    show(
        fig,
        by_origin[["origin_date", "model", "mape_regular_days"]],
        "Backtest error per origin (30 days each)",
    )
    table(
        summary.assign(model=summary.model_name.map(MODELS))[
            [
                "model",
                "origins",
                "origin_days",
                "mape_regular_days",
                "mape_sale_days",
                "coverage_80",
                "coverage_95",
            ]
        ],
        "Backtest by model",
        count_columns=("origins", "origin_days"),
        percent_columns=("mape_regular_days", "mape_sale_days", "coverage_80", "coverage_95"),
    )
