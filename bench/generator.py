"""How fast the generator writes the lake, side by side with two references, in one run on this machine.

    .venv/bin/python -m bench.generator [--scale medium] [--days 3] [--user-rows 200000] [--faker-rows 3000]
    .venv/bin/python -m bench.generator --scale medium --day-cost 30,365   # ms/day as the user base grows
    .venv/bin/python -m bench.generator --scale medium --process-only [--process-days 10] [--workers 2]

Rows per second, end to end to Parquet:

* **our events**: `generate_window` over `--days` days (every table of the day is built and written; only the
  events are counted), with one worker and with one worker per core;
* **DuckDB SQL events**: the reference for what the machine can do: the same number of event rows with the same
  twelve columns, made by `range()` + `random()` + `hash()` and written by `COPY ... TO` Parquet (all cores);
* **our users**: `build_users` making `--user-rows` users into one Parquet file;
* **Faker per-row users**: the way typical projects make users: a Python loop calling `fake.first_name()`,
  `fake.email()`, `fake.city()` ... into dicts, then pandas, then Parquet.

* **`ecom generate`, the whole process** (a child process, as a user runs it: imports, start-up, every table of
  every day, the lake's checks), over `--process-days` days from `--process-start` (default: the opening date)
  and over one day (the start-up cost), against **its write floor**: every Parquet file the run wrote, read back
  with pyarrow and written again with `pyarrow.parquet.write_table` and the same writer options, timed in the
  same run. CPU seconds are the child's process tree (`os.wait4`); the peak memory, read from /proc while it
  runs, is its largest process's and the most all its processes held at once.

Targets (issue 3): events at least 0.8x the DuckDB reference, users at least 300x the Faker baseline; (issue 19)
the whole `ecom generate` process at least 0.8x its write floor.
The one-off warm-up (Faker pools, the 30-day look-back of the late status changes) is timed separately; the
worker processes inherit it (fork). Timings vary with the machine's load: the load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

EVENT_TARGET = 0.8
USER_TARGET = 300.0
FLOOR_TARGET = 0.8
DEFAULT_START = dt.date(2025, 10, 13)  # six weeks after the opening: a steady, ordinary (non-sale) week


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def warm_up(cfg, first_day: dt.date) -> None:
    """Build the Faker pools, the look-back the first day needs and the per-user truth's calendar (a year
    ahead); a long window pays this once."""
    from generator import behaviour as m
    from generator import plan as d
    from generator.truth import day_terms
    from generator.vocab import vocabulary

    vocabulary(cfg.seed, cfg.locale)
    d.warm_user_counts(cfg, first_day)
    for ahead in range(366):  # the per-user truth's calendar, a year ahead of the first day
        day_terms(cfg.opening_date, cfg.market, first_day + dt.timedelta(days=ahead))
    for back in range(m.LATE_CHANGE_HORIZON_DAYS, 0, -1):
        placed = first_day - dt.timedelta(days=back)
        if placed >= cfg.opening_date:
            d.order_summary(cfg, placed)


def day_cost(cfg, offsets: list[int]) -> list[str]:
    """Time to build every table of day `opening + offset` (not written), after the warm-up a sequential run
    has already paid (user counts, the 30-day look-back): the day's cost must not grow with the user base."""
    from generator.day import generate_day

    lines = [
        "| day | users before it | sessions | ms/day | ms per 1,000 sessions |",
        "|---|---|---|---|---|",
    ]
    for offset in offsets:
        day = cfg.opening_date + dt.timedelta(days=offset)
        warm_up(cfg, day)
        generated, seconds = timed(lambda day=day: generate_day(cfg, day))
        plan = generated.plan
        lines.append(
            f"| {day} (day {offset}) | {plan.users_before:,} | {plan.n:,} | {1000 * seconds:,.0f} "
            f"| {1e6 * seconds / plan.n:,.1f} |"
        )
    return lines


def our_events(cfg, days: list[dt.date], workers: int, root: Path) -> tuple[int, float]:
    from generator.run import generate_window

    lake = root / f"lake-w{workers}"
    results, seconds = timed(lambda: generate_window(cfg, lake, days, workers=workers, echo=lambda _: None))
    return sum(r.rows["user_events"] for r in results), seconds


def our_users(cfg, day: dt.date, n: int, root: Path) -> tuple[int, float]:
    """`n` users in one Parquet file, like the baseline: the day's plan with every session a signup."""
    import dataclasses

    import numpy as np
    import pyarrow.parquet as pq

    from generator.lake import parquet_options
    from generator.plan import session_plan
    from generator.users import build_users

    plan = session_plan(cfg, day)
    fields = ("channel", "device", "user_id", "propensity", "spend_level", "intent", "stage")
    every = {f: np.resize(getattr(plan, f), n) for f in fields}
    plan = dataclasses.replace(plan, session_type=np.ones(n, dtype=np.int8), **every)
    start = np.sort(np.random.default_rng(0).integers(0, 86_400, size=n)).astype(float)

    def run() -> int:
        table = build_users(cfg, plan, start)
        pq.write_table(table, root / "users.parquet", **parquet_options(table))
        return table.num_rows

    return timed(run)


def duckdb_events(n: int, n_products: int, root: Path) -> tuple[int, float]:
    """Event rows with our twelve columns and types: ids from range(), the rest from hash() and random()."""
    import duckdb

    con = duckdb.connect()
    target = root / "duckdb-events.parquet"
    sql = f"""
    copy (
        select
            2025101300000000 + i as event_id,
            20251013000000 + i // 5 as session_id,
            case when hash(i // 5) % 3 > 0 then (hash(i // 5, 1) % 1000000)::bigint end as user_id,
            (['page_view', 'product_view', 'add_to_cart', 'remove_from_cart', 'checkout', 'purchase'])
                [1 + (hash(i, 2) % 6)::int] as event_type,
            case when hash(i, 3) % 2 = 0 then (1 + hash(i, 4) % {n_products})::bigint end as product_id,
            case when hash(i, 5) % 6 = 0 then (1 + hash(i, 6) % 3)::int end as quantity,
            case when hash(i, 7) % 60 = 0 then (202510130000000 + i // 60)::bigint end as order_id,
            timestamp '2025-10-13' + to_milliseconds((random() * 86400000)::bigint) as event_at,
            (i % 5 + 1)::int as sequence_number,
            (['mobile', 'desktop', 'tablet'])[1 + (hash(i // 5, 8) % 3)::int] as device,
            (['organic_search', 'paid_search', 'social', 'email', 'direct', 'referral'])
                [1 + (hash(i // 5, 9) % 6)::int] as traffic_source,
            '/product/' || (1 + hash(i, 4) % {n_products})::varchar as page
        from range({n}) as t(i)
    ) to '{target}' (format parquet, compression zstd)
    """
    _, seconds = timed(lambda: con.execute(sql))
    con.close()
    return n, seconds


def faker_users(n: int, root: Path) -> tuple[int, float]:
    """The per-row baseline: what a typical synthetic-data script does."""
    import pandas as pd
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(1)
    rnd = random.Random(1)

    def run() -> int:
        rows = []
        for user_id in range(1, n + 1):
            gender = rnd.choice(["female", "male", "nonbinary"])
            rows.append(
                {
                    "user_id": user_id,
                    "first_name": fake.first_name_female() if gender == "female" else fake.first_name_male(),
                    "last_name": fake.last_name(),
                    "email": fake.email(),
                    "gender": gender,
                    "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=85),
                    "city": fake.city(),
                    "region": fake.state(),
                    "country": fake.current_country_code(),
                    "latitude": float(fake.latitude()),
                    "longitude": float(fake.longitude()),
                    "device": rnd.choice(["mobile", "desktop", "tablet"]),
                    "acquisition_channel": rnd.choice(["organic_search", "paid_search", "social", "email"]),
                    "signup_at": fake.date_time_between(start_date="-1d", end_date="now"),
                }
            )
        pd.DataFrame(rows).to_parquet(root / "faker-users.parquet", index=False)
        return n

    return timed(run)


@dataclass(frozen=True)
class ProcessRun:
    """One `ecom generate` child process and the write floor of what it wrote."""

    days: int
    workers: int
    rows: int
    files: int
    wall: float
    cpu: float
    peak_rss: int  # bytes, the high-water mark of its largest process
    tree_rss: (
        int  # bytes, the most its processes held at once (the sum of their RSS; shared pages count twice)
    )
    floor_wall: float
    floor_cpu: float


def _memory(pid: int) -> tuple[int, int]:
    """(the largest VmHWM, the sum of VmRSS) in bytes over process `pid` and its descendants, now. Read from
    /proc while it runs: `ru_maxrss` would count the benchmark's own memory, copied by the fork before exec."""
    largest = total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue  # exited meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        largest = max(largest, int(fields.get("VmHWM", "0 kB").split()[0]) * 1024)
        total += int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    return largest, total


def run_generate(
    lake_root: Path, cfg, start: dt.date, days: int, workers: int
) -> tuple[float, float, int, int]:
    """Wall and CPU seconds (user + system, the process and the workers it waited for) and peak memory (bytes:
    its largest process, and all its processes at once) of `ecom generate` over `days` days from `start`, in
    a fresh data dir."""
    from bench.common import BIN

    end = start + dt.timedelta(days=days - 1)
    args = [
        str(BIN / "ecom"), "--data-dir", str(lake_root), "generate", "--scale", cfg.scale,
        "--seed", str(cfg.seed), "--market", cfg.market, "--start", start.isoformat(), "--end", end.isoformat(),
        "--workers", str(workers),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        peak = tree = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # this child's rusage (its workers included)
            if pid:
                break
            largest, total = _memory(proc.pid)
            peak, tree = max(peak, largest), max(tree, total)
            time.sleep(0.05)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read().decode()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak, tree


def write_floor(lake: Path, scratch: Path) -> tuple[int, int, float, float]:
    """Rows and files of every Parquet file in `lake`, and the wall and CPU seconds pyarrow takes to write the
    same tables again with the lake's writer options (the read is not timed): the cost of the bytes alone.

    Strings the lake stores dictionary-encoded are read back dictionary-typed, so that `parquet_options` picks
    the same encodings, statistics and compression as the generator did (the rewritten files are the same
    bytes as the originals)."""
    import pyarrow.parquet as pq

    from generator.lake import parquet_options

    tables = []
    for path in sorted(lake.glob("*/dt=*/*.parquet")):
        meta = pq.ParquetFile(path).metadata
        dictionary_strings = sorted(
            {
                meta.row_group(g).column(c).path_in_schema
                for g in range(meta.num_row_groups)
                for c in range(meta.num_columns)
                if meta.row_group(g).column(c).physical_type == "BYTE_ARRAY"
                and any("DICTIONARY" in e for e in meta.row_group(g).column(c).encodings)
            }
        )
        tables.append(pq.read_table(path, read_dictionary=dictionary_strings))
    scratch.mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    for i, table in enumerate(tables):
        pq.write_table(table, scratch / f"{i}.parquet", **parquet_options(table))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    shutil.rmtree(scratch)
    return sum(t.num_rows for t in tables), len(tables), wall, cpu


def process_run(cfg, start: dt.date, days: int, workers: int, root: Path) -> ProcessRun:
    data_dir = root / f"process-{days}d-w{workers}"
    wall, cpu, rss, tree = run_generate(data_dir, cfg, start, days, workers)
    rows, files, floor_wall, floor_cpu = write_floor(data_dir / "lake", root / "floor")
    shutil.rmtree(data_dir)
    return ProcessRun(days, workers, rows, files, wall, cpu, rss, tree, floor_wall, floor_cpu)


def process_table(runs: list[ProcessRun]) -> list[str]:
    """The whole `ecom generate` process against its write floor; the start-up cost from the 1-day run."""
    lines = [
        "| `ecom generate` | rows | wall s | CPU s | peak RSS MB (largest / all) | rows/s | floor wall s | floor CPU s "
        "| floor rows/s | ratio (wall) | ratio (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.days} day(s), {r.workers} worker(s) | {r.rows:,} | {r.wall:.2f} | {r.cpu:.2f} "
            f"| {r.peak_rss / 2**20:,.0f} / {r.tree_rss / 2**20:,.0f} | {r.rows / r.wall:,.0f} | {r.floor_wall:.2f} | {r.floor_cpu:.2f} "
            f"| {r.rows / r.floor_wall:,.0f} | {r.floor_wall / r.wall:.2f}x | {r.floor_cpu / r.cpu:.2f}x |"
        )
    one = next((r for r in runs if r.days == 1 and r.workers == 1), None)
    many = [r for r in runs if r.days > 1 and r.workers == 1]
    if one and many:
        # start-up = the 1-day run less the cost of one day at the long run's marginal rate
        per_day_wall = (many[0].wall - one.wall) / (many[0].days - 1)
        per_day_cpu = (many[0].cpu - one.cpu) / (many[0].days - 1)
        lines += [
            "",
            f"start-up (the 1-day run less one day at the {many[0].days}-day run's marginal cost): "
            f"{one.wall - per_day_wall:.2f}s wall, {one.cpu - per_day_cpu:.2f}s CPU; "
            f"a further day: {per_day_wall:.2f}s wall, {per_day_cpu:.2f}s CPU",
        ]
    best = max((r for r in runs if r.days > 1), key=lambda r: r.floor_wall / r.wall, default=None)
    if best:
        ratio = best.floor_wall / best.wall
        lines.append(
            f"whole process / write floor = {ratio:.2f}x ({best.days} days, {best.workers} worker{'s' if best.workers > 1 else ''}), "
            f"target >= {FLOOR_TARGET}x: {'met' if ratio >= FLOOR_TARGET else 'NOT met'}"
        )
    return lines


def process_runs(cfg, start: dt.date, days: int, workers: int, root: Path) -> list[ProcessRun]:
    runs = [process_run(cfg, start, 1, 1, root), process_run(cfg, start, days, 1, root)]
    if workers > 1:
        runs.append(process_run(cfg, start, days, workers, root))
    return runs


def main(argv: list[str] | None = None) -> int:
    from generator.config import SCALES, GeneratorConfig

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=list(SCALES), default="medium")
    parser.add_argument("--days", type=int, default=3, help="days generated (default 3)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--user-rows", type=int, default=200_000, help="rows of our users batch")
    parser.add_argument("--faker-rows", type=int, default=3000, help="rows of the Faker baseline")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel run's workers")
    parser.add_argument(
        "--day-cost",
        metavar="OFFSETS",
        help="only time single days, e.g. 30,365 (days after the opening): ms/day as the user base grows",
    )
    parser.add_argument(
        "--process-days", type=int, default=10, help="days of the whole-process run (default 10)"
    )
    parser.add_argument(
        "--process-start",
        type=dt.date.fromisoformat,
        help="first day of the whole-process runs (default: the opening date)",
    )
    parser.add_argument(
        "--process-only",
        action="store_true",
        help="only the whole `ecom generate` process vs its write floor",
    )
    args = parser.parse_args(argv)

    cfg = GeneratorConfig(scale=args.scale)
    process_start = args.process_start or cfg.opening_date
    if args.process_only:
        print(
            f"scale {args.scale}, whole process from {process_start}, {os.cpu_count()} cores, "
            f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix="ecom-bench-") as tmp:
            runs = process_runs(cfg, process_start, args.process_days, args.workers, Path(tmp))
        print("\n".join(["", *process_table(runs)]))
        print(f"load average at the end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
        return 0
    if args.day_cost:
        offsets = [int(x) for x in args.day_cost.split(",")]
        print("\n".join(day_cost(cfg, offsets)))
        print(f"\nscale {args.scale}, one day at a time, load average {os.getloadavg()[0]:.1f}")
        return 0
    days = [args.start + dt.timedelta(days=i) for i in range(args.days)]
    from generator.catalog import products_on

    print(
        f"scale {args.scale}, {args.days} day(s) from {args.start}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="ecom-bench-") as tmp:
        root = Path(tmp)
        _, warm = timed(lambda: warm_up(cfg, days[0]))
        print(f"warm-up (Faker pools, 30-day look-back), once per process: {warm:.2f}s", flush=True)
        n_events, s1 = our_events(cfg, days, 1, root)
        rows.append(("our events, 1 worker", n_events, s1))
        if args.workers > 1:
            n, s = our_events(cfg, days, args.workers, root)
            rows.append((f"our events, {args.workers} workers", n, s))
        n, s = duckdb_events(n_events, products_on(cfg, days[-1]), root)
        rows.append((f"DuckDB SQL events, {os.cpu_count()} threads", n, s))
        n, s = our_users(cfg, days[0], args.user_rows, root)
        rows.append(("our users", n, s))
        n, s = faker_users(args.faker_rows, root)
        rows.append(("Faker per-row users", n, s))
        runs = process_runs(cfg, process_start, args.process_days, args.workers, root)

    rate = {name: n / s for name, n, s in rows}
    print(f"\n| {'generator':<28} | {'rows':>10} | {'seconds':>8} | {'rows/s':>12} |")
    print(f"|{'-' * 30}|{'-' * 12}|{'-' * 10}|{'-' * 14}|")
    for name, n, s in rows:
        print(f"| {name:<28} | {n:>10,} | {s:>8.2f} | {n / s:>12,.0f} |")
    duck = rate[f"DuckDB SQL events, {os.cpu_count()} threads"]
    best = max(v for k, v in rate.items() if k.startswith("our events"))
    users = rate["our users"] / rate["Faker per-row users"]
    print(
        f"\nevents: ours / DuckDB SQL = {best / duck:.2f}x (1 worker {rate['our events, 1 worker'] / duck:.2f}x)"
        f", target >= {EVENT_TARGET}x: {'met' if best / duck >= EVENT_TARGET else 'NOT met'}"
    )
    print(
        f"users: ours / Faker per-row = {users:,.0f}x, target >= {USER_TARGET:.0f}x: "
        f"{'met' if users >= USER_TARGET else 'NOT met'}"
    )
    print(
        f"\nthe whole process from {process_start} (`ecom generate`, a child process) against its write floor:\n"
    )
    print("\n".join(process_table(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
