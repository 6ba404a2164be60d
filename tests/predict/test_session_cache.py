"""The customer models' sessions, read through the per-day cache, are the clickstream's, day for day."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq

from pipeline.train.data import read_customer_frames
from tests.support.ecom import ecom

START, END = dt.date(2025, 9, 1), dt.date(2025, 9, 4)


def test_cached_sessions_equal_the_clickstream_and_follow_a_changed_day(tmp_path):
    ecom("generate", "--scale", "tiny", "--start", str(START), "--end", str(END), data_dir=tmp_path)
    lake, cache = tmp_path / "lake", tmp_path / "cache"

    plain = read_customer_frames(lake)
    assert len(plain.sessions) > 0
    pd.testing.assert_frame_equal(read_customer_frames(lake, cache=cache).sessions, plain.sessions)
    assert sorted(p.parent.name for p in cache.glob("dt=*/*.parquet")) == [
        f"dt={START + dt.timedelta(days=i)}" for i in range((END - START).days + 1)
    ]
    # a day capped by `until` is neither read nor cached
    until = END - dt.timedelta(days=1)
    pd.testing.assert_frame_equal(
        read_customer_frames(lake, until, cache=cache).sessions, read_customer_frames(lake, until).sessions
    )

    # the last day's clickstream replaced by other content (half its events, written anew as a re-generation
    # would): its sessions are read again, the other days' come from the cache untouched
    last = lake / "user_events" / f"dt={END}" / "part-0.parquet"
    kept = {p: p.stat().st_mtime_ns for p in cache.glob("dt=*/*.parquet") if p.parent.name != f"dt={END}"}
    events = pq.read_table(last)
    pq.write_table(events.slice(0, events.num_rows // 2), last)
    changed = read_customer_frames(lake, cache=cache).sessions
    pd.testing.assert_frame_equal(changed, read_customer_frames(lake).sessions)
    assert len(changed) < len(plain.sessions)
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert len(list((cache / f"dt={END}").glob("*.parquet"))) == 1  # the stale file is gone
