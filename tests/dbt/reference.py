"""Plain pandas versions of the funnel, RFM and cohort marts, written the way analysis notebooks compute them,
straight from the lake's Parquet files. They share no code with the dbt project: the tests compare the two."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

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
    customers["as_of_date"] = as_of
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
    return rfm_segment_totals(customers.reset_index())


def _month_index(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.dt.year * 12 + d.dt.month - 1


def _month_start(month_index: int) -> dt.date:
    return dt.date(month_index // 12, month_index % 12 + 1, 1)


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
                    "cohort_month": _month_start(size.cohort),
                    "period_number": period,
                    "period_month": _month_start(month),
                    "cohort_users": size.cohort_users,
                    "active_users": int(users_active),
                    "retention_rate": users_active / size.cohort_users,
                    "period_revenue": revenue,
                    "cumulative_revenue": cumulative,
                    "cumulative_revenue_per_user": float(cumulative) / size.cohort_users,
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# Every other published column: the KPI, traffic, category and user marts, and the promo calendar they carry.
# ---------------------------------------------------------------------------------------------------------------

CENT = Decimal("0.01")


def day_of(values: pd.Series) -> pd.Series:
    """Calendar days (datetime.date) from timestamps, dates or ISO strings."""
    return pd.to_datetime(values).dt.date


def share_to_cent(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator to the cent, an exact half cent away from zero (the SQL's `money_per`/`money_share`,
    macros/money.sql, compute the same on every engine)."""
    return (numerator / denominator).quantize(CENT, rounding=ROUND_HALF_UP)


def money_sum(values: pd.Series) -> Decimal:
    return sum(values, Decimal("0.00"))


def promo_calendar(
    promotions: pd.DataFrame, window_days: int, market: str = "us"
) -> dict[dt.date, tuple[str, str]]:
    """day -> (sale / pre_sale / post_sale, the sale event's name) for every day within `window_days` of a sale
    of `market`; a day claimed by two windows takes the sale, then the pre-sale, then the earlier sale's
    post-sale."""
    claims: dict[dt.date, tuple[int, dt.date, str, str]] = {}
    for promo in promotions[promotions["market"] == market].itertuples():
        start, end = dt.date.fromisoformat(str(promo.start_date)), dt.date.fromisoformat(str(promo.end_date))
        day = start - dt.timedelta(days=window_days)
        while day <= end + dt.timedelta(days=window_days):
            period, priority = (
                ("sale", 1) if start <= day <= end else ("pre_sale", 2) if day < start else ("post_sale", 3)
            )
            claim = (priority, start, period, promo.promotion_name)
            if day not in claims or claim < claims[day]:
                claims[day] = claim
            day += dt.timedelta(days=1)
    return {day: (claim[2], claim[3]) for day, claim in claims.items()}


def sessions_of(events: pd.DataFrame) -> pd.DataFrame:
    """One row per session: entry channel and device (first event by sequence), start, counts, deepest stage."""
    events = events.sort_values(["session_id", "sequence_number", "event_at"])
    events = events.assign(
        stage=events["event_type"].map(STAGE_OF_EVENT).fillna(0).astype(int),
        is_purchase=events["event_type"] == "purchase",
    )
    sessions = events.groupby("session_id").agg(
        user_id=("user_id", "max"),
        channel=("traffic_source", "first"),
        device=("device", "first"),
        started_at=("event_at", "min"),
        events=("event_type", "size"),
        purchases=("is_purchase", "sum"),
        furthest=("stage", "max"),
    )
    sessions["day"] = sessions["started_at"].dt.date
    return sessions.reset_index()


def with_promo(frame: pd.DataFrame, day_column: str, calendar: dict[dt.date, str]) -> pd.DataFrame:
    frame = frame.copy()
    frame["promo_period"] = frame[day_column].map(lambda day: calendar.get(day, ("regular", None))[0])
    frame["promotion_name"] = frame[day_column].map(lambda day: calendar.get(day, ("regular", None))[1])
    frame["is_sale_day"] = frame["promo_period"] == "sale"
    return frame


def funnel_extras(funnel_rows: pd.DataFrame, calendar: dict[dt.date, str]) -> pd.DataFrame:
    """The funnel's derived columns: stage number, drop-off, and the promo period of the day."""
    rows = with_promo(funnel_rows, "funnel_date", calendar)
    rows["stage_number"] = rows["stage"].map({stage: k + 1 for k, stage in enumerate(STAGES)})
    rows["drop_off_sessions"] = rows["previous_stage_sessions"] - rows["sessions_reached"]
    rows["drop_off_rate"] = [
        dropped / previous if previous else np.nan
        for dropped, previous in zip(rows["drop_off_sessions"], rows["previous_stage_sessions"], strict=True)
    ]
    return rows


def kpi_daily(
    sessions: pd.DataFrame, users: pd.DataFrame, orders: pd.DataFrame, calendar: dict[dt.date, str]
) -> pd.DataFrame:
    traffic = (
        sessions.assign(cart=sessions["furthest"] >= 2, bought=sessions["furthest"] >= 4)
        .groupby("day")
        .agg(
            sessions=("session_id", "size"),
            active_users=("user_id", "nunique"),
            cart=("cart", "sum"),
            bought=("bought", "sum"),
        )
    )
    signups = day_of(users["signup_at"]).value_counts()
    placed = orders.groupby("order_date").agg(orders=("order_id", "size"), revenue=("order_total", money_sum))
    rows = []
    for day, t in traffic.iterrows():
        n_orders = int(placed["orders"].get(day, 0))
        revenue = placed["revenue"].get(day, Decimal("0.00"))
        rows.append(
            {
                "kpi_date": day,
                "sessions": int(t["sessions"]),
                "active_users": int(t["active_users"]),
                "new_users": int(signups.get(day, 0)),
                "orders": n_orders,
                "revenue": revenue,
                "average_order_value": share_to_cent(revenue, n_orders) if n_orders else None,
                "conversion_rate": t["bought"] / t["sessions"],
                "cart_abandonment_rate": (t["cart"] - t["bought"]) / t["cart"] if t["cart"] else np.nan,
            }
        )
    return with_promo(pd.DataFrame(rows), "kpi_date", calendar)


def traffic_hourly(sessions: pd.DataFrame) -> pd.DataFrame:
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    sessions = sessions.assign(
        weekday=[d.isoweekday() for d in sessions["day"]], hour=sessions["started_at"].dt.hour
    )
    observed = sessions.groupby("weekday")["day"].nunique()
    cells = sessions.groupby(["weekday", "hour"]).agg(
        sessions=("session_id", "size"), events=("events", "sum"), purchases=("purchases", "sum")
    )
    rows = []
    for weekday, days in observed.items():
        for hour in range(24):
            n, events, purchases = (
                cells.loc[(weekday, hour)].tolist() if (weekday, hour) in cells.index else (0, 0, 0)
            )
            rows.append(
                {
                    "weekday": int(weekday),
                    "hour": hour,
                    "weekday_name": names[weekday - 1],
                    "days_observed": int(days),
                    "sessions": int(n),
                    "events": int(events),
                    "purchases": int(purchases),
                    "average_sessions_per_day": n / days,
                    "conversion_rate": purchases / n if n else np.nan,
                }
            )
    return pd.DataFrame(rows)


def order_lines(order_items: pd.DataFrame, orders: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Order lines with the category of their product on the order's day and their share of the order's
    discount: each line gets discount x line_total / subtotal rounded to the cent, the largest line (then the
    lowest line id) takes the rounding remainder, so that an order's lines add up to its total exactly."""
    catalog = products.assign(day=day_of(products["dt"]))[["product_id", "day", "category", "department"]]
    lines = order_items.assign(day=day_of(order_items["dt"])).merge(
        orders[["order_id", "user_id", "order_date", "discount_amount", "subtotal_amount", "state"]],
        on="order_id",
    )
    lines = lines.merge(catalog, on=["product_id", "day"], how="left")
    lines["share"] = [
        share_to_cent(discount * total, subtotal) if subtotal else Decimal("0.00")
        for discount, total, subtotal in zip(
            lines["discount_amount"], lines["line_total"], lines["subtotal_amount"], strict=True
        )
    ]
    lines = lines.sort_values(["order_id", "line_total", "order_item_id"], ascending=[True, False, True])
    first = ~lines["order_id"].duplicated()
    allocated = lines.groupby("order_id")["share"].agg(money_sum)
    remainder = lines["order_id"].map(allocated)
    lines["discount"] = [
        discount - total_share + share if is_first else share
        for is_first, discount, total_share, share in zip(
            first, lines["discount_amount"], remainder, lines["share"], strict=True
        )
    ]
    lines["line_revenue"] = lines["line_total"] - lines["discount"]
    return lines


def window_revenue(by_day: dict[dt.date, Decimal], day: dt.date, first_back: int, last_back: int) -> Decimal:
    """Revenue of the calendar days from `first_back` to `last_back` days before `day` (missing days count 0)."""
    return sum(
        (by_day.get(day - dt.timedelta(days=k), Decimal("0.00")) for k in range(last_back, first_back + 1)),
        Decimal("0.00"),
    )


def category_performance(
    lines: pd.DataFrame, events: pd.DataFrame, products: pd.DataFrame, sessions: pd.DataFrame
) -> pd.DataFrame:
    catalog = products.assign(day=day_of(products["dt"]))[["product_id", "day", "category", "department"]]
    browsing = events[events["event_type"].isin(["product_view", "add_to_cart", "remove_from_cart"])]
    browsing = browsing.assign(day=day_of(browsing["dt"])).merge(catalog, on=["product_id", "day"])
    views = browsing[browsing["event_type"] == "product_view"].groupby(["category", "day"]).size()
    adds = browsing[browsing["event_type"] == "add_to_cart"].groupby(["category", "day"]).size()
    departments = (
        pd.concat(
            [
                browsing[["category", "department"]],
                lines.loc[lines["category"].notna(), ["category", "department"]],
            ]
        )
        .groupby("category")["department"]
        .max()
    )
    sold = lines.assign(
        returned=np.where(lines["state"] == "returned", lines["quantity"], 0),
        net=[
            r if s == "placed" else Decimal("0.00")
            for r, s in zip(lines["line_revenue"], lines["state"], strict=True)
        ],
    ).groupby(["category", "order_date"])
    sales = sold.agg(
        orders=("order_id", "nunique"), purchases=("order_item_id", "size"), units=("quantity", "sum"),
        returned_units=("returned", "sum"), revenue=("line_revenue", money_sum), net_revenue=("net", money_sum),
    )  # fmt: skip
    days = sorted(sessions["day"].unique())
    first_day = days[0]
    rows = []
    for category, department in departments.items():
        by_day = {}
        for day in days:
            key = (category, day)
            s = sales.loc[key] if key in sales.index else None
            by_day[day] = s["revenue"] if s is not None else Decimal("0.00")
            rows.append(
                {
                    "category": category,
                    "performance_date": day,
                    "department": department,
                    "orders": int(s["orders"]) if s is not None else 0,
                    "units": int(s["units"]) if s is not None else 0,
                    "purchases": int(s["purchases"]) if s is not None else 0,
                    "returned_units": int(s["returned_units"]) if s is not None else 0,
                    "product_views": int(views.get(key, 0)),
                    "cart_adds": int(adds.get(key, 0)),
                    "revenue": by_day[day],
                    "net_revenue": s["net_revenue"] if s is not None else Decimal("0.00"),
                }
            )

        for row in rows[-len(days) :]:
            day = row["performance_date"]
            history = (day - first_day).days + 1
            r7, p7 = window_revenue(by_day, day, 6, 0), window_revenue(by_day, day, 13, 7)
            r28, p28 = window_revenue(by_day, day, 27, 0), window_revenue(by_day, day, 55, 28)
            row["revenue_7d"], row["revenue_28d"] = r7, r28
            row["revenue_wow_growth"] = float(r7 - p7) / float(p7) if history >= 14 and p7 else np.nan
            row["revenue_mom_growth"] = float(r28 - p28) / float(p28) if history >= 56 and p28 else np.nan
    frame = pd.DataFrame(rows)
    day_total = frame.groupby("performance_date")["revenue"].agg(money_sum)

    def ratio(numerators, denominators) -> list[float]:
        return [float(n) / float(d) if d else np.nan for n, d in zip(numerators, denominators, strict=True)]

    frame["average_order_value"] = [
        share_to_cent(revenue, orders) if orders else None
        for revenue, orders in zip(frame["revenue"], frame["orders"], strict=True)
    ]
    frame["revenue_share"] = ratio(frame["revenue"], frame["performance_date"].map(day_total))
    frame["view_to_cart_rate"] = ratio(frame["cart_adds"], frame["product_views"])
    frame["cart_to_purchase_rate"] = ratio(frame["purchases"], frame["cart_adds"])
    frame["view_to_purchase_rate"] = ratio(frame["purchases"], frame["product_views"])
    frame["return_rate"] = ratio(frame["returned_units"], frame["units"])
    return frame


def user_purchase_summary(users: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    orders = orders.sort_values(["user_id", "created_at", "order_id"])
    gaps = orders.groupby("user_id")["order_date"].diff().map(lambda d: d.days if pd.notna(d) else np.nan)
    orders = orders.assign(
        gap=gaps, cancelled=orders["state"] == "cancelled", returned=orders["state"] == "returned"
    )
    per_user = orders.groupby("user_id").agg(
        orders=("order_id", "size"), cancelled_orders=("cancelled", "sum"), returned_orders=("returned", "sum"),
        gross_revenue=("order_total", money_sum), net_revenue=("net", money_sum),
        average_days_between_orders=("gap", "mean"), first_order_date=("order_date", "min"),
        last_order_date=("order_date", "max"), first_order_at=("created_at", "min"),
        last_order_at=("created_at", "max"),
    )  # fmt: skip
    bought = (
        lines.groupby(["user_id", "category"], dropna=False)
        .agg(units=("quantity", "sum"), revenue=("line_revenue", money_sum))
        .reset_index()
    )
    items = bought.groupby("user_id")["units"].sum()
    bought = bought.assign(minus_revenue=[-r for r in bought["revenue"]])
    preferred = (
        bought.sort_values(
            ["user_id", "units", "minus_revenue", "category"],
            ascending=[True, False, True, True],
            na_position="last",
        )
        .groupby("user_id")["category"]
        .first()
    )
    frame = users[["user_id", "acquisition_channel", "region", "signup_at"]].merge(
        per_user, left_on="user_id", right_index=True, how="left"
    )
    frame["signup_date"] = day_of(frame["signup_at"])
    bought_any = frame["orders"].notna()
    for column in ("orders", "cancelled_orders", "returned_orders"):
        frame[column] = frame[column].fillna(0).astype(int)
    for column in ("gross_revenue", "net_revenue"):
        frame[column] = [v if isinstance(v, Decimal) else Decimal("0.00") for v in frame[column]]
    frame["items"] = frame["user_id"].map(items).fillna(0).astype(int)
    frame["preferred_category"] = frame["user_id"].map(preferred)
    frame["average_order_value"] = [
        share_to_cent(gross, n) if has else None
        for gross, n, has in zip(frame["gross_revenue"], frame["orders"], bought_any, strict=True)
    ]
    frame["lifetime_value"] = frame["net_revenue"]
    frame["is_buyer"] = frame["orders"] > 0
    frame["is_repeat_buyer"] = frame["orders"] > 1
    return frame


def rfm_segment_totals(customers: pd.DataFrame) -> pd.DataFrame:
    """Per-segment customers and net revenue, and their shares, on every customer row."""
    total_customers, total_revenue = len(customers), money_sum(customers["monetary"])
    sizes = customers.groupby("segment_name").size()
    revenue = customers.groupby("segment_name")["monetary"].agg(money_sum)
    customers = customers.copy()
    customers["segment_customers"] = customers["segment_name"].map(sizes)
    customers["segment_customer_share"] = customers["segment_customers"] / total_customers
    customers["segment_revenue"] = customers["segment_name"].map(revenue)
    customers["segment_revenue_share"] = [
        float(r) / float(total_revenue) if total_revenue else np.nan for r in customers["segment_revenue"]
    ]
    return customers
