"""The shop next to real shops: each measure of a generated lake, our value, the target band and its source.

    .venv/bin/python -m bench.realism [--lake DIR] [--scale small] [--start 2025-09-01] [--end 2025-12-31]

Without `--lake` the window is generated into a temporary lake first (seed 42). The targets and their sources
are documented in generator/README.md (*Calibration*); a BG/NBD model fitted to the generated orders is printed
next to the published CDNOW fit. The measures and bands live in tests/support/realism.py,
which tests/generator/test_realism.py asserts at `small` scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from tests.support.realism import DEMO_END, DEMO_START, TARGETS, generate, measure

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee (2005), weeks


def table(values: dict[str, float], old: dict[str, float] | None = None) -> str:
    def fmt(x: float | None, percent: bool) -> str:
        if x is None:
            return "-"
        return f"{100 * x:.1f}%" if percent else f"{x:.2f}"

    head = "| measure | ours | target band | in band | source |"
    sep = "|---|---|---|---|---|"
    if old is not None:
        head = "| measure | before | ours | target band | in band | source |"
        sep = "|---|---|---|---|---|---|"
    lines = [head, sep]
    for t in TARGETS:
        value = values.get(t.key)
        ok = value is not None and t.low <= value <= t.high
        band = f"{fmt(t.low, t.percent)} - {fmt(t.high, t.percent)}"
        cells = [t.measure, fmt(value, t.percent), band, "yes" if ok else "NO", t.source]
        if old is not None:
            cells.insert(1, fmt(old.get(t.key), t.percent))
        lines.append("| " + " | ".join(cells) + " |")
    cohort = ", ".join(f"{100 * values[f'cohort_window_{k}']:.1f}%" for k in range(3))
    lines.append("")
    lines.append(f"first month's signups buying in days 0-29, 30-59, 60-89 after signup: {cohort}")
    if old is not None:
        before = ", ".join(f"{100 * old[f'cohort_window_{k}']:.1f}%" for k in range(3))
        lines.append(f"(before: {before})")
    lines.append("")
    lines.append("| BG/NBD on the generated orders (weeks) | r | alpha | a | b |")
    lines.append("|---|---|---|---|---|")
    if old is not None:
        lines.append(
            "| before | " + " | ".join(f"{old[f'bgnbd_{k}']:.3g}" for k in ("r", "alpha", "a", "b")) + " |"
        )
    lines.append(
        "| ours | " + " | ".join(f"{values[f'bgnbd_{k}']:.3g}" for k in ("r", "alpha", "a", "b")) + " |"
    )
    lines.append(
        "| CDNOW (Fader, Hardie & Lee 2005) | " + " | ".join(f"{v:.3g}" for v in CDNOW.values()) + " |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lake", type=Path, help="an existing lake (default: generate the window)")
    parser.add_argument("--scale", default="small")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=DEMO_START)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=DEMO_END)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", type=Path, help="another lake, shown in a 'before' column")
    args = parser.parse_args(argv)
    for lake in (args.lake, args.before):
        if lake is not None and not lake.is_dir():
            print(f"error: lake {lake} is not a directory", file=sys.stderr)
            return 2
    if args.lake is not None:
        values = measure(args.lake)
    else:
        with tempfile.TemporaryDirectory(prefix="ecom-realism-") as tmp:
            generate(Path(tmp) / "lake", args.scale, args.start, args.end, args.workers)
            values = measure(Path(tmp) / "lake")
    print(table(values, measure(args.before) if args.before else None))
    print(f"\nmeasured on {args.lake or f'a {args.scale} lake, {args.start}..{args.end}, seed 42'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
