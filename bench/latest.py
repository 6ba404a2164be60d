"""Print the tables of a baseline `make bench` wrote, with the machine and load they were measured on.

    .venv/bin/python -m bench.latest                    # the headline of the newest bench/baselines/*.json
    .venv/bin/python -m bench.latest marts serving      # those tables
    .venv/bin/python -m bench.latest all --file bench/baselines/2026-12-01.json

Table names: headline, generator, generator_day_cost, realism, pipeline, marts, dags, serving. The files are
plain JSON (`tables` holds each table as the benchmark printed it; `pipeline` and `marts` hold the raw seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BASELINES = Path(__file__).resolve().parent / "baselines"


def newest() -> Path | None:
    """The newest full run's file (a `--quick` run's only when there is nothing else)."""
    files = sorted(BASELINES.glob("*.json"))
    full = [f for f in files if not f.stem.endswith("-quick")]
    return (full or files or [None])[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tables", nargs="*", default=["headline"], help="table names, or `all`")
    parser.add_argument("--file", type=Path, help="a baseline file (default: the newest in bench/baselines/)")
    args = parser.parse_args(argv)
    path = args.file or newest()
    if path is None:
        print(f"no baseline in {BASELINES}: run `make bench` first", file=sys.stderr)
        return 2
    baseline = json.loads(path.read_text())
    machine = baseline["machine"]
    load = "/".join(f"{x:.1f}" for x in machine["load_average_at_end"])
    print(
        f"{path.name}: measured {baseline['started_at']} on {machine['cores']} cores, load average {load} "
        f"at the end, commit {baseline.get('commit') or 'unknown'}"
    )
    names = list(baseline["tables"]) if args.tables == ["all"] else args.tables
    unknown = [n for n in names if n not in baseline["tables"]]
    if unknown:
        print(
            f"no table {unknown[0]!r} in {path.name}: choose from {', '.join(baseline['tables'])}",
            file=sys.stderr,
        )
        return 2
    for name in names:
        print(f"\n## {name}\n\n{baseline['tables'][name]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
