"""Every published mart column equals an independent pandas implementation on the same lake.

`COMPARED` lists, per mart, its key and the columns compared; `test_every_published_column_is_compared` reads the
columns the build actually publishes (DuckDB's information_schema) and fails on any column without a reference,
so a new mart column cannot ship unchecked.

Tolerances: counts, dates, strings, booleans and money sums are compared exactly. Ratios are doubles that the
two sides compute in a different order of operations: relative 1e-9. Averages and shares of money are rounded to
the cent, an exact half cent away from zero, on both sides: exact.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.dbt import reference, reference_products
from tests.support.ecom import REPO
from tests.support.marts import MARTS, PREDICTIVE_MARTS, STATISTICS_MARTS, lake_frame, read_mart

pytestmark = pytest.mark.slow

RATIO_RTOL = 1e-9

# mart -> (key columns, compared columns)
COMPARED = {
    "dm_kpi_daily": (
        ["kpi_date"],
        ["promo_period", "promotion_name", "sessions", "active_users", "new_users", "orders", "revenue", "average_order_value",
         "conversion_rate", "cart_abandonment_rate", "is_sale_day"],
    ),
    "dm_funnel_events": (
        ["funnel_date", "channel", "device", "stage"],
        ["promo_period", "stage_number", "sessions", "sessions_reached", "previous_stage_sessions",
         "drop_off_sessions", "step_conversion_rate", "drop_off_rate", "overall_conversion_rate", "is_sale_day"],
    ),
    "dm_traffic_hourly": (
        ["weekday", "hour"],
        ["weekday_name", "days_observed", "sessions", "events", "purchases", "average_sessions_per_day",
         "conversion_rate"],
    ),
    "dm_user_purchase_summary": (
        ["user_id"],
        ["acquisition_channel", "region", "preferred_category", "orders", "cancelled_orders", "returned_orders", "items",
         "gross_revenue", "net_revenue", "average_order_value", "lifetime_value", "average_days_between_orders",
         "is_buyer", "is_repeat_buyer", "signup_date", "first_order_date", "last_order_date", "signup_at",
         "first_order_at", "last_order_at"],
    ),
    "dm_category_performance": (
        ["category", "performance_date"],
        ["department", "orders", "units", "purchases", "product_views", "cart_adds", "returned_units", "revenue",
         "net_revenue", "average_order_value", "revenue_share", "revenue_7d", "revenue_wow_growth",
         "revenue_28d", "revenue_mom_growth", "view_to_cart_rate", "cart_to_purchase_rate",
         "view_to_purchase_rate", "return_rate"],
    ),
    "dm_cohort_retention": (
        ["cohort_type", "cohort_month", "period_number"],
        ["period_month", "cohort_users", "active_users", "retention_rate", "period_revenue", "cumulative_revenue",
         "cumulative_revenue_per_user"],
    ),
    "dm_rfm_segments": (
        ["user_id"],
        ["rfm_code", "segment_name", "recency_days", "frequency", "monetary", "recency_score", "frequency_score",
         "monetary_score", "fm_score", "segment_customers", "segment_customer_share", "segment_revenue",
         "segment_revenue_share", "last_order_date", "as_of_date"],
    ),
    "dm_product_performance": (
        ["product_id", "performance_date"],
        ["product_name", "brand", "category", "abc_class", "views", "cart_adds", "purchases", "units",
         "returned_purchases", "revenue", "dwell_seconds", "average_dwell_seconds", "conversion_rate",
         "return_rate", "popularity_score"],
    ),
    "dm_hot_products": (
        ["as_of_date", "segment_type", "segment", "season", "item_kind", "rank"],
        ["item_id", "item_name", "purchases", "list_purchases", "is_thin"],
    ),
    "dm_product_affinity": (
        ["kind", "product_id", "related_product_id"],
        ["product_name", "related_product_name", "support", "support_share", "confidence", "lift", "rank"],
    ),
}  # fmt: skip


def published_types(data_dir) -> dict[str, dict[str, str]]:
    """mart -> column -> SQL type, as the build publishes them (information_schema)."""
    con = duckdb.connect(str(data_dir / "warehouse" / "build.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts'"
        ).fetchall()
    finally:
        con.close()
    types: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        types.setdefault(table, {})[column] = data_type
    return types


def published_columns(data_dir) -> dict[str, set[str]]:
    """The descriptive marts' published columns (the statistical and predictive ones are checked against the
    truth instead: tests/stats/, tests/predict/)."""
    skipped = {*STATISTICS_MARTS, *PREDICTIVE_MARTS}
    return {mart: set(columns) for mart, columns in published_types(data_dir).items() if mart not in skipped}


def test_every_published_column_is_compared(small_build):
    published = published_columns(small_build)
    assert set(published) == set(MARTS) == set(COMPARED)
    unchecked = {
        f"{mart}.{column}"
        for mart, columns in published.items()
        for column in columns - set(COMPARED[mart][0]) - set(COMPARED[mart][1])
    }
    assert unchecked == set(), f"published columns without a reference check: {sorted(unchecked)}"
    stale = {
        f"{mart}.{column}"
        for mart, (keys, columns) in COMPARED.items()
        for column in set(keys + columns) - published[mart]
    }
    assert stale == set(), f"compared columns the build does not publish: {sorted(stale)}"


@pytest.fixture(scope="module")
def lake(small_build):
    orders = reference.order_states(
        lake_frame(small_build, "orders"), lake_frame(small_build, "order_status_changes")
    )
    events = lake_frame(small_build, "user_events")
    products = lake_frame(small_build, "products")
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    calendar = reference.promo_calendar(
        pd.read_csv(REPO / "dbt_project" / "seeds" / "promotions.csv"),
        int(project["vars"]["ecom__promo_window_days"]),
    )
    return {
        "orders": orders,
        "users": lake_frame(small_build, "users"),
        "events": events,
        "sessions": reference.sessions_of(events),
        "products": products,
        "lines": reference.order_lines(lake_frame(small_build, "order_items"), orders, products),
        "calendar": calendar,
        "vars": project["vars"],
    }


def expected_mart(mart: str, lake: dict) -> pd.DataFrame:
    if mart == "dm_kpi_daily":
        return reference.kpi_daily(lake["sessions"], lake["users"], lake["orders"], lake["calendar"])
    if mart == "dm_funnel_events":
        return reference.funnel_extras(reference.funnel(lake["events"]), lake["calendar"])
    if mart == "dm_traffic_hourly":
        return reference.traffic_hourly(lake["sessions"])
    if mart == "dm_user_purchase_summary":
        return reference.user_purchase_summary(lake["users"], lake["orders"], lake["lines"])
    if mart == "dm_category_performance":
        return reference.category_performance(
            lake["lines"], lake["events"], lake["products"], lake["sessions"]
        )
    if mart == "dm_cohort_retention":
        return reference.cohorts(lake["users"], lake["orders"])
    if mart == "dm_product_performance":
        cap = float(lake["vars"]["ecom__dwell_cap_seconds"])
        return reference_products.product_performance(lake["events"], lake["lines"], lake["products"], cap)
    if mart == "dm_hot_products":
        return reference_products.hot_products(
            lake["lines"], lake["users"], reference.rfm(lake["orders"]), lake["products"],
            int(lake["vars"]["ecom__hot_list_min_purchases"]),
        )  # fmt: skip
    if mart == "dm_product_affinity":
        return reference_products.product_affinity(
            lake["lines"], lake["events"], lake["products"], int(lake["vars"]["ecom__affinity_min_support"])
        )
    return reference.rfm(lake["orders"])


def normalised(column: pd.Series, data_type: str) -> pd.Series:
    """DATE columns as datetime.date, TIMESTAMP columns as pandas Timestamps, everything else as is."""
    if data_type == "DATE":
        return pd.Series(
            [pd.Timestamp(v).date() if v is not None and pd.notna(v) else None for v in column],
            index=column.index,
            dtype=object,
        )
    if data_type.startswith("TIMESTAMP"):
        return pd.to_datetime(column)
    return column


def as_float(column: pd.Series) -> pd.Series:
    return pd.Series(
        [
            float(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else np.nan
            for v in column
        ],
        index=column.index,
        dtype=float,
    )


def differing(column: str, data_type: str, expected: pd.Series, actual: pd.Series) -> pd.Series:
    """Boolean mask of the rows where the two sides disagree (null equals null)."""
    if data_type in ("DOUBLE", "FLOAT") or data_type.startswith(("DECIMAL", "BIGINT", "INTEGER", "HUGEINT")):
        left, right = as_float(expected), as_float(actual)
        if data_type in ("DOUBLE", "FLOAT"):
            close = np.isclose(left, right, rtol=RATIO_RTOL, atol=0)
        else:
            close = left == right  # counts and money: exact
    else:
        left, right = normalised(expected, data_type), normalised(actual, data_type)
        close = left == right
    both_null = left.isna() & right.isna()
    return ~(both_null | close)


@pytest.mark.parametrize("mart", sorted(COMPARED))
def test_mart_matches_pandas(small_build, lake, mart):
    keys, columns = COMPARED[mart]
    types = published_types(small_build)[mart]
    expected = expected_mart(mart, lake)
    actual = read_mart(small_build, mart, ", ".join(keys))
    for key in keys:
        expected[key], actual[key] = (
            normalised(expected[key], types[key]),
            normalised(actual[key], types[key]),
        )
    assert len(actual) > 0
    merged = expected[keys + columns].merge(
        actual[keys + columns], on=keys, how="outer", suffixes=("_expected", "_actual"), indicator=True
    )
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, f"{mart}: keys on one side only:\n{unmatched[[*keys, '_merge']].head(10)}"
    failures = []
    for column in columns:
        mask = differing(column, types[column], merged[f"{column}_expected"], merged[f"{column}_actual"])
        if mask.any():
            sample = merged.loc[mask, [*keys, f"{column}_expected", f"{column}_actual"]].head(5)
            failures.append(f"{column}: {int(mask.sum())} of {len(merged)} rows differ, e.g.\n{sample}")
    assert not failures, f"{mart}:\n" + "\n".join(failures)


def test_the_window_exercises_the_columns(small_build, lake):
    """The comparison means something only if the data reaches the interesting cases."""
    rfm = read_mart(small_build, "dm_rfm_segments", "user_id")
    assert len(set(rfm["segment_name"])) >= 8  # the data spreads over most segments, not a degenerate few
    categories = read_mart(small_build, "dm_category_performance", "category, performance_date")
    assert categories["revenue_wow_growth"].notna().any()
    assert categories["revenue_mom_growth"].notna().any()  # the window is longer than 56 days
    kpis = read_mart(small_build, "dm_kpi_daily", "kpi_date")
    assert set(kpis["promo_period"]) >= {"regular", "pre_sale", "sale", "post_sale"}
    users = read_mart(small_build, "dm_user_purchase_summary", "user_id")
    assert users["is_repeat_buyer"].any() and (users["cancelled_orders"] > 0).any()
    assert (users["returned_orders"] > 0).any()
