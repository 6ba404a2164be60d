"""Serving benchmark: publish time to PostgreSQL, and p50/p95 latency of the dashboard's queries through it.

    .venv/bin/python -m bench.serving                       # small scale, one year, generated into a temp dir
    .venv/bin/python -m bench.serving --data-dir DIR        # reuse a published run (e.g. bench/pipeline.py --keep)

Generates and publishes `--days` days at `--scale` unless `--data-dir` already holds a published run, starts a
throwaway local PostgreSQL cluster (as `ecom serve` does) on a free port, publishes `--publishes` times, then
runs every dashboard query `--repeats` times through PostgreSQL as `bi_reader` (and, for comparison, against
the published DuckDB file), unfiltered and with a channel + device + last-30-days filter. Each query is one
round trip as the dashboard makes it: connect, query, fetch into pandas, close. The load average is printed:
other work on the machine inflates the numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BIN, free_port

OPENING = dt.date(2025, 9, 1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def dashboard_queries(settings, filters_all, filters_narrow):
    from dashboard.views import categories, cohorts, funnel, kpis, rfm, traffic

    return {
        "kpi days": lambda f: kpis.kpi_days(settings, f),
        "category days": lambda f: categories.category_days(settings, f),
        "cohorts": lambda f: cohorts.cohort_rows(settings, f, "signup", cohorts.cohort_months(f)),
        "funnel days": lambda f: funnel.funnel_days(settings, f),
        "traffic days": lambda f: traffic.traffic_days(settings, f),
        "traffic hourly": lambda f: traffic.traffic_hourly(settings),
        "rfm segments": lambda f: rfm.rfm_segments(settings),
        "rfm scores": lambda f: rfm.rfm_scores(settings),
    }


def measure(queries: dict, filters: dict, repeats: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for name, run in queries.items():
        for label, f in filters.items():
            run(f)  # warm-up
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                run(f)
                samples.append((time.perf_counter() - started) * 1000)
            timings[f"{name} ({label})"] = samples
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, help="a data dir with a published run to reuse")
    parser.add_argument("--publishes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    owned = args.data_dir is None
    data_dir = (
        Path(tempfile.mkdtemp(prefix="ecom-bench-serving-", dir="/tmp")) if owned else args.data_dir.resolve()
    )
    os.chmod(data_dir, 0o755)  # the postgres system user must reach the cluster under it
    env = {**os.environ, "ECOM_DATA_DIR": str(data_dir), "ECOM_BI_PORT": str(free_port())}
    try:
        if not (data_dir / "warehouse" / "ecommerce.duckdb").exists():
            end = OPENING + dt.timedelta(days=args.days - 1)
            print(
                f"generating, building and publishing {args.days} days at {args.scale} scale ...", flush=True
            )
            subprocess.run(
                [str(BIN / "ecom"), "run", "--scale", args.scale, "--start", str(OPENING), "--end", str(end),
                 "--workers", str(args.workers)],
                env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        return bench(data_dir, env, args)
    finally:
        subprocess.run([str(BIN / "ecom"), "serve", "--stop"], env=env, check=False, capture_output=True)
        if owned:
            shutil.rmtree(data_dir, ignore_errors=True)


def bench(data_dir: Path, env: dict, args) -> int:
    from dashboard.filters import Filters
    from dashboard.marts import date_bounds, segments
    from pipeline.publish.postgres.publish import publish_postgres
    from pipeline.settings import Settings

    proc = subprocess.run([str(BIN / "ecom"), "serve"], env=env, check=True, capture_output=True, text=True)
    reader = proc.stdout.strip()
    settings = Settings.load(data_dir=data_dir, bi_port=env["ECOM_BI_PORT"])
    publishes = []
    for _ in range(args.publishes):
        result = publish_postgres(settings)
        publishes.append(result.seconds)
    rows = sum(result.tables.values())

    first, last = date_bounds(settings)
    channels, devices = segments(settings)
    filters = {
        "all": Filters(first, last),
        "filtered": Filters(max(first, last - dt.timedelta(days=29)), last, (channels[0],), (devices[0],)),
    }
    duck = measure(dashboard_queries(settings, *filters.values()), filters, args.repeats)
    pg_settings = settings.model_copy(update={"dashboard_dsn": reader})
    pg = measure(dashboard_queries(pg_settings, *filters.values()), filters, args.repeats)

    print()
    print(f"data: {data_dir} ({first} .. {last}, {len(result.tables)} marts, {rows:,} rows)")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print()
    print("| step | seconds |")
    print("|---|---|")
    for i, seconds in enumerate(publishes, 1):
        print(f"| publish to PostgreSQL #{i} ({rows:,} rows) | {seconds:.2f} |")
    print(f"| publish to PostgreSQL, median | {statistics.median(publishes):.2f} |")
    print()
    print(f"dashboard queries, {args.repeats} runs each, milliseconds (connect + query + fetch + close)")
    print()
    print("| query | PostgreSQL p50 | PostgreSQL p95 | DuckDB p50 | DuckDB p95 |")
    print("|---|---|---|---|---|")
    for name in pg:
        print(
            f"| {name} | {pct(pg[name], 0.5):.1f} | {pct(pg[name], 0.95):.1f} "
            f"| {pct(duck[name], 0.5):.1f} | {pct(duck[name], 0.95):.1f} |"
        )
    all_pg = [x for v in pg.values() for x in v]
    all_duck = [x for v in duck.values() for x in v]
    print(
        f"| **all queries** | **{pct(all_pg, 0.5):.1f}** | **{pct(all_pg, 0.95):.1f}** "
        f"| **{pct(all_duck, 0.5):.1f}** | **{pct(all_duck, 0.95):.1f}** |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
