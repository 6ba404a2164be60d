"""`make bench`: run every benchmark in one go; write `bench/report.md` (tables) with PNG plots, and the same
tables with the machine they were measured on to `bench/baselines/<date>.json` (committed: the figures the docs
cite).

    .venv/bin/python -m bench.report                    # small and medium, a year each (tens of minutes)
    .venv/bin/python -m bench.report --scales small --days 120 --quick

Every figure is measured in this one run, side by side, so that ratios hold on a noisy machine. Each benchmark
also runs on its own (`python -m bench.<name> --help`); this module only orchestrates them and writes the report.
Progress goes to stderr; nothing is timed inside the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
BASELINES = BENCH / "baselines"
PYTHON = sys.executable


def log(line: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def run(name: str, *args: str) -> str:
    """Run one benchmark (`python -m bench.NAME`), streaming its progress (stderr) and returning its report."""
    script = f"bench.{name}"
    log(f"{script} {' '.join(args)}")
    started = time.perf_counter()
    proc = subprocess.run(
        [PYTHON, "-m", script, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        check=False,
    )
    log(f"{script} finished in {time.perf_counter() - started:.0f}s (exit {proc.returncode})")
    if proc.returncode != 0:
        return f"(failed with exit code {proc.returncode})\n{proc.stdout}"
    return proc.stdout


def block(text: str) -> str:
    """Markdown tables pass through; anything else goes in a code block."""
    text = text.strip()
    if text.startswith("|"):
        return text
    return f"```\n{text}\n```"


def plot_pipeline(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    scales = [r["scale"] for r in rows]
    bottom = [0.0] * len(rows)
    for phase in ("generate", "build", "publish"):
        values = [r[f"{phase}_s"] for r in rows]
        ax.barh(scales, values, left=bottom, label=phase)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xlabel(f"seconds ({rows[0]['days']} days of data)")
    ax.set_title("Pipeline by phase: generate, build, publish")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_refresh(marts: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for row in marts["rows"]:
        history = sorted(int(h) for h in row["one_day"])
        line = ax.plot(
            history, [row["one_day"][str(h)] for h in history], marker="o", label=f"{row['scale']}: 1 day"
        )
        ax.axhline(
            row["full_build"], linestyle="--", color=line[0].get_color(), label=f"{row['scale']}: full"
        )
    ax.set_xlabel("days of history already built")
    ax.set_ylabel("seconds")
    ax.set_title("One-day incremental refresh vs full refresh")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def headline(pipeline: list[dict], marts: dict, generator_out: str, serving_out: str, dags_out: str) -> str:
    lines = ["| measure | result |", "|---|---|"]
    for r in pipeline:
        total = r["generate_s"] + r["build_s"] + r["publish_s"]
        peak = max(r["generate_rss"], r["build_rss"], r["publish_rss"]) / 2**20
        lines.append(
            f"| pipeline over {r['days']} days, {r['scale']} ({r['events']:,} events) | {total:,.0f} s wall, "
            f"peak RSS {peak:,.0f} MB |"
        )
    for pattern, label in (
        (r"events: ours / DuckDB SQL = ([\d.]+x)", "generator events vs DuckDB SQL reference"),
        (r"users: ours / Faker per-row = ([\d,.]+x)", "generator users vs per-row Faker"),
        (r"whole process / write floor = ([\d.]+x \([^)]*\))", "`ecom generate` process vs its write floor"),
    ):
        match = re.search(pattern, generator_out)
        if match:
            lines.append(f"| {label} | {match.group(1)} |")
    for row in marts.get("rows", []):
        refresh = ", ".join(
            f"{h} d: {row['one_day'][str(h)]:.1f} s" for h in sorted(int(h) for h in row["one_day"])
        )
        lines.append(
            f"| one-day refresh, {row['scale']} (history {refresh}) | full refresh {row['full_build']:.1f} s |"
        )
        lines.append(f"| dbt overhead vs the same SQL in DuckDB, {row['scale']} | {row['overhead']:.2f}x |")
    match = re.search(r"publish to PostgreSQL, median \| ([\d.]+)", serving_out)
    if match:
        lines.append(f"| publish to PostgreSQL (median) | {match.group(1)} s |")
    match = re.search(r"\*\*all queries\*\* \| \*\*([\d.]+)\*\* \| \*\*([\d.]+)\*\*", serving_out)
    if match:
        lines.append(
            f"| dashboard queries through PostgreSQL | p50 {match.group(1)} ms, p95 {match.group(2)} ms |"
        )
    parse = re.findall(r"(ecommerce_\w+\.py)\s+\d+\s+([\d.]+)s", dags_out)
    if parse:
        lines.append("| DAG parse, first parse | " + ", ".join(f"{f}: {t} s" for f, t in parse) + " |")
    return "\n".join(lines)


def commit() -> str | None:
    """The commit measured, with `-dirty` when the work tree had changes (None outside a git checkout)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if dirty else head


def write_baseline(
    path: Path,
    started: dt.datetime,
    load_at_start: tuple[float, float, float],
    measured: str | None,
    args: argparse.Namespace,
    tables: dict[str, str],
    pipeline: list[dict],
    marts: dict,
) -> None:
    """The run's tables and measurements with the machine they were measured on, as one JSON file.

    Load averages matter as much as the cores: the reference machine is shared, and a loaded machine's wall
    clock is several times an idle one's. Written to a temporary file and renamed, so a killed run leaves no
    half-written baseline.
    """
    finished = dt.datetime.now(dt.UTC)
    baseline = {
        "date": f"{started:%Y-%m-%d}",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "commit": measured,
        "machine": {
            "cores": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "arch": platform.machine(),
            "system": platform.platform(),
            "python": platform.python_version(),
        },
        "options": {"scales": args.scales, "days": args.days, "quick": args.quick},
        "tables": {name: text.strip() for name, text in tables.items()},
        # the temporary data dirs the run used are gone once it ends: not part of the record
        "pipeline": [{k: v for k, v in row.items() if k != "data_dir"} for row in pipeline],
        "marts": marts,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(baseline, indent=2) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="small,medium")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--out", type=Path, default=BENCH / "report.md")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run of the report")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="where to write the tables as JSON (default: bench/baselines/<date>.json, <date>-quick.json with "
        "--quick)",
    )
    args = parser.parse_args(argv)
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench-report-", dir="/tmp"))
    os.chmod(
        work, 0o755
    )  # the serving bench's PostgreSQL runs as the postgres user and must reach its data dir
    started = dt.datetime.now(dt.UTC)
    load_at_start = os.getloadavg()
    measured = commit()  # before the run: the tree may change while it measures
    try:
        generator_out = run("generator", "--scale", scales[-1], "--days", "2" if args.quick else "3")
        day_cost_out = run("generator", "--scale", scales[-1], "--day-cost", "30,365")
        realism_out = run("realism")  # the demo window at small, against the documented targets
        pipeline_json = work / "pipeline.json"
        pipeline_out = run(
            "pipeline", *[x for s in scales for x in ("--scale", s)], "--days", str(args.days),
            "--keep", str(work), "--json", str(pipeline_json),
        )  # fmt: skip
        pipeline = json.loads(pipeline_json.read_text()) if pipeline_json.exists() else []
        history = sorted({min(30, args.days // 4), min(180, args.days // 2), args.days - 1})
        marts_json = work / "marts.json"
        marts_out = run(
            "marts", "--scales", ",".join(scales), "--days", str(args.days),
            "--history", ",".join(map(str, history)), "--json", str(marts_json),
        )  # fmt: skip
        marts = json.loads(marts_json.read_text()) if marts_json.exists() else {"rows": []}
        dags_out = run("dags")
        small = next((r["data_dir"] for r in pipeline if r["scale"] == scales[0]), None)
        serving_args = ["--data-dir", small] if small else ["--scale", scales[0], "--days", str(args.days)]
        if args.quick:
            serving_args += ["--publishes", "2", "--repeats", "5"]
        serving_out = run("serving", *serving_args)
        predict_out = run(
            "predict", "--scales", *scales, "--days", "150" if args.quick else str(min(args.days, 200))
        )
        stats_out = run("stats", "--scale", scales[0])
        api_out = run("api", "--duration", "3" if args.quick else "10")

        figures = []
        if pipeline:
            plot_pipeline(pipeline, BENCH / "report_pipeline.png")
            figures.append("![one-year pipeline by phase](report_pipeline.png)")
        if marts["rows"]:
            plot_refresh(marts, BENCH / "report_refresh.png")
            figures.append("![one-day refresh vs history](report_refresh.png)")
        load = os.getloadavg()
        report = f"""# Benchmark report

Measured {started:%Y-%m-%d %H:%M} UTC on {platform.machine()} with {os.cpu_count()} cores, Python
{platform.python_version()}; load average at the end {load[0]:.1f}. Regenerate with `make bench`
(`.venv/bin/python -m bench.report --help` for options). Every number below comes from this one run.

## Headline

{headline(pipeline, marts, generator_out, serving_out, dags_out)}

{chr(10).join(figures)}

## Generator throughput (`python -m bench.generator`)

{block(generator_out)}

### The cost of a day as the user base grows (`python -m bench.generator --day-cost 30,365`)

{block(day_cost_out)}

## Realism: the demo window next to real shops (`python -m bench.realism`)

{block(realism_out)}

## One-year pipeline: generate, build, publish (`python -m bench.pipeline`)

{block(pipeline_out)}

## Marts: full build, dbt overhead, one-day incremental refresh (`python -m bench.marts`)

{block(marts_out)}

## DAG parse times (`python -m bench.dags`)

{block(dags_out)}

## Publish and dashboard latency through PostgreSQL (`python -m bench.serving`)

{block(serving_out)}

## Customer models: train and score time, peak memory (`python -m bench.predict`)

{block(predict_out)}

## Forecast, backtest and experiment readouts (`python -m bench.stats`)

{block(stats_out)}

## The HTTP API from Redis and from the DuckDB fallback (`python -m bench.api`)

{block(api_out)}
"""
        args.out.write_text(report)
        log(f"wrote {args.out}")
        tables = {
            "headline": headline(pipeline, marts, generator_out, serving_out, dags_out),
            "generator": generator_out,
            "generator_day_cost": day_cost_out,
            "realism": realism_out,
            "pipeline": pipeline_out,
            "marts": marts_out,
            "dags": dags_out,
            "serving": serving_out,
            "predict": predict_out,
            "stats": stats_out,
            "api": api_out,
        }
        path = args.baseline or BASELINES / f"{started:%Y-%m-%d}{'-quick' if args.quick else ''}.json"
        write_baseline(path, started, load_at_start, measured, args, tables, pipeline, marts)
        log(f"wrote {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
