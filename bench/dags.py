"""DAG parse times, and one daily generation + refresh cycle in Airflow against `ecom run` for the same day.

    .venv/bin/python -m bench.dags                 # parse time of each DAG file
    .venv/bin/python -m bench.dags --cycle         # + two daily cycles in a real `airflow standalone` (minutes)

Parse time is measured the way the dag-processor pays it: in a fresh process that has already imported Airflow,
"first" is the first parse of the file (module imports included), "again" the median of re-parses.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from bench.common import REPO, free_port, measured_ecom

PARSE_ONE = r"""
import json, os, statistics, sys, time
import airflow.sdk  # the dag-processor has it loaded before it parses any file
from airflow.dag_processing.dagbag import DagBag
path, repeat = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(repeat):
    started = time.perf_counter()
    bag = DagBag(dag_folder=path, collect_dags=False)
    bag.process_file(path)
    times.append(time.perf_counter() - started)
    assert not bag.import_errors, bag.import_errors
print(json.dumps({"first": times[0], "again": statistics.median(times[1:]), "tasks": sum(len(d.tasks) for d in bag.dags.values())}))
"""


def parse_times(repeat: int) -> None:
    env = {**os.environ, "AIRFLOW_HOME": tempfile.mkdtemp(prefix="bench-airflow-")}
    print(f"{'DAG file':<34} {'tasks':>6} {'first parse':>12} {'re-parse':>10}")
    for path in sorted((REPO / "dags").glob("*.py")):
        out = subprocess.run(
            [sys.executable, "-c", PARSE_ONE, str(path), str(repeat)],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{path.name:<34} {r['tasks']:>6} {r['first']:>11.3f}s {r['again']:>9.3f}s")


def cycle(first_day: str, days: int, scale: str) -> None:
    """Trigger `days` consecutive generations through the REST API, each after the previous refresh finished, and
    time each one until its Asset-triggered refresh is done; then `ecom run` of the same days, one at a time."""
    home, data, cli_data = (
        Path(tempfile.mkdtemp(prefix=p)) for p in ("bench-af-", "bench-af-data-", "bench-cli-")
    )
    port, password = free_port(), "bench-only-password"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ECOM_"))},
        "AIRFLOW_HOME": str(home), "ECOM_AIRFLOW_PORT": str(port), "ECOM_AIRFLOW_PASSWORD": password,
        "ECOM_DATA_DIR": str(data), "ECOM_SCALE": scale,
        "ECOM_AIRFLOW_SCHEDULE": "none", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }  # fmt: skip
    dates = [str(dt.date.fromisoformat(first_day) + dt.timedelta(days=i)) for i in range(days)]
    base = f"http://localhost:{port}"
    log = (home / "standalone.log").open("w")
    proc = subprocess.Popen(
        [str(REPO / "airflow" / "standalone.sh")], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip

    def call(method, path, body=None, token=None):
        headers = {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        }
        req = urllib.request.Request(
            base + path, json.dumps(body).encode() if body else None, headers, method=method
        )
        for _ in range(10):  # a busy machine: the API server may answer late
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    return json.loads(resp.read().decode() or "null")
            except TimeoutError:
                time.sleep(2)
        raise TimeoutError(f"{method} {path}: no answer")

    def runs(dag_id: str, token: str) -> list[dict]:
        return call("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after", token=token)["dag_runs"]

    cycles = []  # (day, generated, total, state, task instances, Airflow CPU, dbt build seconds)
    try:
        started = time.perf_counter()
        while True:
            try:
                token = call("POST", "/auth/token", {"username": "admin", "password": password})[
                    "access_token"
                ]
                dags = call("GET", "/api/v2/dags?dag_id_pattern=ecommerce", token=token)["dags"]
                if {d["dag_id"] for d in dags} >= {"ecommerce_generate_daily", "ecommerce_marts_refresh"}:
                    break
            except OSError:
                pass
            time.sleep(2)
        ready = time.perf_counter() - started
        for dag_id in ("ecommerce_generate_daily", "ecommerce_marts_refresh"):
            call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False}, token)
        for day in dates:
            seen = {r["dag_run_id"] for r in runs("ecommerce_marts_refresh", token)}
            cpu_before = tree_cpu(proc.pid)
            started = time.perf_counter()
            call("POST", "/api/v2/dags/ecommerce_generate_daily/dagRuns",
                 {"logical_date": f"{day}T00:00:00Z", "conf": {}}, token)  # fmt: skip
            generated = None
            while True:
                if generated is None:
                    gen = [
                        r for r in runs("ecommerce_generate_daily", token) if r["logical_date"][:10] == day
                    ]
                    if gen and gen[0]["state"] == "success":
                        generated = time.perf_counter() - started
                new = [r for r in runs("ecommerce_marts_refresh", token) if r["dag_run_id"] not in seen]
                if new and new[0]["state"] in ("success", "failed"):
                    break
                time.sleep(0.5)
            total = time.perf_counter() - started
            tis = call(
                "GET",
                f"/api/v2/dags/ecommerce_marts_refresh/dagRuns/{new[0]['dag_run_id']}/taskInstances?limit=200",
                token=token,
            )["task_instances"]
            cpu = tree_cpu(proc.pid) - cpu_before
            cycles.append((day, generated, total, new[0]["state"], tis, cpu, build_seconds(data)))
        idle_before, idle_started = tree_cpu(proc.pid), time.perf_counter()
        time.sleep(20)
        idle = (tree_cpu(proc.pid) - idle_before) / (time.perf_counter() - idle_started)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    cli = []  # (wall, CPU, dbt build seconds)
    for day in dates:
        run = measured_ecom(cli_data, "run", "--scale", scale, "--start", day, "--end", day, env=env)
        cli.append((run.wall, run.cpu, build_seconds(cli_data)))
    for path in (home, data, cli_data):
        shutil.rmtree(path, ignore_errors=True)
    print(f"\nscale {scale}, one day at a time; Airflow standalone ready after {ready:.0f}s")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(
        "| day | Airflow: generate run | Airflow: generate + asset-triggered refresh | `ecom run` | ratio "
        "| Airflow CPU | `ecom run` CPU | dbt build: Airflow / `ecom run` |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (day, generated, total, state, _, cpu, built), (seconds, cli_cpu, cli_built) in zip(
        cycles, cli, strict=True
    ):
        print(
            f"| {day} | {generated:.1f}s | {total:.1f}s ({state}) | {seconds:.1f}s | {total / seconds:.2f}x "
            f"| {cpu:.1f}s | {cli_cpu:.1f}s | {built:.1f}s / {cli_built:.1f}s |"
        )
    print(
        f"Airflow CPU: every process of `airflow standalone` (scheduler, API server, dag-processor, triggerer,"
        f" task processes) during the cycle; idle, the same processes use {idle:.2f} CPU seconds per second."
    )
    print("(the first cycle after start-up also pays one-time costs: the triggerer builds its in-process API")
    print(" on its first request, and each process imports its modules once)")
    day, *_, tis, _, _ = cycles[-1]
    print(f"\nrefresh tasks of {day} ({len(tis)}): start -> end, seconds after the first task started")
    parse = pendulum_parse()
    t0 = min(parse(t["start_date"]) for t in tis if t["start_date"])
    groups: dict[str, list] = {}
    for t in tis:
        if t["start_date"] and t["end_date"]:
            name = t["task_id"] if "." not in t["task_id"] else t["task_id"].split(".")[0] + ".*"
            groups.setdefault(name, []).append((parse(t["start_date"]) - t0, parse(t["end_date"]) - t0))
    for name, spans in sorted(groups.items(), key=lambda kv: min(s for s, _ in kv[1])):
        first, last = min(s for s, _ in spans), max(e for _, e in spans)
        print(f"  {name:<28} x{len(spans):<3} {first:>6.1f}s -> {last:>6.1f}s")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants, with the children they have reaped."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
    except psutil.Error:
        pass
    return total


def build_seconds(data_dir: Path) -> float:
    """Seconds of the newest build recorded in the data dir's build.json (opened -> finished)."""
    state = json.loads((data_dir / "warehouse" / "build.json").read_text())
    return float(state["seconds"])


def pendulum_parse():
    return lambda text: dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="parses per file (default 5)")
    parser.add_argument("--cycle", action="store_true", help="also time one cycle in airflow standalone")
    parser.add_argument("--day", default="2025-09-01", help="the first day of the cycles")
    parser.add_argument("--days", type=int, default=2, help="consecutive daily cycles (default 2)")
    parser.add_argument("--scale", default="tiny")
    args = parser.parse_args()
    parse_times(max(args.repeat, 2))
    if args.cycle:
        cycle(args.day, max(args.days, 1), args.scale)


if __name__ == "__main__":
    main()
