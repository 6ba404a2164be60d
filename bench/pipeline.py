"""One-year pipeline benchmark: generate, build and publish a year, with wall time and peak memory per phase.

    .venv/bin/python -m bench.pipeline --scale small --days 365
    .venv/bin/python -m bench.pipeline --scale small --scale medium --days 365 --workers 2

Each phase runs as the real `ecom` command in a child process; peak RSS is the highest resident set size of the
whole process tree (the CLI and dbt's child), sampled every 100 ms; CPU is the user + system seconds of that
tree (steadier than wall time on a shared machine); the load average after each scale is printed beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
OPENING = dt.date(2025, 9, 1)


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Run a command; return (wall seconds, peak RSS bytes, CPU seconds of its process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed with exit {proc.returncode}:\n{err[-3000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, peak, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_scale(scale: str, days: int, workers: int, keep: Path | None) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{scale}-", dir=keep))
    env = {**os.environ, "ECOM_DATA_DIR": str(data_dir), "ECOM_SCALE": scale}
    end = OPENING + dt.timedelta(days=days - 1)
    ecom = str(BIN / "ecom")
    row = {"scale": scale, "days": days, "data_dir": str(data_dir) if keep else None}
    try:
        print(f"[{scale}] generating {days} days ({OPENING}..{end}) with {workers} worker(s)...", flush=True)
        row["generate_s"], row["generate_rss"], row["generate_cpu"] = run_measured(
            [ecom, "generate", "--start", str(OPENING), "--end", str(end), "--workers", str(workers)], env
        )
        print(f"[{scale}] building the marts (full refresh)...", flush=True)
        row["build_s"], row["build_rss"], row["build_cpu"] = run_measured(
            [ecom, "build", "--full-refresh"], env
        )
        print(f"[{scale}] publishing...", flush=True)
        row["publish_s"], row["publish_rss"], row["publish_cpu"] = run_measured([ecom, "publish"], env)
        row["lake_mb"] = sum(p.stat().st_size for p in (data_dir / "lake").rglob("*.parquet")) / 1e6
        row["events"] = _count_events(data_dir)
        row["load"] = os.getloadavg()[0]
    finally:
        if keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    return row


def _count_events(data_dir: Path) -> int:
    import duckdb

    con = duckdb.connect()
    try:
        return con.execute(
            f"select count(*) from read_parquet('{data_dir}/lake/user_events/dt=*/*.parquet')"
        ).fetchone()[0]
    finally:
        con.close()


def format_table(rows: list[dict]) -> str:
    lines = [
        "| scale | days | events | lake (MB) | generate (s) | build (s) | publish (s) | total (s) | total CPU (s) "
        "| peak RSS (MB) | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        total = r["generate_s"] + r["build_s"] + r["publish_s"]
        cpu = r["generate_cpu"] + r["build_cpu"] + r["publish_cpu"]
        peak = max(r["generate_rss"], r["build_rss"], r["publish_rss"]) / 2**20
        lines.append(
            f"| {r['scale']} | {r['days']} | {r['events']:,} | {r['lake_mb']:,.0f} | {r['generate_s']:.1f} | "
            f"{r['build_s']:.1f} | {r['publish_s']:.1f} | {total:.1f} | {cpu:.1f} | {peak:,.0f} | {r['load']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", action="append", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the generated data under this folder")
    parser.add_argument("--json", type=Path, help="also write the measurements to this JSON file")
    args = parser.parse_args(argv)
    rows = [bench_scale(s, args.days, args.workers, args.keep) for s in (args.scale or ["small"])]
    table = format_table(rows)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return table


if __name__ == "__main__":
    main()
