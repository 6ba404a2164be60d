"""Fit, backtest and readout times of the statistical marts, and their truth metrics, on a generated lake.

    .venv/bin/python -m bench.stats [--lake DIR] [--scale small] [--start 2025-09-01] [--end 2025-12-31]

Without `--lake` the window is generated into a temporary lake first (seed 42). Prints one table: the forecast
(one fit of the model, the 6-origin backtest of both models, per metric, with MAPE and interval coverage) and the
experiment readouts (every experiment and metric; the goal is under 2 s) with their intervals against the truth.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from bench.common import log, timed_ecom
from predict import experiments as ex
from predict import forecast as fc
from tests.stats.lake import daily_series, experiment_frames, experiment_plan


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def measure(lake: Path) -> list[tuple[str, float, str]]:
    rows = []
    series, periods = daily_series(lake)
    future_days = [series.index[-1] + dt.timedelta(days=k) for k in range(1, 91)]
    import pandas as pd

    future = pd.Series("regular", index=pd.Index(future_days))
    for metric in ("orders", "revenue"):
        orders = series["orders"] if metric == "revenue" else None
        _, seconds = timed(fc.fit_model, series[metric], periods, future, None, orders)
        rows.append((f"forecast {metric}: one fit + 90 days", seconds, ""))
        backtest, seconds = timed(fc.backtest, series[metric], periods, 6, 30, 7, orders)
        s = fc.summarise(backtest).set_index("model")
        for model in (fc.MODEL, fc.BASELINE):
            m = s.loc[model]
            rows.append(
                (
                    f"forecast {metric}: backtest {model}" if model == fc.MODEL else f"  baseline {model}",
                    seconds if model == fc.MODEL else float("nan"),
                    f"{int(m.origins)} origins x 30 d; MAPE regular {m.mape_regular_days:.1%}, sale "
                    f"{m.mape_sale_days:.1%}; coverage 80% {m.coverage_80:.1%}, 95% {m.coverage_95:.1%}",
                )
            )
    (units, orders), seconds = timed(experiment_frames, lake)
    rows.append(
        ("experiments: per-unit frames (DuckDB)", seconds, f"{len(units):,} units, {len(orders):,} orders")
    )
    plan = experiment_plan()
    results, seconds = timed(ex.readout, units, plan, orders)
    results = results.merge(plan[["experiment_id", "true_relative_effect"]], on="experiment_id")
    primary = results[results.is_primary_metric & (results.control_units > 0)]
    covered = (
        (primary.relative_lift_lower <= primary.true_relative_effect)
        & (primary.true_relative_effect <= primary.relative_lift_upper)
    ).sum()
    rows.append(
        (
            "experiments: every readout",
            seconds,
            f"{covered} of {len(primary)} target intervals cover the truth",
        )
    )
    for r in primary.itertuples():
        rows.append(
            (
                f"  {r.experiment_id}",
                float("nan"),
                f"{r.relative_lift:+.1%} ({r.relative_lift_lower:+.1%} to {r.relative_lift_upper:+.1%}), "
                f"truth {r.true_relative_effect:+.0%}; SRM p {r.srm_p_value:.2g}",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--start", default="2025-09-01")
    parser.add_argument("--end", default="2025-12-31")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ecom-bench-stats-") as tmp:
        lake = args.lake
        if lake is None:
            log(f"generating {args.start}..{args.end} at {args.scale}")
            timed_ecom(Path(tmp), "generate", "--scale", args.scale, "--start", args.start, "--end", args.end,
                       "--workers", "2")  # fmt: skip
            lake = Path(tmp) / "lake"
        rows = measure(lake)
    print("| step | seconds | result |")
    print("|---|---|---|")
    for step, seconds, result in rows:
        print(f"| {step} | {'' if seconds != seconds else f'{seconds:.2f}'} | {result} |")


if __name__ == "__main__":
    main()
