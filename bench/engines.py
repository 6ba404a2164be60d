"""Build times of the same window on DuckDB and on Spark, side by side, in one run on this machine.

    .venv/bin/python -m bench.engines [--scale tiny] [--days 14] [--new-days 1] [--opening 2025-11-17] [--keep DIR]

One lake of `--days` days from `--opening` is generated once; each engine then builds it in its own data
directory (hard links to the same files):

* **full build**: `ecom build --engine E --full-refresh` (dbt build: every model and data test; for
  Spark this includes starting the in-process Spark session and loading the marts into build.duckdb);
* **incremental**: `--new-days` more days land and `ecom build --engine E` refreshes them;
* **publish**: `ecom publish` of the engine's build (identical work for both: build.duckdb -> ecommerce.duckdb).

Spark runs `local[2]` with 4 shuffle partitions (dbt_project/profiles.yml). Needs `make install-spark` and Java
17; without them only DuckDB is measured. Timings vary with the machine's load: the load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from bench.common import log, timed_ecom
from generator.lake import link_days
from pipeline.build.spark import spark_missing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--days", type=int, default=14, help="days in the first build (default 14)")
    parser.add_argument("--new-days", type=int, default=1, help="days landing before the incremental build")
    parser.add_argument("--opening", default="2025-11-17", help="the lake's first day (default 2025-11-17)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()

    opening = dt.date.fromisoformat(args.opening)
    first_end = opening + dt.timedelta(days=args.days - 1)
    last = first_end + dt.timedelta(days=args.new_days)
    env = {"ECOM_SCALE": args.scale, "ECOM_OPENING_DATE": opening.isoformat()}
    engines = ["duckdb"] if spark_missing() else ["duckdb", "spark"]
    if spark_missing():
        log(f"Spark skipped: {spark_missing()}")

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        source = work / "source"
        log(f"generating {args.scale} {opening}..{last}")
        timed_ecom(source, "generate", "--start", str(opening), "--end", str(last), "--workers", "2", env=env)
        rows: dict[str, dict[str, float]] = {engine: {} for engine in engines}
        # Step by step, both engines at each step, so that the two builds of a step can be compared (--keep).
        for engine in engines:
            shutil.rmtree(work / engine, ignore_errors=True)
            link_days(source / "lake", work / engine / "lake", opening, first_end)
            log(f"{engine}: full build of {args.days} days")
            rows[engine]["full build"] = timed_ecom(
                work / engine, "build", "--engine", engine, "--full-refresh", env=env
            )
            rows[engine]["publish"] = timed_ecom(work / engine, "publish", env=env)
        for engine in engines:
            link_days(source / "lake", work / engine / "lake", first_end + dt.timedelta(days=1), last)
            log(f"{engine}: incremental build of {args.new_days} new day(s)")
            rows[engine]["incremental"] = timed_ecom(work / engine, "build", "--engine", engine, env=env)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()
    print(
        f"\n## Engines: the same {args.scale} window ({args.days} days, then +{args.new_days}), one machine"
    )
    print(f"\nload average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores\n")
    print("| step | " + " | ".join(engines) + (" | spark / duckdb |" if len(engines) == 2 else ""))
    print("|---|" + "---:|" * (len(engines) + (1 if len(engines) == 2 else 0)))
    for step in ("full build", "incremental", "publish"):
        cells = [f"{rows[e][step]:.1f} s" for e in engines]
        if len(engines) == 2:
            cells.append(f"{rows['spark'][step] / rows['duckdb'][step]:.1f}x")
        print(f"| {step} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
