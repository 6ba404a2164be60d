"""Experiments: deterministic assignment, exposures as a tracker logs them, and realised effects that match the
true effects in the experiments table (and none in the A/A test)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from generator.config import GeneratorConfig
from generator.day import generate_day
from generator.experiments import EXPERIMENTS, treated

CFG = GeneratorConfig(scale="small", seed=42)
WINDOW = [dt.date(2025, 9, 8) + dt.timedelta(days=i) for i in range(49)]  # while the first three all run
BY_ID = {e.experiment_id: e for e in EXPERIMENTS}


def test_assignment_is_a_pure_function_of_the_unit():
    units = np.arange(1, 200_001, dtype=np.int64)
    for e in EXPERIMENTS:
        first = treated(42, e, units)
        assert (first == treated(42, e, units[::-1])[::-1]).all()  # no order or batch dependence
        # the allocation holds (binomial sd of the share over 200k units: 0.0011; 5 sd)
        assert abs(first.mean() - e.allocation) < 0.0056
    # different experiments assign independently: the overlap of two 50/50 splits is a quarter
    a = treated(42, BY_ID["exp_one_page_checkout"], units)
    b = treated(42, BY_ID["exp_aa_homepage_copy"], units)
    assert abs((a & b).mean() - 0.25) < 0.005


def test_experiments_table_and_exposures_of_a_day():
    day = generate_day(GeneratorConfig(scale="tiny"), dt.date(2025, 9, 10)).tables
    running = day["experiments"].to_pandas().set_index("experiment_id")
    assert set(running.index) == {"exp_one_page_checkout", "exp_bundle_banner", "exp_aa_homepage_copy"}
    assert running.loc["exp_aa_homepage_copy", "true_relative_effect"] == 0.0
    exposures = day["experiment_exposures"].to_pandas().astype({"experiment_id": str, "variant": str})
    events = day["user_events"].to_pandas().astype({"event_type": str})

    def first(event_type: str | None) -> pd.Series:
        rows = events if event_type is None else events[events["event_type"] == event_type]
        return rows.groupby("session_id")["event_at"].min()

    signed_in = set(events.loc[events["user_id"].notna(), "session_id"])
    # each experiment exposes the sessions with a unit that reach its surface, when they first see it
    for experiment_id, seen, unit_needed in (
        ("exp_aa_homepage_copy", first(None), True),  # the landing page, signed-in users
        ("exp_bundle_banner", first("product_view"), True),  # product pages, signed-in users
        ("exp_one_page_checkout", first("add_to_cart"), False),  # the cart, any session
    ):
        rows = exposures[exposures["experiment_id"] == experiment_id].set_index("session_id")
        expected = seen[seen.index.isin(signed_in)] if unit_needed else seen
        assert set(rows.index) == set(expected.index), experiment_id
        assert (rows["exposed_at"] == expected[rows.index]).all(), experiment_id
    # a user keeps their variant in every session
    users = (
        exposures[exposures["experiment_id"] == "exp_bundle_banner"].groupby("user_id")["variant"].nunique()
    )
    assert (users == 1).all()


@pytest.fixture(scope="module")
def window() -> dict[str, pd.DataFrame]:
    parts: dict[str, list[pa.Table]] = {"experiment_exposures": [], "user_events": [], "orders": []}
    for day in WINDOW:
        tables = generate_day(CFG, day).tables
        parts["experiment_exposures"].append(tables["experiment_exposures"])
        purchases = tables["user_events"].filter(
            pa.compute.equal(tables["user_events"]["event_type"], "purchase")
        )
        parts["user_events"].append(purchases.select(["session_id"]))
        parts["orders"].append(tables["orders"].select(["session_id", "user_id", "subtotal_amount"]))
    return {k: pa.concat_tables(v).to_pandas() for k, v in parts.items()}


def _arms(window, experiment_id: str) -> pd.DataFrame:
    exposures = window["experiment_exposures"].astype({"experiment_id": str, "variant": str})
    return exposures[exposures["experiment_id"] == experiment_id]


def conversion_ratio(window, experiment_id: str) -> tuple[float, float]:
    """log(treatment / control session conversion) and its standard error (sessions are the units)."""
    arms = _arms(window, experiment_id).copy()
    arms["converted"] = arms["session_id"].isin(set(window["user_events"]["session_id"]))
    stats = arms.groupby("variant")["converted"].agg(["sum", "count"])
    p = stats["sum"] / stats["count"]
    se = np.sqrt(((1 - p) / stats["sum"]).sum())
    return float(np.log(p["treatment"] / p["control"])), float(se)


def clustered_log_ratio(units: pd.DataFrame, numerator: str, denominator: str) -> tuple[float, float]:
    """log(treatment / control) of a ratio metric (sum numerator / sum denominator over a variant's units),
    with the delta-method standard error over units (users), so repeat orders of a user are not independent."""
    out = {}
    for variant, g in units.groupby("variant"):
        x, y = g[numerator].to_numpy(float), g[denominator].to_numpy(float)
        n, mx, my = len(g), x.mean(), y.mean()
        cov = np.cov(x, y)
        var_log = (cov[0, 0] / mx**2 + cov[1, 1] / my**2 - 2 * cov[0, 1] / (mx * my)) / n
        out[variant] = (np.log(mx / my), var_log)
    return out["treatment"][0] - out["control"][0], float(np.sqrt(out["treatment"][1] + out["control"][1]))


@pytest.mark.slow
def test_realised_effects_match_the_truth(window):
    """Seven weeks at `small` (16k sessions reach the cart, 4k orders of exposed users, 62k A/A exposures).
    Tolerance: 4 standard errors of the log ratio (two-sided, a chance failure about 1 in 16,000 per check),
    computed from the data. The conversion effect is about 6 standard errors from zero, so that check also
    shows it is detectable; the order-value effect is about 3 (order values vary a lot), so only its agreement
    with the truth is checked."""
    # conversion of the sessions that reached the cart (the surface): session-randomised, +20%
    e = BY_ID["exp_one_page_checkout"]
    log_ratio, se = conversion_ratio(window, e.experiment_id)
    assert abs(log_ratio - np.log1p(e.true_relative_effect)) < 4 * se, (np.expm1(log_ratio), se)
    assert log_ratio > 2 * se

    # order value: user-randomised; mean subtotal per order, clustered by user
    e = BY_ID["exp_bundle_banner"]
    arms = _arms(window, e.experiment_id).drop_duplicates("user_id")[["user_id", "variant"]]
    orders = window["orders"].assign(subtotal=lambda o: o["subtotal_amount"].astype(float), orders=1)
    orders = orders[orders["session_id"].isin(set(_arms(window, e.experiment_id)["session_id"]))]
    per_user = orders.groupby("user_id")[["subtotal", "orders"]].sum().reset_index().merge(arms, on="user_id")
    log_ratio, se = clustered_log_ratio(per_user, "subtotal", "orders")
    assert abs(log_ratio - np.log1p(e.true_relative_effect)) < 4 * se, (np.expm1(log_ratio), se)

    # the A/A test (user-randomised): no difference in conversion, sessions clustered by user
    arms = _arms(window, "exp_aa_homepage_copy").copy()
    arms["converted"] = arms["session_id"].isin(set(window["user_events"]["session_id"])).astype(float)
    arms["sessions"] = 1.0
    per_user = arms.groupby(["user_id", "variant"])[["converted", "sessions"]].sum().reset_index()
    log_ratio, se = clustered_log_ratio(per_user, "converted", "sessions")
    assert abs(log_ratio) < 4 * se, (np.expm1(log_ratio), se)
