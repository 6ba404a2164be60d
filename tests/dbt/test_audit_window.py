"""The clickstream's key tests audit every day a build rebuilt (macros/audit_window.sql): on a first build that
is the whole lake, so a broken key on its oldest day stops the build like one on its newest."""

from __future__ import annotations

import datetime as dt
import os
import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from generator.lake import PART_FILE
from tests.support.ecom import ecom

pytestmark = pytest.mark.slow  # a tiny window generated and built

START, END = dt.date(2025, 9, 1), dt.date(2025, 9, 3)


def replay_one_event(lake, day: dt.date) -> None:
    """Write `day`'s first page view twice (as an at-least-once tracker would): two rows, one event_id."""
    part = lake / "user_events" / f"dt={day}" / PART_FILE
    events = pq.read_table(part)
    page_views = pc.indices_nonzero(pc.equal(pc.cast(events["event_type"], pa.string()), "page_view"))
    replayed = events.take(page_views[:1])
    assert replayed.num_rows == 1
    tmp = part.with_name(f".{PART_FILE}.tmp")
    pq.write_table(pa.concat_tables([events, replayed]), tmp)
    os.replace(tmp, part)


def test_a_duplicate_event_id_on_the_oldest_day_fails_a_first_build(tmp_path):
    ecom("generate", "--scale", "tiny", "--start", str(START), "--end", str(END), data_dir=tmp_path)
    replay_one_event(tmp_path / "lake", START)

    build = ecom(
        "build", data_dir=tmp_path, check=False
    )  # the first build: it rebuilds (and audits) every day
    assert build.returncode == 1, build.stderr[-3000:]
    summary = build.stderr[build.stderr.rfind("FAILED after") :]
    assert re.search(r"unique_in_audit_window_\w*user_events_event_id", summary), summary[-3000:]
