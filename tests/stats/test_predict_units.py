"""predict/experiments.py and predict/forecast.py on small frames whose answers are known (fast lane)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from predict import experiments as ex
from predict import forecast as fc


def test_sample_ratio_matches_the_textbook_chi_square():
    # 5,000 vs 4,800 units on a 50/50 plan: chi-square = 200^2 / 9,800 = 4.08, p = 0.043
    chi2, p = ex.sample_ratio(5000, 4800, 0.5)
    assert chi2 == pytest.approx(200**2 / 9800)
    assert p == pytest.approx(stats.chi2.sf(200**2 / 9800, 1))
    # a 30% treatment plan: 7,000 vs 3,000 is exactly on plan
    assert ex.sample_ratio(7000, 3000, 0.3) == pytest.approx((0.0, 1.0))
    assert np.isnan(ex.sample_ratio(0, 0, 0.5)[0])


def test_delta_method_variance_agrees_with_a_bootstrap():
    """The delta-method variance of sum(x) / sum(y) over 400 clustered units against 2,000 bootstrap
    resamples of the units: the bootstrap's own relative error on a variance is about sqrt(2 / 2000) = 3%, so
    15% is 5 of its standard errors plus the delta method's small-sample bias."""
    rng = np.random.default_rng(7)
    sessions = rng.integers(1, 6, 400)
    converted = rng.binomial(sessions, rng.beta(2, 8, 400))
    ratio, variance = ex.ratio_and_variance(converted, sessions)
    assert ratio == pytest.approx(converted.sum() / sessions.sum())
    picks = rng.integers(0, 400, (2000, 400))
    boot = converted[picks].sum(axis=1) / sessions[picks].sum(axis=1)
    assert variance == pytest.approx(boot.var(ddof=1), rel=0.15)


def units_frame(control: list[tuple[int, int]], treatment: list[tuple[int, int]]) -> pd.DataFrame:
    rows = [("e", "control", i, s, c) for i, (s, c) in enumerate(control)]
    rows += [("e", "treatment", 10_000 + i, s, c) for i, (s, c) in enumerate(treatment)]
    frame = pd.DataFrame(
        rows, columns=["experiment_id", "variant", "unit_id", "sessions", "converted_sessions"]
    )
    return frame.assign(orders=frame["converted_sessions"], order_value=frame["converted_sessions"] * 50.0)


def plan(unit: str) -> pd.DataFrame:
    return pd.DataFrame(
        [{"experiment_id": "e", "unit": unit, "allocation": 0.5, "target_metric": "conversion_rate"}]
    )


def test_session_experiment_is_a_two_proportion_z_test():
    # 1,000 sessions an arm, 100 vs 130 conversions
    units = units_frame([(1, 1)] * 100 + [(1, 0)] * 900, [(1, 1)] * 130 + [(1, 0)] * 870)
    row = ex.readout(units, plan("session")).set_index("metric").loc["conversion_rate"]
    assert row["test_name"] == "two-proportion z"
    pooled = 230 / 2000
    z = 0.03 / np.sqrt(pooled * (1 - pooled) * 2 / 1000)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(z))
    se = np.sqrt(0.1 * 0.9 / 999 + 0.13 * 0.87 / 999)  # unpooled sample variances, for the interval
    assert row["absolute_lift_lower"] == pytest.approx(0.03 - 1.959964 * se, abs=1e-6)
    assert row["relative_lift"] == pytest.approx(0.3)
    assert row["verdict"].startswith("treatment is better: +30.0%")
    assert not row["is_srm_flagged"]


def test_user_experiment_uses_the_delta_method_not_sessions_as_units():
    """Users with 10 sessions who convert all or none: sessions are far from independent. Counting sessions
    as units would give a standard error sqrt(10) times too small; the delta method over users does not."""
    control = [(10, 10)] * 20 + [(10, 0)] * 80
    treatment = [(10, 10)] * 26 + [(10, 0)] * 74
    row = ex.readout(units_frame(control, treatment), plan("user")).set_index("metric").loc["conversion_rate"]
    assert row["test_name"] == "delta method over units"
    per_user_se = np.sqrt(0.2 * 0.8 / 99 + 0.26 * 0.74 / 99)  # users are the units (ddof 1)
    half_width = (row["absolute_lift_upper"] - row["absolute_lift_lower"]) / 2
    assert half_width == pytest.approx(1.959964 * per_user_se, rel=1e-3)
    assert row["verdict"].startswith("no detectable difference")  # +30% on 100 users a side is not enough


def test_srm_flag_overrides_the_verdict():
    units = units_frame([(1, 1)] * 300 + [(1, 0)] * 700, [(1, 1)] * 300 + [(1, 0)] * 300)
    row = ex.readout(units, plan("session")).set_index("metric").loc["conversion_rate"]
    assert row["is_srm_flagged"] and row["srm_p_value"] < 0.001
    assert row["verdict"].startswith("not to be trusted: sample ratio mismatch")


def test_order_value_gets_welch_and_mann_whitney():
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(4, 1, 300), rng.lognormal(4.3, 1, 300)
    orders = pd.DataFrame(
        {"experiment_id": "e", "variant": ["control"] * 300 + ["treatment"] * 300, "order_value": np.r_[a, b]}
    )
    units = pd.DataFrame(
        {
            "experiment_id": "e",
            "variant": orders["variant"],
            "unit_id": range(600),
            "sessions": 1,
            "converted_sessions": 1,
            "orders": 1,
            "order_value": orders["order_value"],
        }
    )
    row = ex.readout(units, plan("session"), orders).set_index("metric").loc["average_order_value"]
    assert row["welch_p_value"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    assert row["mann_whitney_p_value"] == pytest.approx(stats.mannwhitneyu(b, a).pvalue)
    assert row["treatment_value"] == pytest.approx(b.mean())


def test_segment_comparisons_against_the_largest_segment():
    orders = pd.DataFrame(
        {
            "channel": ["a"] * 50 + ["b"] * 30 + ["c"] * 20,
            "order_value": [10.0] * 50 + [20.0, 22.0] * 15 + [10.0, 11.0] * 10,
        }
    )
    out = ex.segment_comparisons(orders, "channel").set_index("segment")
    assert list(out.index) == ["b", "c"] and (out["baseline_segment"] == "a").all()
    assert out.loc["b", "difference"] == pytest.approx(11.0)
    assert out.loc["b", "is_significant"]


def weekly_series(days: int, seed: int = 1) -> tuple[pd.Series, pd.Series]:
    start = dt.date(2026, 1, 5)  # a Monday
    index = pd.Index([start + dt.timedelta(days=k) for k in range(days)])
    rng = np.random.default_rng(seed)
    shape = np.array([1.0, 0.95, 1.0, 1.05, 1.1, 1.3, 1.4])
    level = 200 * np.exp(0.003 * np.arange(days)) * shape[np.arange(days) % 7]
    values = rng.poisson(level).astype(float)
    return pd.Series(values, index=index), pd.Series("regular", index=index)


def test_seasonal_naive_repeats_last_week():
    history, _ = weekly_series(21)
    future = pd.Index([history.index[-1] + dt.timedelta(days=k) for k in range(1, 15)])
    out = fc.seasonal_naive(history, future)
    assert np.allclose(out["forecast"].to_numpy(), np.tile(history.to_numpy()[-7:], 2))
    # the second week ahead is wider than the first (sqrt(2) on the log scale)
    width = np.log1p(out["upper_95"]) - np.log1p(out["lower_95"])
    assert width.iloc[7] == pytest.approx(width.iloc[0] * np.sqrt(2))


def test_backtest_origins_and_the_model_on_a_weekly_series():
    history, periods = weekly_series(100)
    # the latest origin leaves 30 days to score; each earlier one a week before, while 35 days remain to fit
    assert fc.origins(100) == [34, 41, 48, 55, 62, 69]
    assert fc.origins(98) == [39, 46, 53, 60, 67]  # 32 days before the first: too few, five origins
    rows = fc.backtest(history, periods)
    summary = fc.summarise(rows).set_index("model")
    assert set(summary.index) == {fc.MODEL, fc.BASELINE}
    assert (summary["origins"] == 6).all() and (summary["origin_days"] == 180).all()
    # a Poisson series around 200-270 a day: the model's error is near the noise floor (about 5%)
    assert summary.loc[fc.MODEL, "mape_regular_days"] < 0.08
    assert fc.choose(fc.summarise(rows)) == fc.MODEL
    ordered = rows[["lower_95", "lower_80", "forecast", "upper_80", "upper_95"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all()


def test_short_history_falls_back_to_the_baseline_then_to_nothing():
    history, periods = weekly_series(20)
    future = pd.Series("regular", index=pd.Index([history.index[-1] + dt.timedelta(days=k) for k in (1, 2)]))
    out, rows, chosen = fc.forecast_series(history, periods, future)
    assert chosen == fc.BASELINE and rows.empty and len(out) == 2
    out, _, _ = fc.forecast_series(history.iloc[:10], periods.iloc[:10], future)
    assert out.empty
