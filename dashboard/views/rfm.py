"""RFM segments: customers, net revenue, recency and frequency per segment (dm_rfm_segments), of every customer
or of one region's (dm_user_purchase_summary), and net revenue by region."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.marts import load, q
from dashboard.ui import LABELS, count, money, show, table
from pipeline.settings import Settings

TOP_REGIONS = 15

# ------------------------------------------------------------------------------------------ queries


def _in_region(region: str | None, params: dict) -> str:
    """A join of RFM rows (alias r) to their users' region, when one region is asked for."""
    if region is None:
        return ""
    params["region"] = region
    return (
        " inner join marts.dm_user_purchase_summary as u on u.user_id = r.user_id and u.region = %(region)s"
    )


def rfm_segments(settings: Settings, region: str | None = None) -> pd.DataFrame:
    """Customers, net revenue, recency and frequency per RFM segment, of every customer or of one region's."""
    params: dict = {}
    return q(
        settings,
        "select r.segment_name, count(*) as customers, sum(r.monetary) as revenue, avg(r.recency_days) as "
        "average_recency_days, avg(r.frequency) as average_frequency, max(r.as_of_date) as as_of_date "
        f"from marts.dm_rfm_segments as r{_in_region(region, params)} group by r.segment_name order by revenue desc",
        params,
        dates=("as_of_date",),
    )


def rfm_scores(settings: Settings, region: str | None = None) -> pd.DataFrame:
    params: dict = {}
    return q(
        settings,
        "select r.recency_score, r.frequency_score, count(*) as customers, sum(r.monetary) as revenue "
        f"from marts.dm_rfm_segments as r{_in_region(region, params)} group by r.recency_score, r.frequency_score",
        params,
    )


def region_totals(settings: Settings) -> pd.DataFrame:
    """Per region (where users live): registered users, buyers and their net revenue, largest revenue first."""
    df = q(
        settings,
        "select region, count(*) as users, sum(case when is_buyer then 1 else 0 end) as buyers, "
        "sum(net_revenue) as net_revenue from marts.dm_user_purchase_summary group by region",
    )
    df["buyer_share"] = df.buyers / df.users.where(df.users > 0)
    df["net_revenue_per_buyer"] = df.net_revenue / df.buyers.where(df.buyers > 0)
    return df.sort_values(["net_revenue", "region"], ascending=[False, True]).reset_index(drop=True)


def top_regions(totals: pd.DataFrame, top: int) -> pd.DataFrame:
    """The `top` regions by net revenue, and one row for the rest ("Other regions (N)")."""
    head, rest = totals.head(top), totals.iloc[top:]
    if rest.empty:
        return head[["region", "net_revenue", "buyers"]]
    other = pd.DataFrame(
        {
            "region": [f"Other regions ({len(rest)})"],
            "net_revenue": [rest.net_revenue.sum()],
            "buyers": [rest.buyers.sum()],
        }
    )
    return pd.concat([head[["region", "net_revenue", "buyers"]], other], ignore_index=True)


# ------------------------------------------------------------------------------------------------ page


def page() -> None:
    st.title("RFM segments")
    totals = load(region_totals)
    picked = st.selectbox(
        "Region",
        ["All regions", *sorted(totals.region)],
        key="rfm_region",
        help="Where the customers live (a state, a province): pick one to see its customers alone",
    )
    region = None if picked == "All regions" else picked
    segments = load(rfm_segments, region)
    customers = float(segments.customers.sum())
    as_of = segments.as_of_date.max() if len(segments) else None
    where = f" in {region}" if region else ""
    # A snapshot: no previous period, so plain numbers rather than headlines with a change.
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
    segments = segments.assign(
        customer_share=segments.customers / customers if customers else 0.0,
        revenue_share=segments.revenue / segments.revenue.sum(),
    )
    by_size = segments.sort_values("customers")
    fig = px.bar(
        by_size,
        x="customers",
        y="segment_name",
        orientation="h",
        labels=LABELS,
        text=by_size.customer_share.map(lambda v: f"{v:.1%}"),
    )
    show(fig, by_size[["segment_name", "customers", "customer_share"]], f"Customers per segment{where}")
    by_revenue = segments.sort_values("revenue")
    fig = px.bar(
        by_revenue,
        x="revenue_share",
        y="segment_name",
        orientation="h",
        labels=LABELS,
        text=by_revenue.revenue_share.map(lambda v: f"{v:.1%}"),
    )
    fig.update_xaxes(tickformat=".0%")
    show(
        fig,
        by_revenue[["segment_name", "revenue", "revenue_share"]],
        f"Share of net revenue per segment{where}",
    )

    scores = load(rfm_scores, region)
    grid = (
        scores.pivot(index="recency_score", columns="frequency_score", values="customers")
        .reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5])
        .fillna(0)
        .astype(int)
    )
    grid.index, grid.columns = [str(i) for i in grid.index], [str(c) for c in grid.columns]
    fig = px.imshow(
        grid,
        text_auto=True,
        aspect="equal",
        color_continuous_scale="Greens",
        labels={"x": LABELS["frequency_score"], "y": LABELS["recency_score"], "color": "Customers"},
    )
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category")
    exported = grid.reset_index(names="recency_score").melt(
        id_vars="recency_score", var_name="frequency_score", value_name="customers"
    )
    show(fig, exported, f"Customers by recency and frequency score (5 = best){where}")
    table(
        segments[
            [
                "segment_name",
                "customers",
                "customer_share",
                "revenue",
                "revenue_share",
                "average_recency_days",
                "average_frequency",
            ]
        ],
        "Segments",
        money_columns=("revenue",),
        count_columns=("customers",),
        percent_columns=("customer_share", "revenue_share"),
    )

    st.subheader("By region")
    shown = top_regions(totals, TOP_REGIONS).iloc[::-1]
    colors = [
        "#d62728" if r == region else "#9e9e9e" if r.startswith("Other") else "#1f77b4" for r in shown.region
    ]
    fig = px.bar(
        shown, x="net_revenue", y="region", orientation="h", labels=LABELS, hover_data={"buyers": ":,"}
    )
    fig.update_traces(marker_color=colors)
    fig.update_xaxes(tickprefix="$")
    fig.update_layout(height=max(400, 24 * len(shown)))
    show(fig, shown.iloc[::-1], f"Net revenue per region: top {min(TOP_REGIONS, len(totals))} and the others")
    table(
        totals[["region", "users", "buyers", "buyer_share", "net_revenue", "net_revenue_per_buyer"]],
        "Regions",
        money_columns=("net_revenue", "net_revenue_per_buyer"),
        count_columns=("users", "buyers"),
        percent_columns=("buyer_share",),
    )
