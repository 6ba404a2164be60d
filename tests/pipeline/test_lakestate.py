"""The earliest changed lake day, from file signatures."""

from __future__ import annotations

import datetime as dt
import os

from generator.config import GeneratorConfig
from generator.run import date_range, generate_window
from pipeline.lake.changes import earliest_change, lake_signature


def test_earliest_change_follows_the_files(tmp_path):
    cfg = GeneratorConfig(scale="tiny")
    days = date_range(dt.date(2025, 9, 1), dt.date(2025, 9, 4))
    generate_window(cfg, tmp_path, days[:2] + days[3:], echo=lambda _: None)
    before = lake_signature(tmp_path)
    assert earliest_change(before, before) is None
    assert earliest_change(before, None) == days[0]

    generate_window(cfg, tmp_path, [days[2]], echo=lambda _: None)  # a backfilled day
    assert earliest_change(lake_signature(tmp_path), before) == days[2]

    older = tmp_path / "orders" / f"dt={days[1]}" / "part-0.parquet"
    os.utime(older, ns=(older.stat().st_atime_ns, older.stat().st_mtime_ns + 1))  # a rewritten day
    assert earliest_change(lake_signature(tmp_path), before) == days[1]

    removed = dict(before)
    removed.pop(f"users/dt={days[0]}")
    assert earliest_change(removed, before) == days[0]
