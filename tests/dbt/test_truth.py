"""At `small` scale the marts recover the generator's answer key, and revenue reconciles across the marts.

Tolerances: stage rates are binomial proportions, so each observed rate is compared with the answer key's
expected rate within 4.5 standard errors, sqrt(p (1 - p) / n) with n the sessions at the previous stage. With
about 18 x 4 comparisons, 4.5 sigma keeps the chance of a false alarm under 0.1% while a modelling error of a
few points (e.g. counting bounces as views, or stages not nested) is 10+ sigma away at this volume. Counts that
the answer key records exactly (sessions per day, channel and device; sale days; promo periods) must match exactly.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from tests.support.marts import lake_frame, read_mart

pytestmark = pytest.mark.slow

Z = 4.5


@pytest.fixture(scope="module")
def answer_key(small_build):
    key = lake_frame(small_build, "answer_key")
    key["day"] = pd.to_datetime(key["dt"]).dt.date
    return key


@pytest.fixture(scope="module")
def funnel(small_build):
    funnel = read_mart(small_build, "dm_funnel_events", "funnel_date")
    funnel["funnel_date"] = pd.to_datetime(funnel["funnel_date"]).dt.date
    return funnel


@pytest.fixture(scope="module")
def kpi(small_build):
    kpi = read_mart(small_build, "dm_kpi_daily", "kpi_date")
    kpi["kpi_date"] = pd.to_datetime(kpi["kpi_date"]).dt.date
    return kpi


def test_sessions_per_channel_and_device_match_the_answer_key_exactly(answer_key, funnel):
    expected = answer_key[answer_key["sessions"] > 0].set_index(["day", "channel", "device"])["sessions"]
    views = funnel[funnel["stage"] == "view"].set_index(["funnel_date", "channel", "device"])["sessions"]
    views.index.names = expected.index.names
    pd.testing.assert_series_equal(expected.sort_index(), views.sort_index(), check_dtype=False)


def test_channel_mix_matches_the_answer_key(answer_key, funnel):
    expected = answer_key.groupby("channel")["sessions"].sum()
    actual = funnel[funnel["stage"] == "view"].groupby("channel")["sessions"].sum()
    assert (expected / expected.sum()).round(12).to_dict() == (actual / actual.sum()).round(12).to_dict()


def test_funnel_rates_per_channel_and_device_recover_the_answer_key(answer_key, funnel):
    key = answer_key[answer_key["sessions"] > 0].fillna(0.0)
    # Expected sessions reaching each stage, summed over days: sessions x the product of the stage rates.
    reach = key["sessions"].astype(float)
    expected = {}
    for stage in ("view", "cart", "checkout", "purchase"):
        reach = reach * key[f"expected_{stage}_rate"]
        expected[stage] = reach.groupby([key["channel"], key["device"]]).sum()
    observed = funnel.pivot_table(
        index=["channel", "device"], columns="stage", values="sessions_reached", aggfunc="sum"
    )
    totals = funnel[funnel["stage"] == "view"].groupby(["channel", "device"])["sessions"].sum()
    failures = []
    for (channel, device), sessions in totals.items():
        previous_expected, previous_observed = float(sessions), float(sessions)
        for stage in ("view", "cart", "checkout", "purchase"):
            p = expected[stage][(channel, device)] / previous_expected if previous_expected else 0.0
            n = previous_observed
            rate = observed.loc[(channel, device), stage] / n if n else 0.0
            se = math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))
            if abs(rate - p) > Z * se + 1e-9:
                failures.append(
                    f"{channel}/{device}/{stage}: observed {rate:.4f}, expected {p:.4f} +- {Z * se:.4f}"
                )
            previous_expected, previous_observed = (
                expected[stage][(channel, device)],
                observed.loc[(channel, device), stage],
            )
    assert not failures, "\n".join(failures)


def test_sale_days_and_promo_periods_match_the_calendar(answer_key, kpi):
    days = answer_key.groupby("day").agg(
        is_sale_day=("is_sale_day", "first"), promo_period=("promo_period", "first")
    )
    merged = kpi.set_index("kpi_date").join(days, rsuffix="_truth")
    assert (merged["is_sale_day"] == merged["is_sale_day_truth"]).all()
    assert (merged["promo_period"] == merged["promo_period_truth"]).all()
    assert set(merged["promo_period"]) == {"regular", "pre_sale", "sale", "post_sale"}


def test_sale_day_uplift_recovers_the_answer_key(answer_key, kpi):
    """Sale days convert better by the answer key's conversion multiplier (and the session mix of the day)."""
    expected_conversions = (
        (answer_key["sessions"] * answer_key["expected_conversion_rate"].fillna(0.0))
        .groupby(answer_key["day"])
        .sum()
    )
    kpi = kpi.set_index("kpi_date")
    kpi["expected_conversions"] = expected_conversions
    kpi["purchase_sessions"] = kpi["conversion_rate"] * kpi["sessions"]
    # Compare sale days with the regular days of the same weeks (the user base grows over time).
    sale = kpi[kpi["is_sale_day"]]
    around = kpi[
        (kpi["promo_period"] != "sale")
        & (kpi.index >= min(sale.index) - pd.Timedelta(days=14).to_pytimedelta())
    ]

    def conv(frame, column):
        return frame[column].sum() / frame["sessions"].sum()

    observed = conv(sale, "purchase_sessions") / conv(around, "purchase_sessions")
    expected = conv(sale, "expected_conversions") / conv(around, "expected_conversions")
    p1, n1 = conv(sale, "purchase_sessions"), sale["sessions"].sum()
    p2, n2 = conv(around, "purchase_sessions"), around["sessions"].sum()
    relative_se = math.sqrt((1 - p1) / (n1 * p1) + (1 - p2) / (n2 * p2))
    assert expected > 1.2  # the answer key does promise an uplift in this window
    assert abs(observed / expected - 1) < Z * relative_se, (observed, expected, relative_se)
    # Traffic: sale days are busier than the regular days around them, as the traffic multiplier says.
    multiplier = answer_key.groupby("day")["traffic_multiplier"].first()
    assert sale["sessions"].mean() > around["sessions"].mean()
    assert multiplier[sale.index].mean() > multiplier[around.index].mean()


def test_revenue_reconciles_across_marts_and_orders(small_build):
    """Exact decimal sums, computed in DuckDB: gross and net revenue agree to the cent everywhere."""
    lake = small_build / "lake"
    con = duckdb.connect()
    try:
        con.execute(f"attach '{small_build / 'warehouse' / 'build.duckdb'}' as build (read_only)")
        con.execute(f"create view orders as select * from read_parquet('{lake}/orders/dt=*/*.parquet')")
        con.execute(
            f"create view changes as select * from read_parquet('{lake}/order_status_changes/dt=*/*.parquet')"
        )
        totals = con.execute(
            """
            select
                (select sum(order_total) from orders),
                (select sum(order_total) from orders where order_id not in (select order_id from changes)),
                (select sum(revenue) from build.marts.dm_kpi_daily),
                (select sum(revenue) from build.marts.dm_category_performance),
                (select sum(net_revenue) from build.marts.dm_category_performance),
                (select sum(gross_revenue) from build.marts.dm_user_purchase_summary),
                (select sum(net_revenue) from build.marts.dm_user_purchase_summary),
                (select sum(lifetime_value) from build.marts.dm_user_purchase_summary)
            """
        ).fetchone()
        day_mismatches = con.execute(
            """
            select count(*) from build.marts.dm_kpi_daily as kpi
            left join (
                select performance_date, sum(revenue) as revenue
                from build.marts.dm_category_performance group by performance_date
            ) as category on kpi.kpi_date = category.performance_date
            where kpi.revenue is distinct from category.revenue
            """
        ).fetchone()[0]
    finally:
        con.close()
    gross, net, kpi_gross, category_gross, category_net, user_gross, user_net, user_ltv = totals
    assert kpi_gross == category_gross == user_gross == gross
    assert category_net == user_net == user_ltv == net
    assert 0 < net < gross
    assert day_mismatches == 0  # day by day as well, to the cent
