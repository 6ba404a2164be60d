"""Experiment readouts and segment comparisons: scipy.stats over per-unit frames.

A readout compares the treatment arm of an experiment with its control on a metric that is a ratio of two sums
over the arm's units (`conversion_rate`: converted sessions / exposed sessions; `average_order_value`: order
value / orders). The unit is what was randomised: a session or a user. When the unit is the session and each
session counts once in the denominator, the ratio is a plain proportion or mean and the textbook tests apply;
when the unit is a user, a user's sessions (or orders) are not independent, so the variance of each arm's ratio
comes from the delta method over users (Deng et al., "Applying the delta method in metric analytics", 2018)
instead of treating sessions or orders as independent.

Every readout also carries a sample-ratio check: the units of each arm against the planned allocation (Pearson
chi-square, 1 degree of freedom), flagged at p < 0.001 as is usual for SRM checks. A flagged experiment's
verdict says that the result is not to be trusted, whatever its p-value: the arms are no longer comparable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

SRM_ALPHA = 0.001  # a sample-ratio mismatch is flagged below this p-value
ALPHA = 0.05  # intervals are 95%, a difference is called at p < 0.05
Z = float(stats.norm.ppf(1 - ALPHA / 2))

METRICS = {
    # metric: (numerator column, denominator column) of the per-unit frame
    "conversion_rate": ("converted_sessions", "sessions"),
    "average_order_value": ("order_value", "orders"),
}


def sample_ratio(control_units: int, treatment_units: int, allocation: float) -> tuple[float, float]:
    """(chi-square, p-value) of the arms' unit counts against the planned share `allocation` in treatment."""
    total = control_units + treatment_units
    if total == 0 or not 0.0 < allocation < 1.0:
        return float("nan"), float("nan")
    expected = [total * (1.0 - allocation), total * allocation]
    result = stats.chisquare([control_units, treatment_units], f_exp=expected)
    return float(result.statistic), float(result.pvalue)


def ratio_and_variance(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float]:
    """sum(numerator) / sum(denominator) over units and its delta-method variance (units are independent)."""
    x, y = np.asarray(numerator, float), np.asarray(denominator, float)
    n = len(x)
    if n < 2 or y.sum() == 0:
        return float("nan"), float("nan")
    mx, my = x.mean(), y.mean()
    cov = np.cov(x, y, ddof=1)
    ratio = mx / my
    variance = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / (n * my**2)
    return float(ratio), float(max(variance, 0.0))


def _lift(c: tuple[float, float], t: tuple[float, float]) -> dict[str, float]:
    """Absolute and relative lift of treatment over control with 95% intervals (normal on the difference, on
    the log ratio for the relative lift) and the two-sided p-value of the difference."""
    (rc, vc), (rt, vt) = c, t
    diff, se = rt - rc, float(np.sqrt(vc + vt))
    out = {
        "absolute_lift": diff,
        "absolute_lift_lower": diff - Z * se,
        "absolute_lift_upper": diff + Z * se,
        "relative_lift": rt / rc - 1.0 if rc > 0 else float("nan"),
        "relative_lift_lower": float("nan"),
        "relative_lift_upper": float("nan"),
        "p_value": float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else float("nan"),
    }
    if rc > 0 and rt > 0:
        log_ratio, se_log = np.log(rt / rc), np.sqrt(vc / rc**2 + vt / rt**2)
        out["relative_lift_lower"] = float(np.expm1(log_ratio - Z * se_log))
        out["relative_lift_upper"] = float(np.expm1(log_ratio + Z * se_log))
    return out


def verdict(row: dict) -> str:
    """One plain sentence a reader can act on."""
    if row.get("is_srm_flagged"):
        return (
            f"not to be trusted: sample ratio mismatch (chi-square p = {row['srm_p_value']:.2g}), "
            "the arms are not comparable"
        )
    low, high = row["relative_lift_lower"], row["relative_lift_upper"]
    if not (np.isfinite(row["p_value"]) and np.isfinite(low) and np.isfinite(high)):
        return "not enough data to compare the arms"
    span = f"{row['relative_lift']:+.1%} (95% CI {low:+.1%} to {high:+.1%})"
    if row["p_value"] < ALPHA:
        return ("treatment is better: " if row["absolute_lift"] > 0 else "treatment is worse: ") + span
    return "no detectable difference: " + span


def compare_arms(
    control: pd.DataFrame, treatment: pd.DataFrame, numerator: str, denominator: str, clustered: bool
) -> dict[str, float]:
    """Compare a ratio metric between two groups of units (rows); `clustered` when a unit holds several
    denominator events (a user's sessions or orders): delta method; else a two-proportion z (a 0/1 numerator
    per unit) or a Welch-type normal interval on the mean."""
    c = control[control[denominator] > 0]
    t = treatment[treatment[denominator] > 0]
    cx, cy = c[numerator].to_numpy(float), c[denominator].to_numpy(float)
    tx, ty = t[numerator].to_numpy(float), t[denominator].to_numpy(float)
    out: dict[str, float] = {
        "control_denominator": float(cy.sum()),
        "treatment_denominator": float(ty.sum()),
    }
    if clustered:
        rc, rt = ratio_and_variance(cx, cy), ratio_and_variance(tx, ty)
        method = "delta method over units"
    else:
        per_c, per_t = cx / cy, tx / ty
        rc = (
            (float(per_c.mean()), float(per_c.var(ddof=1) / len(per_c)))
            if len(per_c) > 1
            else (np.nan, np.nan)
        )
        rt = (
            (float(per_t.mean()), float(per_t.var(ddof=1) / len(per_t)))
            if len(per_t) > 1
            else (np.nan, np.nan)
        )
        method = "normal on the means"
    out["control_value"], out["treatment_value"] = rc[0], rt[0]
    out.update(_lift(rc, rt))
    out["test_name"] = method  # type: ignore[assignment]
    is_rate = bool(np.isin(cx, (0.0, 1.0)).all() and np.isin(tx, (0.0, 1.0)).all() and (cy == 1).all())
    if not clustered and is_rate and len(cx) and len(tx):
        # two-proportion z-test with the pooled rate under the null (the interval above stays unpooled)
        pooled = (cx.sum() + tx.sum()) / (len(cx) + len(tx))
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / len(cx) + 1 / len(tx)))
        out["p_value"] = (
            float(2 * stats.norm.sf(abs(out["absolute_lift"]) / se0)) if se0 > 0 else float("nan")
        )
        out["test_name"] = "two-proportion z"  # type: ignore[assignment]
    return out


def value_tests(control: np.ndarray, treatment: np.ndarray) -> dict[str, float]:
    """Welch t and Mann-Whitney U p-values of two samples of values (e.g. order values)."""
    control, treatment = np.asarray(control, float), np.asarray(treatment, float)
    if len(control) < 2 or len(treatment) < 2:
        return {"welch_p_value": float("nan"), "mann_whitney_p_value": float("nan")}
    welch = stats.ttest_ind(treatment, control, equal_var=False)
    mann_whitney = stats.mannwhitneyu(treatment, control, alternative="two-sided")
    return {"welch_p_value": float(welch.pvalue), "mann_whitney_p_value": float(mann_whitney.pvalue)}


def readout(
    units: pd.DataFrame, experiments: pd.DataFrame, orders: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per experiment and metric.

    `units`: one row per (experiment_id, variant, unit_id) with `sessions`, `converted_sessions`, `orders`,
    `order_value` (sums over the unit's exposed sessions). `experiments`: `experiment_id`, `unit` (`user` or
    `session`), `allocation` (planned share in treatment), `target_metric`. `orders` (optional): one row per
    order of an exposed unit (`experiment_id`, `variant`, `order_value`) for the Welch and Mann-Whitney tests
    of order value. BLAS runs on one thread (small matrices; spinning BLAS threads beside DuckDB's are slow).
    """
    from threadpoolctl import threadpool_limits

    units, orders = _in_order(units), None if orders is None else _in_order(orders)
    with threadpool_limits(limits=1, user_api="blas"):
        return _readout(units, experiments, orders)


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` sorted by all its columns: a database returns rows in no set order, and floating-point sums
    depend on it, so the same data gives the same readout to the last bit only in a fixed order."""
    return frame.sort_values(list(frame.columns), kind="mergesort", ignore_index=True)


def _readout(units: pd.DataFrame, experiments: pd.DataFrame, orders: pd.DataFrame | None) -> pd.DataFrame:
    rows = []
    for e in experiments.sort_values("experiment_id").itertuples(index=False):
        arms = units[units["experiment_id"] == e.experiment_id]
        control, treatment = arms[arms["variant"] == "control"], arms[arms["variant"] == "treatment"]
        chi2, p_srm = sample_ratio(len(control), len(treatment), float(e.allocation))
        for metric, (numerator, denominator) in METRICS.items():
            clustered = (
                e.unit == "user" or (control[denominator] > 1).any() or (treatment[denominator] > 1).any()
            )
            row = {
                "experiment_id": e.experiment_id,
                "metric": metric,
                "unit": e.unit,
                "is_primary_metric": metric == e.target_metric,
                "control_units": len(control),
                "treatment_units": len(treatment),
                "planned_treatment_share": float(e.allocation),
                "srm_chi_square": chi2,
                "srm_p_value": p_srm,
                "is_srm_flagged": bool(np.isfinite(p_srm) and p_srm < SRM_ALPHA),
            }
            row.update(compare_arms(control, treatment, numerator, denominator, clustered))
            values = {"welch_p_value": float("nan"), "mann_whitney_p_value": float("nan")}
            if metric == "average_order_value" and orders is not None:
                mine = orders[orders["experiment_id"] == e.experiment_id]
                values = value_tests(
                    mine.loc[mine["variant"] == "control", "order_value"],
                    mine.loc[mine["variant"] == "treatment", "order_value"],
                )
            row.update(values)
            row["verdict"] = verdict(row)
            rows.append(row)
    return pd.DataFrame(rows, columns=READOUT_COLUMNS)


READOUT_COLUMNS = [
    "experiment_id", "metric", "unit", "test_name", "verdict", "is_primary_metric", "control_units",
    "treatment_units", "planned_treatment_share", "srm_chi_square", "srm_p_value", "is_srm_flagged",
    "control_denominator", "treatment_denominator", "control_value", "treatment_value", "absolute_lift",
    "absolute_lift_lower", "absolute_lift_upper", "relative_lift", "relative_lift_lower", "relative_lift_upper",
    "p_value", "welch_p_value", "mann_whitney_p_value",
]  # fmt: skip


def segment_comparisons(orders: pd.DataFrame, dimension: str, baseline: str | None = None) -> pd.DataFrame:
    """Order value of each segment of `dimension` against the baseline segment (the largest by default),
    with the same tests: Welch interval on the mean difference, Welch t and Mann-Whitney U p-values.

    `orders`: one row per order with `dimension` and `order_value`.
    """
    orders = _in_order(orders[[dimension, "order_value"]])
    groups = {k: g["order_value"].to_numpy(float) for k, g in orders.groupby(dimension, observed=True)}
    if not groups:
        return pd.DataFrame(columns=SEGMENT_COLUMNS)
    baseline = baseline if baseline in groups else max(groups, key=lambda k: (len(groups[k]), str(k)))
    base = groups[baseline]
    rows = []
    for segment in sorted(groups, key=str):
        if segment == baseline:
            continue
        values = groups[segment]
        mean_b = (float(base.mean()), float(base.var(ddof=1) / len(base)) if len(base) > 1 else np.nan)
        mean_s = (
            float(values.mean()),
            float(values.var(ddof=1) / len(values)) if len(values) > 1 else np.nan,
        )
        lift = _lift(mean_b, mean_s)
        tests = value_tests(base, values)
        row = {
            "dimension": dimension,
            "segment": str(segment),
            "baseline_segment": str(baseline),
            "segment_orders": len(values),
            "baseline_orders": len(base),
            "segment_mean_order_value": mean_s[0],
            "baseline_mean_order_value": mean_b[0],
            "difference": lift["absolute_lift"],
            "difference_lower": lift["absolute_lift_lower"],
            "difference_upper": lift["absolute_lift_upper"],
            "relative_difference": lift["relative_lift"],
            "relative_difference_lower": lift["relative_lift_lower"],
            "relative_difference_upper": lift["relative_lift_upper"],
            **tests,
        }
        row["is_significant"] = bool(np.isfinite(row["welch_p_value"]) and row["welch_p_value"] < ALPHA)
        rows.append(row)
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


SEGMENT_COLUMNS = [
    "dimension", "segment", "baseline_segment", "segment_orders", "baseline_orders", "segment_mean_order_value",
    "baseline_mean_order_value", "difference", "difference_lower", "difference_upper", "relative_difference",
    "relative_difference_lower", "relative_difference_upper", "welch_p_value", "mann_whitney_p_value",
    "is_significant",
]  # fmt: skip
