"""Generate a window of days into the lake, one process per worker, with progress output."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from generator.config import GeneratorConfig
from generator.lake import generating, prepare_lake, write_day

PROGRESS_EVERY_SECONDS = 2.0


@dataclass(frozen=True)
class DayResult:
    day: dt.date
    rows: dict[str, int]


def generate_one(cfg: GeneratorConfig, lake: Path, day: dt.date) -> DayResult:
    """Generate `day` and write its partitions; safe to call again (the day is replaced whole)."""
    from generator.day import generate_day
    from generator.faults import apply_faults
    from generator.streams import stream

    with generating(Path(lake), day):  # a build about to start waits for this day (generator/lake.py)
        generated = generate_day(cfg, day)
        tables = generated.tables
        skip = apply_faults(tables, cfg.inject, stream(cfg, day, 99)) if cfg.inject else set()
        write_day(Path(lake), day, tables, skip)
    return DayResult(day, {k: (0 if k in skip else t.num_rows) for k, t in tables.items()})


def date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def generate_window(
    cfg: GeneratorConfig,
    lake: Path,
    days: Iterable[dt.date],
    workers: int = 1,
    echo: Callable[[str], None] | None = None,
) -> list[DayResult]:
    """Generate `days` (any order) and return one result per day, in calendar order."""
    echo = echo or (lambda line: print(line, file=sys.stderr, flush=True))
    days = sorted(set(days))
    for day in days:
        cfg.check_day(day)
    prepare_lake(Path(lake), cfg)
    started = last = time.perf_counter()
    results: list[DayResult] = []
    rows_done = 0

    def progress(result: DayResult, force: bool = False) -> None:
        nonlocal last, rows_done
        rows_done += sum(result.rows.values())
        now = time.perf_counter()
        if force or now - last >= PROGRESS_EVERY_SECONDS:
            rate = rows_done / max(now - started, 1e-9)
            echo(f"  generated {len(results)}/{len(days)} days (last {result.day}), {rate:,.0f} rows/s")
            last = now

    if workers <= 1 or len(days) == 1:
        for day in days:
            results.append(generate_one(cfg, lake, day))
            progress(results[-1])
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(generate_one, cfg, Path(lake), day) for day in days]
            for future in as_completed(futures):
                results.append(future.result())
                progress(results[-1])
    results.sort(key=lambda r: r.day)
    elapsed = time.perf_counter() - started
    totals = {k: sum(r.rows[k] for r in results) for k in results[0].rows} if results else {}
    echo(
        f"generated {len(days)} day(s) {days[0]}..{days[-1]} at scale {cfg.scale} in {elapsed:.1f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in totals.items() if k != "answer_key")
        + f" ({sum(totals.values()) / max(elapsed, 1e-9):,.0f} rows/s)"
    )
    return results
