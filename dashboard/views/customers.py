"""Customers: churn risk bands (dm_customer_churn), the distribution of predicted spend
(dm_customer_lifetime_value), the retention list (dm_retention_targets) and the clusters
(dm_customer_clusters, dm_customer_cluster_profiles), all as of the last published day."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st
import yaml

from dashboard.marts import load, q
from dashboard.ui import Headline, count, headlines, humanize, money, percent, show, table
from pipeline.settings import Settings

BANDS = ("low", "medium", "high")
BAND_COLORS = {"Low": "#2ca02c", "Medium": "#ff7f0e", "High": "#d62728"}
HORIZONS = {"90d": "Next 90 days", "365d": "Next 365 days"}
MODELS = {"bgnbd": "BG/NBD + Gamma-Gamma", "ml": "Gradient-boosted regressors"}
# pipeline.train.models.MIN_FEATURE_DAYS: the features' history before the churn label window (the dashboard
# does not import the training code; tests/serving/test_dashboard.py checks the two agree).
FEATURE_DAYS = 28
HEADLINES = (
    Headline("Customers scored", "customers", count),
    Headline("High risk", "high_share", percent, rate=True, lower_is_better=True),
    Headline("Medium risk", "medium_share", percent, rate=True, lower_is_better=True),
    Headline("Mean churn probability", "mean_churn_probability", percent, rate=True, lower_is_better=True),
)
LABELS = {
    "risk_band": "Risk band",
    "mean_churn_probability": "Mean churn probability",
    "observed_churn_rate": "Observed churn",
    "decile": "Decile of predicted spend (10 = highest)",
    "mean_spend": "Mean predicted spend ($)",
    "total_spend": "Predicted spend ($)",
    "spend_share": "Share of predicted spend",
    "priority_rank": "Rank",
    "user_id": "Customer",
    "reason": "Reason",
    "churn_probability": "Churn probability",
    "predicted_spend_365d": "Predicted 365-day spend ($)",
    "value_at_risk": "Value at risk ($)",
    "recency_days": "Days since last order",
    "frequency": "Orders",
    "cluster": "Cluster",
    "cluster_name": "Cluster name",
    "mean_recency_days": "Days since last order (mean)",
    "mean_frequency": "Orders (mean)",
    "mean_monetary": "Order total (mean, $)",
    "mean_sessions": "Sessions (mean)",
    "mean_tenure_days": "Days since signup (mean)",
    "mean_trend": "Trend (mean)",
}

# ------------------------------------------------------------------------------------------ queries


def band_counts(settings: Settings) -> pd.DataFrame:
    """Per scoring date and risk band: customers, their mean churn probability and, where the label is
    observed, the share who churned."""
    return q(
        settings,
        "select scored_at, risk_band, count(*) as customers, avg(churn_probability) as mean_churn_probability, "
        "avg(case when churned then 1.0 when not churned then 0.0 end) as observed_churn_rate "
        "from marts.dm_customer_churn group by scored_at, risk_band order by scored_at, risk_band",
        dates=("scored_at",),
    )


def spend_deciles(settings: Settings, horizon: str) -> pd.DataFrame:
    """Customers in ten groups of equal size by predicted spend over the horizon (10 = highest)."""
    column = f"cast(predicted_spend_{horizon} as double)"
    return q(
        settings,
        f"with ranked as (select {column} as spend, ntile(10) over (order by {column}, user_id) as decile "
        "from marts.dm_customer_lifetime_value) "
        "select decile, count(*) as customers, avg(spend) as mean_spend, sum(spend) as total_spend "
        "from ranked group by decile order by decile",
    )


def value_totals(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select count(*) as customers, sum(cast(predicted_spend_90d as double)) as spend_90d, "
        "sum(cast(predicted_spend_365d as double)) as spend_365d, min(predicted_by) as predicted_by, "
        "min(scored_at) as scored_at from marts.dm_customer_lifetime_value",
        dates=("scored_at",),
    )


def retention_targets(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select priority_rank, user_id, segment_name, risk_band, reason, churn_probability, "
        "cast(predicted_spend_365d as double) as predicted_spend_365d, "
        "cast(value_at_risk as double) as value_at_risk, recency_days, frequency "
        "from marts.dm_retention_targets order by priority_rank",
    )


def cluster_profiles(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select cluster, cluster_name, customers, mean_recency_days, mean_frequency, "
        "cast(mean_monetary as double) as mean_monetary, mean_sessions, mean_tenure_days, mean_trend "
        "from marts.dm_customer_cluster_profiles order by cluster",
    )


def published_days(settings: Settings) -> pd.DataFrame:
    return q(
        settings,
        "select min(kpi_date) as first_day, max(kpi_date) as last_day from marts.dm_kpi_daily",
        dates=("first_day", "last_day"),
    )


def needed_days(settings: Settings) -> tuple[int, int]:
    """(days of history training needs, the churn horizon): `ecom__churn_horizon_days` + the features' days."""
    project = yaml.safe_load((settings.dbt_project_dir / "dbt_project.yml").read_text())
    horizon = int(project["vars"]["ecom__churn_horizon_days"])
    return horizon + FEATURE_DAYS, horizon


# ------------------------------------------------------------------------------------------------ page


def band_totals(bands: pd.DataFrame) -> dict:
    customers = float(bands.customers.sum())
    shares = {f"{b}_share": float(bands[bands.risk_band == b].customers.sum()) / customers for b in BANDS}
    mean = float((bands.customers * bands.mean_churn_probability).sum()) / customers
    return {"customers": customers, "mean_churn_probability": mean, **shares}


def _nothing_to_show(settings: Settings) -> None:
    needed, horizon = needed_days(settings)
    span = load(published_days).iloc[0]
    held = 0 if pd.isna(span.first_day) else (span.last_day - span.first_day).days + 1
    where = f" ({span.first_day:%d %b %Y} to {span.last_day:%d %b %Y})" if held else ""
    if held < needed:
        st.info(
            f"No customer scores yet: the customer models train on {needed} days of history (a churn horizon "
            f"of {horizon} days after {FEATURE_DAYS} days of features), and the published marts hold {held} "
            f"days{where}. Generate and build {needed - held} more days (`ecom run --end ...`) to see this page."
        )
    else:
        st.warning(
            f"No customer scores in this build although it holds {held} days{where}: the refresh's log "
            "(`ecom status`, dbt's build log) says why the customer models did not score."
        )


def _risk_bands(bands: pd.DataFrame, latest: pd.Timestamp) -> None:
    now = bands[bands.scored_at == latest].set_index("risk_band").reindex(list(BANDS)).reset_index()
    now["customers"] = now.customers.fillna(0).astype(int)
    now["customer_share"] = now.customers / now.customers.sum()
    now["band"] = now.risk_band.map(humanize)
    fig = px.bar(
        now,
        x="band",
        y="customers",
        color="band",
        color_discrete_map=BAND_COLORS,
        text=now.customer_share.map(percent),
        labels={"band": "Risk band", "customers": "Customers"},
    )
    fig.update_layout(showlegend=False)
    shown = now.assign(risk_band=now.band)[
        ["risk_band", "customers", "customer_share", "mean_churn_probability"]
    ]
    show(fig, shown.rename(columns=LABELS), f"Customers per churn risk band, as of {latest:%d %b %Y}")
    earlier = bands[(bands.scored_at < latest) & bands.observed_churn_rate.notna()]
    if len(earlier):
        day = earlier.scored_at.max()
        rows = earlier[earlier.scored_at == day].set_index("risk_band").reindex(list(BANDS)).reset_index()
        rows = rows.dropna(subset=["customers"]).assign(risk_band=lambda d: d.risk_band.map(humanize))
        st.caption(
            f"The scores as of {day:%d %b %Y}, {(latest - day).days} days before, against what happened since: "
            "the share of each band's customers who placed no order in those days."
        )
        table(
            rows[["risk_band", "customers", "mean_churn_probability", "observed_churn_rate"]].rename(
                columns=LABELS
            ),
            f"Scores as of {day:%d %b %Y} against what happened",
            count_columns=("customers",),
            percent_columns=(LABELS["mean_churn_probability"], LABELS["observed_churn_rate"]),
        )


def _value_distribution() -> None:
    totals = load(value_totals).iloc[0]
    horizon = st.radio(
        "Predicted spend over",
        list(HORIZONS),
        format_func=HORIZONS.get,
        horizontal=True,
        key="customers_horizon",
    )
    deciles = load(spend_deciles, horizon)
    deciles["spend_share"] = deciles.total_spend / deciles.total_spend.sum()
    fig = px.bar(
        deciles,
        x="decile",
        y="total_spend",
        labels={"decile": LABELS["decile"], "total_spend": LABELS["total_spend"]},
        hover_data={"customers": True, "mean_spend": ":,.2f"},
    )
    fig.update_xaxes(dtick=1)
    fig.update_traces(name="Predicted spend")
    show(
        fig,
        deciles[["decile", "customers", "mean_spend", "total_spend", "spend_share"]].rename(columns=LABELS),
        f"Predicted spend, {HORIZONS[horizon].lower()}, by decile of customers",
    )
    st.caption(
        f"Predicted by {MODELS.get(totals.predicted_by, totals.predicted_by)} (the winner of the backtest on "
        "held-out customers) over 90 days; the 365 days are BG/NBD + Gamma-Gamma's for both models."
    )


def _retention_list(targets: pd.DataFrame) -> None:
    st.subheader("Retention list")
    st.caption(
        "Customers in the medium or high risk band, ranked by value at risk: churn probability x predicted "
        "365-day spend. The reason is the first that holds of: no visit in 30 days and no order in 60; "
        "ordering less than the month before; no order in 60 days; one order so far; a churn score above "
        "its peers."
    )
    cols = st.columns(3)
    bands = cols[0].multiselect(
        "Risk band", ["high", "medium"], key="customers_bands", placeholder="Both bands", format_func=humanize
    )
    segments = sorted(targets.segment_name.dropna().unique())
    chosen = cols[1].multiselect(
        "Segment", segments, key="customers_segments", placeholder="All segments", format_func=humanize
    )
    top = cols[2].number_input("Customers shown", min_value=1, value=25, step=5, key="customers_top")
    shown = targets
    if bands:
        shown = shown[shown.risk_band.isin(bands)]
    if chosen:
        shown = shown[shown.segment_name.isin(chosen)]
    metric = st.columns(3)
    metric[0].metric("Customers to act on", count(len(shown)))
    metric[1].metric("Value at risk", money(float(shown.value_at_risk.sum())))
    metric[2].metric("Shown", count(min(len(shown), int(top))))
    if shown.empty:
        st.info("No customer on the retention list in the chosen bands and segments.")
        return
    by_reason = shown.groupby("reason", as_index=False).agg(
        customers=("user_id", "size"), value_at_risk=("value_at_risk", "sum")
    )
    fig = px.bar(
        by_reason.sort_values("value_at_risk"),
        x="value_at_risk",
        y="reason",
        orientation="h",
        labels={"value_at_risk": LABELS["value_at_risk"], "reason": LABELS["reason"]},
        hover_data={"customers": True},
    )
    show(fig, by_reason.rename(columns=LABELS), "Value at risk by reason")
    table(
        shown.head(int(top))
        .assign(risk_band=lambda d: d.risk_band.map(humanize), user_id=lambda d: d.user_id.astype(str))
        .rename(columns=LABELS),
        f"The {min(len(shown), int(top))} customers to act on first",
        money_columns=(LABELS["predicted_spend_365d"], LABELS["value_at_risk"]),
        percent_columns=(LABELS["churn_probability"],),
        count_columns=(LABELS["priority_rank"], LABELS["recency_days"], LABELS["frequency"]),
    )


def _clusters(profiles: pd.DataFrame) -> None:
    st.subheader("Clusters")
    st.caption(
        "K-means over standardised log recency, frequency, order value, sessions, tenure and trend; the number "
        "of clusters (3 to 8) is the one with the best silhouette. Cluster 0 has the highest mean order value."
    )
    profiles = profiles.assign(customer_share=profiles.customers / profiles.customers.sum())
    profiles["label"] = profiles.cluster.astype(str) + ": " + profiles.cluster_name
    fig = px.bar(
        profiles,
        x="label",
        y="customers",
        text=profiles.customer_share.map(percent),
        labels={"label": "Cluster", "customers": "Customers"},
    )
    show(
        fig,
        profiles[["cluster", "cluster_name", "customers", "customer_share"]].rename(columns=LABELS),
        "Customers per cluster",
    )
    table(
        profiles.drop(columns=["label", "customer_share"]).rename(columns=LABELS),
        "Cluster profiles",
        money_columns=(LABELS["mean_monetary"],),
        count_columns=(LABELS["cluster"], "customers"),
    )


def page() -> None:
    settings = st.session_state.settings
    st.title("Customers")
    bands = load(band_counts)
    if bands.empty:
        _nothing_to_show(settings)
        return
    latest = bands.scored_at.max()
    earlier = bands[bands.scored_at < latest]
    before = band_totals(earlier[earlier.scored_at == earlier.scored_at.max()]) if len(earlier) else {}
    previous = (
        ("earlier scores", f"the scores as of {earlier.scored_at.max():%d %b %Y}")
        if len(earlier)
        else ("earlier scores", "an earlier scoring date")
    )
    headlines(st.columns(4), HEADLINES, band_totals(bands[bands.scored_at == latest]), before, previous)
    st.caption(
        f"Scores as of {latest:%d %b %Y}, the last published day: churn means no order in the next "
        f"{needed_days(settings)[1]} days. Risk bands: high from a churn probability of 50%, medium from 25%."
    )
    _risk_bands(bands, latest)

    st.subheader("Predicted value")
    totals = load(value_totals).iloc[0]
    cols = st.columns(3)
    cols[0].metric("Predicted spend, next 90 days", money(float(totals.spend_90d)))
    cols[1].metric("Predicted spend, next 365 days", money(float(totals.spend_365d)))
    cols[2].metric("Customers valued", count(float(totals.customers)))
    _value_distribution()

    _retention_list(load(retention_targets))
    _clusters(load(cluster_profiles))
