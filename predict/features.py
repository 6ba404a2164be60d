"""Customer features as of a date, from the lake's users, orders and sessions (one row per customer).

A *customer* is a user with at least one order on or before the as-of date. Every feature reads only days on or
before it, so the same frames give the same features whatever later days hold; labels (`churn_labels`,
`future_orders`) read only the days after it.

Inputs (pandas frames, dates as `datetime64` days or `datetime.date`):
- `users`: user_id, signup_date, channel, device, region
- `orders`: user_id, order_date, order_total, category (the category of the order's largest line)
- `sessions`: user_id, session_date (one row per session)
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

NUMERIC = (
    "recency_days",
    "frequency",
    "monetary",
    "historical_value",
    "tenure_days",
    "first_order_days",
    "orders_30d",
    "trend",
    "sessions",
    "sessions_30d",
    "session_recency_days",
)
CATEGORICAL = ("channel", "device", "region", "top_category")
FEATURES = NUMERIC + CATEGORICAL
RECENT_DAYS = 30  # the "recent" window of orders_30d, sessions_30d and trend


def _days(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values)).dt.normalize()


def customer_features(
    users: pd.DataFrame, orders: pd.DataFrame, sessions: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """One row per customer as of `as_of` (inclusive), sorted by user_id, with `FEATURES` and BG/NBD inputs
    (`repeat_days`: distinct order days after the first, `recency_span`: days from the first to the last order
    day, `age_days`: days from the first order to the as-of date)."""
    cut = pd.Timestamp(as_of)
    o = orders.assign(order_date=_days(orders["order_date"]).values)
    o = o[o["order_date"] <= cut]
    if o.empty:
        return pd.DataFrame(
            columns=["user_id", *FEATURES, "repeat_days", "repeat_monetary", "recency_span", "age_days"]
        )
    total = o["order_total"].astype("float64")
    o = o.assign(order_total=total)
    by = o.groupby("user_id", sort=True)
    first = by["order_date"].min()
    last = by["order_date"].max()
    frame = pd.DataFrame(
        {
            "frequency": by.size().astype("int64"),
            "historical_value": by["order_total"].sum(),
            "recency_days": (cut - last).dt.days.astype("int64"),
            "first_order_days": (cut - first).dt.days.astype("int64"),
        }
    )
    frame["monetary"] = frame["historical_value"] / frame["frequency"]
    age = (cut - o["order_date"]).dt.days
    frame["orders_30d"] = o[age < RECENT_DAYS].groupby("user_id").size().reindex(frame.index, fill_value=0)
    before = o[(age >= RECENT_DAYS) & (age < 2 * RECENT_DAYS)].groupby("user_id").size()
    frame["trend"] = frame["orders_30d"] - before.reindex(frame.index, fill_value=0)
    # BG/NBD's inputs: distinct order days (several orders on one day are one purchase occasion)
    days = o.drop_duplicates(["user_id", "order_date"])
    per_day = o.groupby(["user_id", "order_date"])["order_total"].sum().reset_index()
    later = per_day[per_day.groupby("user_id").cumcount() > 0]  # the repeat occasions (Gamma-Gamma's input)
    repeat = later.groupby("user_id")["order_total"].mean()
    frame["repeat_days"] = days.groupby("user_id").size().reindex(frame.index) - 1
    frame["repeat_monetary"] = repeat.reindex(frame.index, fill_value=0.0).astype("float64")
    frame["recency_span"] = (last - first).dt.days.astype("float64")
    frame["age_days"] = frame["first_order_days"].astype("float64")
    top = (
        o.groupby(["user_id", "category"])["order_total"]
        .sum()
        .reset_index()
        .sort_values(["user_id", "order_total", "category"], ascending=[True, False, True])
        .drop_duplicates("user_id")
        .set_index("user_id")["category"]
    )
    frame["top_category"] = top.reindex(frame.index)
    s = sessions.assign(session_date=_days(sessions["session_date"]).values)
    s = s[(s["session_date"] <= cut) & s["user_id"].isin(frame.index)]
    s_age = (cut - s["session_date"]).dt.days
    frame["sessions"] = s.groupby("user_id").size().reindex(frame.index, fill_value=0)
    frame["sessions_30d"] = (
        s[s_age < RECENT_DAYS].groupby("user_id").size().reindex(frame.index, fill_value=0)
    )
    last_session = s.groupby("user_id")["session_date"].max().reindex(frame.index)
    frame["session_recency_days"] = (cut - last_session).dt.days.fillna(frame["recency_days"]).astype("int64")
    u = users.set_index("user_id").reindex(frame.index)
    frame["tenure_days"] = (cut - _days(u["signup_date"]).set_axis(frame.index)).dt.days.astype("int64")
    for name in ("channel", "device", "region"):
        frame[name] = u[name].astype("string")
    frame["top_category"] = frame["top_category"].astype("string")
    frame = frame.reset_index().rename(columns={"index": "user_id"})
    frame["user_id"] = frame["user_id"].astype("int64")
    return frame[["user_id", *FEATURES, "repeat_days", "repeat_monetary", "recency_span", "age_days"]]


def future_orders(orders: pd.DataFrame, user_ids, as_of: dt.date, horizon: int) -> pd.DataFrame:
    """Orders and spend of each user over the `horizon` days after `as_of` (as-of day excluded)."""
    cut = pd.Timestamp(as_of)
    d = _days(orders["order_date"]).values
    window = orders[(d > cut) & (d <= cut + pd.Timedelta(days=horizon))]
    by = window.groupby("user_id")
    index = pd.Index(np.asarray(user_ids, dtype=np.int64), name="user_id")
    return pd.DataFrame(
        {
            "orders": by.size().reindex(index, fill_value=0).astype("int64"),
            "spend": by["order_total"].sum().astype("float64").reindex(index, fill_value=0.0),
        }
    ).reset_index()


def churn_labels(orders: pd.DataFrame, user_ids, as_of: dt.date, horizon: int) -> np.ndarray:
    """1 for a user with no order in the `horizon` days after `as_of`, else 0."""
    return (future_orders(orders, user_ids, as_of, horizon)["orders"].to_numpy() == 0).astype(np.int8)


def observed_until(orders_last_day: dt.date, as_of: dt.date, horizon: int) -> bool:
    """Whether the days after `as_of` are all in the data (the label can be known)."""
    return (orders_last_day - as_of).days >= horizon
