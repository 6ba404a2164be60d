"""The funnel, RFM and cohort marts equal an independent pandas implementation on the same lake, exactly."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from tests.dbt import reference
from tests.dbt.conftest import lake_frame, read_mart

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(small_build):
    orders = reference.order_states(
        lake_frame(small_build, "orders"), lake_frame(small_build, "order_status_changes")
    )
    return {"orders": orders, "users": lake_frame(small_build, "users")}


def as_float(column: pd.Series) -> pd.Series:
    return column.map(lambda v: float(v) if isinstance(v, Decimal) else v).astype(float)


def assert_same(expected: pd.DataFrame, actual: pd.DataFrame, keys: list[str], columns: list[str]) -> None:
    expected = expected.sort_values(keys).reset_index(drop=True)[keys + columns]
    actual = actual.sort_values(keys).reset_index(drop=True)[keys + columns]
    assert len(expected) == len(actual)
    for column in keys + columns:
        left, right = expected[column], actual[column]
        numeric = column not in keys and (left.dtype == object or right.dtype.kind == "f")
        if numeric and not isinstance(left.iloc[0], str):
            left, right = as_float(left), as_float(right)
        mismatch = ~((left == right) | (left.isna() & right.isna()))
        assert not mismatch.any(), (
            f"{column}: {mismatch.sum()} rows differ, e.g.\n{expected[mismatch].head()}"
        )


def test_funnel_matches_pandas(small_build):
    expected = reference.funnel(lake_frame(small_build, "user_events"))
    actual = read_mart(small_build, "dm_funnel_events", "funnel_date")
    actual["funnel_date"] = pd.to_datetime(actual["funnel_date"]).dt.date
    assert_same(
        expected, actual, ["funnel_date", "channel", "device", "stage"],
        ["sessions", "sessions_reached", "previous_stage_sessions", "step_conversion_rate", "overall_conversion_rate"],
    )  # fmt: skip


def test_rfm_matches_pandas(small_build, lake):
    expected = reference.rfm(lake["orders"])
    actual = read_mart(small_build, "dm_rfm_segments", "user_id")
    assert set(expected["segment_name"]) == set(actual["segment_name"])
    assert len(set(actual["segment_name"])) >= 8  # the data spreads over most segments, not a degenerate few
    assert_same(
        expected, actual, ["user_id"],
        ["recency_days", "frequency", "monetary", "recency_score", "frequency_score", "monetary_score", "fm_score",
         "rfm_code", "segment_name"],
    )  # fmt: skip


def test_cohorts_match_pandas(small_build, lake):
    expected = reference.cohorts(lake["users"], lake["orders"])
    actual = read_mart(small_build, "dm_cohort_retention", "cohort_type")
    actual["cohort_month"] = pd.to_datetime(actual["cohort_month"]).dt.date
    assert set(actual["cohort_type"]) == {"signup", "first_purchase"}
    assert_same(
        expected, actual, ["cohort_type", "cohort_month", "period_number"],
        ["cohort_users", "active_users", "retention_rate", "cumulative_revenue"],
    )  # fmt: skip
