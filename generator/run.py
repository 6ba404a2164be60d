"""Generate a window of days into the lake, one process per worker, with progress output."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
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
        for result in _generate_parallel(cfg, Path(lake), days, workers):
            results.append(result)
            progress(result)
    results.sort(key=lambda r: r.day)
    elapsed = time.perf_counter() - started
    totals = {k: sum(r.rows[k] for r in results) for k in results[0].rows} if results else {}
    echo(
        f"generated {len(days)} day(s) {days[0]}..{days[-1]} at scale {cfg.scale} in {elapsed:.1f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in totals.items() if k != "answer_key")
        + f" ({sum(totals.values()) / max(elapsed, 1e-9):,.0f} rows/s)"
    )
    return results


# --- parallel runs --------------------------------------------------------------------------------------------
#
# Each worker takes one contiguous block of days, in calendar order: a day re-derives the session plans of the
# 30 days before it (the late status changes) and the user counts since the opening, which a worker has in
# its caches when it made those days itself; days dealt out one by one would make every worker re-derive
# every other day's plan. The blocks are cut by the calendar's expected sessions, so later (busier) days do
# not leave one worker running alone at the end. The workers are forked after the parent imported the day's
# modules and built the pools every day uses (the Faker vocabulary, the market's places), so they start warm.

_progress = None  # a worker's channel back to the parent, set per worker


def _set_progress(channel) -> None:
    global _progress
    _progress = channel


def _generate_block(cfg: GeneratorConfig, lake: Path, block: list[dt.date]) -> None:
    for day in block:
        _progress.put(generate_one(cfg, lake, day))


def blocks_of(cfg: GeneratorConfig, days: list[dt.date], n: int) -> list[list[dt.date]]:
    """`days` (sorted) cut into at most `n` contiguous blocks of about equal expected sessions."""
    from generator.calendar import day_shape

    weights = [day_shape(d, cfg.opening_date, cfg.market).traffic_multiplier for d in days]
    total, blocks, block, done = sum(weights), [], [], 0.0
    for day, weight in zip(days, weights, strict=True):
        block.append(day)
        done += weight
        if done >= total * (len(blocks) + 1) / n and len(blocks) < n - 1:
            blocks.append(block)
            block = []
    return [b for b in [*blocks, block] if b]


def _warm(cfg: GeneratorConfig) -> None:
    """What every day needs and a forked worker can inherit: the day's modules and the shared pools."""
    import generator.day  # noqa: F401  (the imports: numpy, pyarrow and everything a day uses)
    from generator.places import market_places
    from generator.vocab import vocabulary

    vocabulary(cfg.seed, cfg.locale)
    market_places(cfg.market)


def _generate_parallel(
    cfg: GeneratorConfig, lake: Path, days: list[dt.date], workers: int
) -> Iterator[DayResult]:
    """Yield one result per day as the workers finish them (any order); a worker's error is raised here."""
    blocks = blocks_of(cfg, days, workers)
    _warm(cfg)
    context = multiprocessing.get_context("fork")  # the workers inherit the warm modules and pools
    channel = context.Queue()
    with ProcessPoolExecutor(
        max_workers=len(blocks), mp_context=context, initializer=_set_progress, initargs=(channel,)
    ) as pool:
        futures = [pool.submit(_generate_block, cfg, lake, block) for block in blocks]
        received = 0
        while received < len(days):
            try:
                yield channel.get(timeout=0.2)
                received += 1
            except queue.Empty:
                for future in futures:
                    if future.done():
                        future.result()  # raises a worker's error (or a killed worker's BrokenProcessPool)
        for future in futures:
            future.result()
