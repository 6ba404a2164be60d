"""The lake is contiguous from the opening date: what is missing, and the exact command that fills it.

A day is *missing* when no table has a partition for it (it was never generated): `ecom build` refuses before
dbt starts and names the command that fills it, and `ecom run` fills it itself. A day where only some tables
are present is a data-quality fault instead (e.g. the injected `missing_partition`): dbt's
`assert_no_missing_lake_partitions` test fails the build on it and names the table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shlex
import time
from pathlib import Path

from generator.lake import CORE_TABLES, MARKER, days_being_generated, days_present
from pipeline.errors import BadInput, GenerationInProgress
from pipeline.settings import Settings


def present_days(lake: Path) -> set[dt.date]:
    """Days with at least one core table's partition."""
    return set().union(*(days_present(lake, table) for table in CORE_TABLES))


def missing_days(settings: Settings, until: dt.date | None = None) -> list[dt.date]:
    """Days from the opening date to `until` (default: the lake's newest day) with no partition at all."""
    present = present_days(settings.lake_dir)
    last = until or (max(present) if present else None)
    if last is None:
        return []
    day, missing = settings.opening_date, []
    while day <= last:
        if day not in present:
            missing.append(day)
        day += dt.timedelta(days=1)
    return missing


def compact_ranges(days: list[dt.date]) -> str:
    """`2025-09-01..2025-09-30, 2025-10-05`: consecutive days as one range."""
    ranges: list[list[dt.date]] = []
    for day in sorted(days):
        if ranges and day - ranges[-1][1] == dt.timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return ", ".join(a.isoformat() if a == b else f"{a}..{b}" for a, b in ranges)


def _needs_data_dir_flag(settings: Settings) -> bool:
    """True when the environment alone would point `ecom` at another data dir (it was given as a flag)."""
    env = os.environ.get("ECOM_DATA_DIR", "").strip()
    implied = Path(env).expanduser().resolve() if env else Settings.model_fields["data_dir"].default
    return settings.data_dir != implied


def generate_command(settings: Settings, start: dt.date, end: dt.date) -> str:
    """The `ecom generate` that writes start..end into this lake (with the lake's own scale, seed, locale)."""
    identity = {"scale": settings.scale, "seed": settings.seed, "locale": settings.locale}
    with contextlib.suppress(OSError, json.JSONDecodeError):
        identity.update(json.loads((settings.lake_dir / MARKER).read_text()))
    words = ["ecom"]
    if _needs_data_dir_flag(settings):
        words += ["--data-dir", str(settings.data_dir)]
    words += ["generate", "--start", str(start), "--end", str(end)]
    words += ["--scale", str(identity["scale"]), "--seed", str(identity["seed"])]
    if identity.get("locale") and identity["locale"] != "en_US":
        words += ["--locale", str(identity["locale"])]
    if identity.get("market"):
        words += ["--market", str(identity["market"])]
    return shlex.join(words)


def check_lake_for_build(settings: Settings) -> None:
    """Refuse (one line, exit 2) an empty lake or one with days missing since the opening date."""
    present = present_days(settings.lake_dir)
    if not present:
        end = max(settings.end, settings.opening_date)
        raise BadInput(
            f"the lake is empty: run `{generate_command(settings, settings.opening_date, end)}`"
            f" (or `ecom run`) to fill {settings.lake_dir}"
        )
    missing = missing_days(settings)
    if missing:
        raise BadInput(
            f"the lake misses {len(missing)} day(s) between the opening date {settings.opening_date} and its "
            f"newest day {max(present)}: {compact_ranges(missing)}; fill them with "
            f"`{generate_command(settings, missing[0], missing[-1])}` (nothing was built)"
        )


def wait_for_generation(settings: Settings, echo=None, wait: bool = True, poll_seconds: float = 0.5) -> None:
    """Return once no day is being generated into the lake; with `wait=False`, refuse instead (one line)."""
    busy = days_being_generated(settings.lake_dir)
    if busy and not wait:
        raise GenerationInProgress(_generating_line(busy))
    if busy and echo:
        echo(f"waiting for the generation to finish: {_generating_line(busy)}")
    while busy:
        time.sleep(poll_seconds)
        busy = days_being_generated(settings.lake_dir)


def _generating_line(busy: dict[dt.date, str]) -> str:
    days = ", ".join(f"{day} ({who})" for day, who in busy.items())
    return f"{len(busy)} day(s) of the lake are still being generated: {days}"


def next_day(settings: Settings) -> dt.date:
    """The day after the lake's newest (present or being generated), or the opening date of an empty lake."""
    days = present_days(settings.lake_dir) | set(days_being_generated(settings.lake_dir))
    return max(days) + dt.timedelta(days=1) if days else settings.opening_date


def check_no_gap(settings: Settings, day: dt.date) -> None:
    """Refuse (one line, exit 2) to generate `day` when it would leave days missing before it."""
    following = next_day(settings)
    if day <= following:
        return
    gap = [following + dt.timedelta(days=n) for n in range((day - following).days)]
    newest = (
        f"ends on {following - dt.timedelta(days=1)}" if following > settings.opening_date else "is empty"
    )
    raise BadInput(
        f"generating {day} would leave a gap: the lake {newest}, so {len(gap)} day(s) would be missing "
        f"({compact_ranges(gap)}); fill them first with `{generate_command(settings, gap[0], gap[-1])}` or a "
        f"backfill of ecommerce_generate_daily from {gap[0]} to {gap[-1]}, or start from the lake's next day, "
        f"{following} (a triggered run with an empty `day` does); nothing was written"
    )
