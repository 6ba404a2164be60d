"""Plain pandas versions of the funnel, RFM and cohort marts, written the way analysis notebooks compute them,
straight from the lake's Parquet files. They share no code with the dbt project: the tests compare the two."""

from __future__ import annotations

import numpy as np
import pandas as pd

STAGE_OF_EVENT = {"product_view": 1, "add_to_cart": 2, "checkout": 3, "purchase": 4}
STAGES = ["view", "cart", "checkout", "purchase"]

# (recency score, rounded mean of frequency and monetary scores) -> segment, spelled out cell by cell.
SEGMENT_GRID = {
    5: ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Champions"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"],
}


def funnel(events: pd.DataFrame) -> pd.DataFrame:
    events = events.sort_values(["session_id", "sequence_number"])
    events["stage"] = events["event_type"].map(STAGE_OF_EVENT).fillna(0).astype(int)
    sessions = events.groupby("session_id").agg(
        channel=("traffic_source", "first"),
        device=("device", "first"),
        started_at=("event_at", "min"),
        furthest=("stage", "max"),
    )
    sessions["funnel_date"] = sessions["started_at"].dt.date
    rows = []
    for (day, channel, device), cell in sessions.groupby(["funnel_date", "channel", "device"]):
        total = len(cell)
        reached = [int((cell["furthest"] >= k).sum()) for k in range(1, 5)]
        previous = [total, *reached[:-1]]
        for k, stage in enumerate(STAGES):
            rows.append(
                {
                    "funnel_date": day,
                    "channel": channel,
                    "device": device,
                    "stage": stage,
                    "sessions": total,
                    "sessions_reached": reached[k],
                    "previous_stage_sessions": previous[k],
                    "step_conversion_rate": reached[k] / previous[k] if previous[k] else np.nan,
                    "overall_conversion_rate": reached[k] / total,
                }
            )
    return pd.DataFrame(rows)


def order_states(orders: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    latest = changes.sort_values("changed_at").groupby("order_id")["status"].last()
    orders = orders.copy()
    orders["state"] = orders["order_id"].map(latest).fillna("placed")
    orders["order_date"] = orders["created_at"].dt.date
    orders["net"] = np.where(orders["state"] == "placed", orders["order_total"], 0)
    return orders


def _score(values: pd.Series, ascending: bool) -> pd.Series:
    """1-5 by percent rank: ties share the lowest rank, 5 is the best value."""
    rank = values.rank(method="min", ascending=ascending)
    n = len(values)
    if n == 1:
        return pd.Series(1, index=values.index)
    return np.minimum(5, 1 + np.floor(5.0 * (rank - 1) / (n - 1))).astype(int)


def rfm(orders: pd.DataFrame) -> pd.DataFrame:
    as_of = orders["order_date"].max()
    done = orders[orders["state"] != "cancelled"]
    customers = done.groupby("user_id").agg(
        last_order_date=("order_date", "max"), frequency=("order_id", "count"), monetary=("net", "sum")
    )
    customers["recency_days"] = [(as_of - d).days for d in customers["last_order_date"]]
    customers["recency_score"] = _score(customers["recency_days"], ascending=False)
    customers["frequency_score"] = _score(customers["frequency"], ascending=True)
    cents = customers["monetary"].map(lambda amount: int(amount * 100))  # exact, for ranking
    customers["monetary_score"] = _score(cents, ascending=True)
    customers["fm_score"] = (customers["frequency_score"] + customers["monetary_score"] + 1) // 2
    customers["segment_name"] = [
        SEGMENT_GRID[r][fm - 1]
        for r, fm in zip(customers["recency_score"], customers["fm_score"], strict=True)
    ]
    customers["rfm_code"] = (
        customers["recency_score"].astype(str)
        + customers["frequency_score"].astype(str)
        + customers["monetary_score"].astype(str)
    )
    return customers.reset_index()


def _month_index(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.dt.year * 12 + d.dt.month - 1


def cohorts(users: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    done = orders[orders["state"] != "cancelled"].copy()
    done["month"] = _month_index(done["order_date"])
    first_month, last_month = _month_index(orders["order_date"]).agg(["min", "max"])
    members = pd.concat(
        [
            pd.DataFrame({"user_id": users["user_id"], "cohort_type": "signup",
                          "cohort": _month_index(users["signup_at"].dt.date)}),
            done.groupby("user_id")["month"].min().rename("cohort").reset_index().assign(
                cohort_type="first_purchase"),
        ]
    )  # fmt: skip
    sizes = members.groupby(["cohort_type", "cohort"]).size().rename("cohort_users").reset_index()
    activity = members.merge(done[["user_id", "month", "net"]], on="user_id")
    activity["period_number"] = activity["month"] - activity["cohort"]
    active = activity.groupby(["cohort_type", "cohort", "period_number"]).agg(
        active_users=("user_id", "nunique"), period_revenue=("net", "sum")
    )
    rows = []
    for size in sizes.itertuples():
        cumulative = 0
        for month in range(max(size.cohort, first_month), last_month + 1):
            period = month - size.cohort
            key = (size.cohort_type, size.cohort, period)
            users_active, revenue = active.loc[key] if key in active.index else (0, 0)
            cumulative += revenue
            rows.append(
                {
                    "cohort_type": size.cohort_type,
                    "cohort_month": pd.Timestamp(
                        year=size.cohort // 12, month=size.cohort % 12 + 1, day=1
                    ).date(),
                    "period_number": period,
                    "cohort_users": size.cohort_users,
                    "active_users": int(users_active),
                    "retention_rate": users_active / size.cohort_users,
                    "cumulative_revenue": cumulative,
                }
            )
    return pd.DataFrame(rows)
