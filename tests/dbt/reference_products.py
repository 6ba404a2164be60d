"""The product marts recomputed in pandas from the lake, independently of the SQL (see reference.py)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from tests.dbt.reference import day_of, money_sum

AGE_EDGES = [25, 35, 45, 55, 65]
AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
SEASON_OF_MONTH = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
                   6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}  # fmt: skip


def dwell(events: pd.DataFrame, cap: float) -> pd.DataFrame:
    """Product views with the whole seconds to the session's next event, capped (null on the last event)."""
    events = events.sort_values(["session_id", "sequence_number"])
    seconds = events["event_at"].astype("datetime64[ms]").astype("int64") // 1000
    following = seconds.groupby(events["session_id"]).shift(-1)
    events = events.assign(dwell=np.minimum(following - seconds, cap), day=events["event_at"].dt.date)
    return events


def product_performance(
    events: pd.DataFrame, lines: pd.DataFrame, products: pd.DataFrame, cap: float
) -> pd.DataFrame:
    timed = dwell(events, cap)
    views = timed[timed["event_type"] == "product_view"]
    by_views = views.groupby(["product_id", "day"]).agg(
        views=("event_id", "size"), dwell_sum=("dwell", "sum"), timed_views=("dwell", "count")
    )
    adds = (
        timed[timed["event_type"] == "add_to_cart"].groupby(["product_id", "day"]).size().rename("cart_adds")
    )
    lines = lines.assign(day=lines["order_date"], returned=lines["state"] == "returned")
    by_lines = lines.groupby(["product_id", "day"]).agg(
        purchases=("order_item_id", "size"),
        units=("quantity", "sum"),
        returned_purchases=("returned", "sum"),
        revenue=("line_revenue", money_sum),
    )
    out = by_views.join(adds, how="outer").join(by_lines, how="outer").reset_index()
    for column in ("views", "cart_adds", "purchases", "units", "returned_purchases"):
        out[column] = out[column].fillna(0).astype("int64")
    out["revenue"] = [v if isinstance(v, Decimal) else Decimal("0.00") for v in out["revenue"]]
    catalog = products.assign(day=day_of(products["dt"]))[
        ["product_id", "day", "product_name", "brand", "category"]
    ]
    out = out.merge(catalog, on=["product_id", "day"], how="left")
    totals = out.groupby("product_id")["revenue"].agg(money_sum).reset_index()
    totals["cents"] = totals["revenue"].map(lambda d: int(d * 100))
    totals = totals.sort_values(["cents", "product_id"], ascending=[False, True])
    before = totals["cents"].cumsum() - totals["cents"]
    everything = totals["cents"].sum()
    totals["abc_class"] = np.where(
        everything == 0,
        "C",
        np.where(before < 0.80 * everything, "A", np.where(before < 0.95 * everything, "B", "C")),
    )
    out = out.merge(totals[["product_id", "abc_class"]], on="product_id")
    has_timed = out["timed_views"].fillna(0) > 0
    out["dwell_seconds"] = np.where(has_timed, out["dwell_sum"], 0.0).astype(float)
    out["average_dwell_seconds"] = np.where(
        has_timed, out["dwell_sum"] / out["timed_views"].where(has_timed), np.nan
    )
    out["conversion_rate"] = np.where(
        out["views"] > 0, out["purchases"] / out["views"].where(out["views"] > 0), np.nan
    )
    out["return_rate"] = np.where(
        out["purchases"] > 0, out["returned_purchases"] / out["purchases"].where(out["purchases"] > 0), np.nan
    )
    out["popularity_score"] = out["views"] + 5 * out["cart_adds"] + 20 * out["purchases"]
    return out.rename(columns={"day": "performance_date"})


def hot_products(lines: pd.DataFrame, users: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame,
                 min_purchases: int) -> pd.DataFrame:  # fmt: skip
    catalog = products.assign(day=day_of(products["dt"]))[
        ["product_id", "day", "product_name", "brand", "category"]
    ]
    who = users[["user_id", "gender", "region", "birth_date", "signup_at"]].copy()
    age_days = (pd.to_datetime(who["signup_at"]).dt.normalize() - pd.to_datetime(who["birth_date"])).dt.days
    who["age_band"] = np.array(AGE_BANDS)[
        np.searchsorted(AGE_EDGES, np.floor(age_days / 365.25), side="right")
    ]
    frame = (
        lines[["order_id", "user_id", "product_id", "order_date"]]
        .rename(columns={"order_date": "day"})
        .merge(catalog, on=["product_id", "day"], how="left")
        .merge(who, on="user_id")
        .merge(customers[["user_id", "segment_name"]], on="user_id", how="left")
    )
    frame["season"] = [SEASON_OF_MONTH[d.month] for d in frame["day"]]
    frame["all"] = "all"
    segmented = pd.concat(
        [
            frame.assign(segment_type=kind, segment=frame[column])
            for kind, column in (
                ("all", "all"),
                ("gender", "gender"),
                ("age_band", "age_band"),
                ("region", "region"),
                ("rfm_segment", "segment_name"),
            )
        ]
    )
    segmented = segmented[segmented["segment"].notna()]
    items = pd.concat(
        [
            segmented.assign(
                item_kind="product",
                item_id=segmented["product_id"].astype(str),
                item_name=segmented["product_name"],
            ),
            segmented.assign(item_kind="brand", item_id=segmented["brand"], item_name=segmented["brand"]),
            segmented.assign(
                item_kind="category", item_id=segmented["category"], item_name=segmented["category"]
            ),
        ]
    )
    keys = ["segment_type", "segment", "season", "item_kind", "item_id", "item_name"]
    daily = items.groupby([*keys, "day"]).size().rename("purchases").reset_index()
    lists = []
    for as_of in sorted(lines["order_date"].unique()):
        window = daily[(daily["day"] <= as_of) & (daily["day"] > as_of - pd.Timedelta(days=365))]
        summed = window.groupby(keys, as_index=False)["purchases"].sum()
        group = ["segment_type", "segment", "season", "item_kind"]
        summed["list_purchases"] = summed.groupby(group)["purchases"].transform("sum")
        summed = summed.sort_values([*group, "purchases", "item_id"], ascending=[True] * 4 + [False, True])
        summed["rank"] = summed.groupby(group).cumcount() + 1
        lists.append(summed[summed["rank"] <= 10].assign(as_of_date=as_of))
    out = pd.concat(lists, ignore_index=True)
    out["is_thin"] = out["list_purchases"] < min_purchases
    return out


def product_affinity(
    lines: pd.DataFrame, events: pd.DataFrame, products: pd.DataFrame, min_support: int
) -> pd.DataFrame:
    views = events[events["event_type"] == "product_view"]
    baskets = pd.concat(
        [
            lines[["order_id", "product_id"]]
            .drop_duplicates()
            .rename(columns={"order_id": "basket"})
            .assign(kind="bought_together"),
            views[["session_id", "product_id"]]
            .drop_duplicates()
            .rename(columns={"session_id": "basket"})
            .assign(kind="viewed_together"),
        ]
    )
    totals = baskets.groupby("kind")["basket"].nunique()
    counts = baskets.groupby(["kind", "product_id"]).size().rename("item_baskets").reset_index()
    pairs = baskets.merge(baskets, on=["kind", "basket"], suffixes=("", "_related"))
    pairs = pairs[pairs["product_id"] != pairs["product_id_related"]]
    pairs = pairs.groupby(["kind", "product_id", "product_id_related"]).size().rename("support").reset_index()
    pairs = pairs[pairs["support"] >= min_support].rename(
        columns={"product_id_related": "related_product_id"}
    )
    pairs = pairs.merge(counts, on=["kind", "product_id"]).merge(
        counts.rename(columns={"product_id": "related_product_id", "item_baskets": "related_baskets"}),
        on=["kind", "related_product_id"],
    )
    total = pairs["kind"].map(totals).astype(float)
    pairs["support_share"] = pairs["support"] / total
    pairs["confidence"] = pairs["support"] / pairs["item_baskets"]
    pairs["lift"] = pairs["confidence"] / (pairs["related_baskets"] / total)
    pairs = pairs.sort_values(
        ["kind", "product_id", "lift", "support", "related_product_id"],
        ascending=[True, True, False, False, True],
    )
    pairs["rank"] = pairs.groupby(["kind", "product_id"]).cumcount() + 1
    latest = (
        products.assign(day=day_of(products["dt"]))
        .sort_values("day")
        .drop_duplicates("product_id", keep="last")
    )
    names = latest.set_index("product_id")["product_name"]
    pairs["product_name"] = pairs["product_id"].map(names)
    pairs["related_product_name"] = pairs["related_product_id"].map(names)
    return pairs
