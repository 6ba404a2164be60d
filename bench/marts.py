"""How long the marts take to build, side by side, in one run on this machine.

    .venv/bin/python -m bench.marts [--scales small,medium] [--days 365] [--short-days 30] [--keep DIR]

For each scale, a year of lake (`--days` days from the opening day) is generated once, then:

* **full build**: `ecom build --full-refresh` (dbt build: every model and data test) over the year;
* **models only**: `dbt run --full-refresh` over the year, and **direct DuckDB**: the same compiled model SQL
  executed in DuckDB in dependency order without dbt (the ratio is dbt's overhead; target: within 1.5x);
* **one-day refresh**: the lake holds `--short-days` days (about a month) or `--days - 1` days (about a year) and
  is built; then one more day lands and `ecom build` (incremental) refreshes it. Incremental models rebuild only
  the lookback window, so the two should cost about the same;
  Each refresh is also broken down by what dbt ran: node seconds per kind (whole-table models,
  incremental models, views, data tests, unit tests), and the nodes that cost most, with CPU seconds of the
  whole process tree beside wall time;
* **pandas reference**: the plain pandas funnel, RFM and cohort implementations (tests/dbt/reference.py) on the
  same year of lake (skipped above `--pandas-max-events` events: it holds the whole clickstream in memory).

Timings vary with the machine's load: the load average is printed. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import REPO, log, measured_ecom, timed_ecom
from generator.config import DEFAULT_OPENING_DATE
from generator.lake import link_days


def dbt(data_dir: Path, *args: str) -> float:
    from pipeline.build.dbt import run_dbt
    from pipeline.settings import Settings

    started = time.perf_counter()
    outcome = run_dbt(Settings.load(data_dir=data_dir), *args, quiet=True)
    if not outcome.success:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{outcome.describe_failures()}")
    return time.perf_counter() - started


def direct_duckdb(data_dir: Path) -> float:
    """Run the compiled SQL of every model (as compiled by the last full refresh) straight in DuckDB."""
    import duckdb

    target = data_dir / "dbt" / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "seed") and n["package_name"] == "ecommerce"
    }
    order, seen = [], set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in nodes[uid].get("depends_on", {}).get("nodes", []):
            visit(parent)
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    # A database file called build.duckdb, so the compiled three-part names resolve unchanged.
    folder = Path(tempfile.mkdtemp(prefix="direct-", dir=data_dir))
    compiled = {}
    for uid in order:
        node = nodes[uid]
        if node["resource_type"] == "model":
            path = target / "compiled" / "ecommerce" / node["original_file_path"]
            compiled[uid] = path.read_text()
    started = time.perf_counter()
    con = duckdb.connect(str(folder / "build.duckdb"))
    try:
        for schema in ("staging", "intermediate", "marts", "reference"):
            con.execute(f"create schema {schema}")
        for uid in order:
            node = nodes[uid]
            name = f"{node['schema']}.{node['alias']}"
            if node["resource_type"] == "seed":
                # the seed's columns and types as dbt loads them (its YAML's column_types, rendered for DuckDB)
                csv = REPO / "dbt_project" / node["original_file_path"]
                columns = ", ".join(
                    f"cast({column} as {kind}) as {column}"
                    for column, kind in node["config"]["column_types"].items()
                )
                con.execute(f"create table {name} as select {columns} from read_csv('{csv}', header = true)")
                continue
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create {kind} {name} as {compiled[uid]}")
    finally:
        con.close()
    seconds = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return seconds


def pandas_reference(data_dir: Path, max_events: int) -> float | None:
    import duckdb

    from tests.dbt import reference

    lake = data_dir / "lake"
    con = duckdb.connect()
    events = con.sql(f"select count(*) from read_parquet('{lake}/user_events/dt=*/*.parquet')").fetchall()[0][
        0
    ]
    if events > max_events:
        log(f"pandas reference skipped: {events:,} events > --pandas-max-events {max_events:,}")
        return None

    def frame(table: str, columns: str = "*"):
        return (
            con.sql(f"select {columns} from read_parquet('{lake}/{table}/dt=*/*.parquet')")
            .to_arrow_table()
            .to_pandas()
        )

    started = time.perf_counter()
    reference.funnel(
        frame("user_events", "session_id, sequence_number, event_type, traffic_source, device, event_at")
    )
    orders = reference.order_states(frame("orders"), frame("order_status_changes"))
    reference.rfm(orders)
    reference.cohorts(frame("users"), orders)
    con.close()
    return time.perf_counter() - started


def node_breakdown(data_dir: Path, top: int = 6) -> dict:
    """Seconds dbt spent per kind of node in the last invocation (run_results.json), and the costliest nodes."""
    target = data_dir / "dbt" / "target"
    results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    kinds: dict[str, float] = {}
    nodes = []
    for r in results["results"]:
        uid = r["unique_id"]
        if uid.startswith("unit_test."):
            kind = "unit tests"
        elif uid.startswith("test."):
            kind = "data tests"
        elif uid.startswith("model."):
            kind = f"{manifest['nodes'][uid]['config']['materialized']} models"
        else:
            kind = uid.split(".")[0] + "s"
        kinds[kind] = kinds.get(kind, 0.0) + r["execution_time"]
        nodes.append((r["execution_time"], uid.split(".", 2)[-1][:60]))
    nodes.sort(reverse=True)
    return {
        "dbt_elapsed": results["elapsed_time"],
        "nodes": len(results["results"]),
        "kinds": kinds,
        "top": nodes[:top],
    }


def bench_scale(
    scale: str,
    days: int,
    history: list[int],
    root: Path,
    max_events: int,
    lake: Path | None = None,
    refresh_only: bool = False,
) -> dict:
    opening = DEFAULT_OPENING_DATE
    last = opening + dt.timedelta(days=days - 1)
    master = root / f"{scale}-full"
    row = {"scale": scale, "one_day_cpu": {}, "breakdown": {}}
    if lake is not None:  # an existing lake of this scale with at least `days` days from the opening
        link_days(lake, master / "lake", opening, last)
        row["generate"] = None
    else:
        log(f"{scale}: generating {days} days {opening}..{last} (2 workers)")
        row["generate"] = timed_ecom(
            master,
            "generate",
            "--scale",
            scale,
            "--start",
            str(opening),
            "--end",
            str(last),
            "--workers",
            "2",
        )

    if not refresh_only:
        log(f"{scale}: full build over {days} days (dbt build --full-refresh)")
        row["full_build"] = timed_ecom(master, "build", "--full-refresh")
        log(f"{scale}: models only (dbt run --full-refresh)")
        row["models_dbt"] = dbt(master, "run", "--full-refresh")
        log(f"{scale}: the same compiled SQL straight in DuckDB")
        row["models_direct"] = direct_duckdb(master)

    for held in history:
        label = f"{held}d"
        data_dir = root / f"{scale}-history-{label}"
        link_days(master / "lake", data_dir / "lake", opening, opening + dt.timedelta(days=held - 1))
        log(f"{scale}: building {held} days of history, then refreshing day {held + 1}")
        timed_ecom(data_dir, "build")
        new_day = opening + dt.timedelta(days=held)
        link_days(master / "lake", data_dir / "lake", new_day, new_day)
        refresh = measured_ecom(data_dir, "build")
        row[f"one_day_{label}"] = refresh.wall
        row.setdefault("one_day", {})[held] = refresh.wall
        row["one_day_cpu"][held] = refresh.cpu
        row["breakdown"][held] = {**node_breakdown(data_dir), "load": refresh.load}
        shutil.rmtree(data_dir, ignore_errors=True)

    if not refresh_only:
        log(f"{scale}: pandas reference (funnel, RFM, cohorts)")
        row["pandas"] = pandas_reference(master, max_events)
    return row


def print_breakdown(rows: list[dict], history: list[int]) -> None:
    """One table per scale: the one-day refresh at each history, CPU and wall, and what dbt spent it on."""
    for r in rows:
        print()
        print(
            f"One-day refresh, {r['scale']}: CPU seconds of the process tree (wall), dbt node seconds by kind"
        )
        kinds = sorted({k for h in history for k in r["breakdown"][h]["kinds"]})
        header = f"{'history':>8} {'CPU':>8} {'wall':>8} {'load':>5} {'nodes':>5}" + "".join(
            f" {k:>16}" for k in kinds
        )
        print(header)
        print("-" * len(header))
        for h in history:
            b = r["breakdown"][h]
            cells = "".join(f" {b['kinds'].get(k, 0.0):15.1f}s" for k in kinds)
            print(
                f"{str(h) + 'd':>8} {r['one_day_cpu'][h]:7.1f}s {r['one_day'][h]:7.1f}s {b['load']:5.1f} "
                f"{b['nodes']:>5}{cells}"
            )
        if len(history) > 1:
            first, last = history[0], history[-1]
            print(
                f"CPU at {last}d / CPU at {first}d: {r['one_day_cpu'][last] / r['one_day_cpu'][first]:.2f}x "
                "(goal: at most 1.3x)"
            )
        for h in (history[0], history[-1]):
            top = ", ".join(f"{name} {sec:.1f}s" for sec, name in r["breakdown"][h]["top"])
            print(f"costliest nodes at {h}d: {top}")


def fmt(seconds: float | None) -> str:
    return "skipped" if seconds is None else f"{seconds:8.1f}s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="small,medium")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--short-days", type=int, default=30, help="short history (default 30 days)")
    parser.add_argument(
        "--history",
        help="comma-separated days of history for the one-day refresh (default: --short-days and --days - 1)",
    )
    parser.add_argument("--json", type=Path, help="also write the measurements to this JSON file")
    parser.add_argument("--pandas-max-events", type=int, default=20_000_000)
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder)")
    parser.add_argument(
        "--lake", type=Path, help="use the days of this existing lake (same scale) instead of generating them"
    )
    parser.add_argument(
        "--refresh-only",
        action="store_true",
        help="only the one-day refreshes (no full build, dbt-vs-DuckDB or pandas comparison)",
    )
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-marts-"))
    root.mkdir(parents=True, exist_ok=True)
    log(f"working in {root}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    history = [int(h) for h in args.history.split(",")] if args.history else [args.short_days, args.days - 1]
    if max(history) >= args.days:
        parser.error(f"--history values must be below --days ({args.days})")
    rows = []
    try:
        for scale in args.scales.split(","):
            rows.append(
                bench_scale(
                    scale.strip(),
                    args.days,
                    history,
                    root,
                    args.pandas_max_events,
                    args.lake,
                    args.refresh_only,
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    print()
    print(
        f"Marts over {args.days} days (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    refresh_heads = "".join(f" {'1 day @' + str(h) + 'd':>11}" for h in history)
    header = (
        f"{'scale':<8} {'generate':>9} {'full build':>10} {'models dbt':>10} {'direct':>9} {'overhead':>8}"
        f"{refresh_heads} {'pandas':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        direct = r.get("models_direct")
        overhead = r["models_dbt"] / direct if direct and r.get("models_dbt") else None
        r["overhead"] = overhead if overhead is not None else float("nan")
        shown = f"{overhead:>7.2f}x" if overhead is not None else f"{'skipped':>8}"
        refresh = "".join(f" {fmt(r['one_day'][h]):>11}" for h in history)
        print(
            f"{r['scale']:<8} {fmt(r['generate']):>9} {fmt(r.get('full_build')):>10} "
            f"{fmt(r.get('models_dbt')):>10} {fmt(direct):>9} {shown}{refresh} {fmt(r.get('pandas')):>9}"
        )
    if args.json:
        args.json.write_text(json.dumps({"days": args.days, "history": history, "rows": rows}, indent=2))
    print_breakdown(rows, history)
    print()
    print(
        "full build = dbt build --full-refresh (models and data tests); models dbt = dbt run --full-refresh;"
    )
    print(
        "direct = the same compiled SQL run in DuckDB without dbt; 1 day @Nd = incremental `ecom build` of one new"
    )
    print(
        "day on top of N days of history (models + tests); pandas = tests/dbt/reference.py funnel + RFM + cohorts."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
