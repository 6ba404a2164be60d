"""Day D's files are a pure function of (seed, config, D): order, workers and re-runs do not matter."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from generator.config import GeneratorConfig
from generator.lake import TABLES
from generator.run import date_range, generate_window

DAYS = date_range(dt.date(2025, 9, 1), dt.date(2025, 9, 6))


def digest(lake: Path) -> dict[str, str]:
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
    }


def test_same_bytes_across_order_workers_and_reruns(tmp_path):
    cfg = GeneratorConfig(scale="tiny", seed=7)
    quiet = lambda _line: None  # noqa: E731
    generate_window(cfg, tmp_path / "forward", DAYS, echo=quiet)
    generate_window(cfg, tmp_path / "backward", list(reversed(DAYS)), echo=quiet)
    generate_window(cfg, tmp_path / "parallel", DAYS, workers=2, echo=quiet)
    # one day alone, in a lake that has never seen the days before it
    generate_window(cfg, tmp_path / "alone", [DAYS[-1]], echo=quiet)

    forward = digest(tmp_path / "forward")
    assert len(forward) == len(TABLES) * len(DAYS)
    assert digest(tmp_path / "backward") == forward
    assert digest(tmp_path / "parallel") == forward
    alone = digest(tmp_path / "alone")
    assert alone and all(forward[k] == v for k, v in alone.items())

    generate_window(cfg, tmp_path / "forward", DAYS[2:4], echo=quiet)  # re-run replaces with identical files
    assert digest(tmp_path / "forward") == forward


def test_seed_changes_the_data(tmp_path):
    quiet = lambda _line: None  # noqa: E731
    generate_window(GeneratorConfig(scale="tiny", seed=1), tmp_path / "a", DAYS[:1], echo=quiet)
    generate_window(GeneratorConfig(scale="tiny", seed=2), tmp_path / "b", DAYS[:1], echo=quiet)
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a["user_events/dt=2025-09-01/part-0.parquet"] != b["user_events/dt=2025-09-01/part-0.parquet"]
