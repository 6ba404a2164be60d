"""`generator.arrow.array` builds the arrays `pa.array` would, without pandas; and the parallel run's blocks."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from generator.arrow import array, string_scalar
from generator.config import GeneratorConfig
from generator.run import blocks_of
from tests.support.ecom import REPO

RNG = np.random.default_rng(3)
MASK = RNG.random(50) < 0.3

CASES = {
    "int64": (RNG.integers(-(2**40), 2**40, 50), None, None),
    "int64 to int32": (RNG.integers(0, 1000, 50), pa.int32(), None),
    "int32 with nulls": (RNG.integers(0, 9, 50).astype(np.int32), pa.int32(), MASK),
    "int64 with nulls": (RNG.integers(0, 9, 50), pa.int64(), MASK),
    "float64": (RNG.random(50), None, None),
    "float64 typed": (RNG.random(50), pa.float64(), None),
    "bool": (RNG.random(50) < 0.5, None, None),
    "bool, 13 values": (RNG.random(13) < 0.5, None, None),
    "int8": (RNG.integers(0, 5, 50).astype(np.int8), None, None),
    "date32 from int32": (RNG.integers(19_000, 21_000, 50).astype(np.int32), pa.date32(), None),
    "timestamp from int64": (RNG.integers(0, 2**50, 50), pa.timestamp("us"), None),
    "numpy strings": (np.array(["b", "a", "ü"]), pa.string(), None),
    "strings": (["control", "treatment", "", "ünïcode"], pa.string(), None),
    "strings inferred": (["a", "bb"], None, None),
    "strings with None": (["a", None, "c"], pa.string(), None),
    "all None strings": ([None, None], pa.string(), None),
    "floats": ([0.5, 1.0, 2.25], None, None),
    "floats with None": ([0.5, None, 2.0], None, None),
    "floats typed": ([0.5, 3.0], pa.float64(), None),
    "ints": ([1, 2, 3], None, None),
    "bools": ([True, False, True], None, None),
    "dates": ([dt.date(2025, 9, 1), dt.date(1969, 12, 31)], pa.date32(), None),
    "empty int64": (np.zeros(0, np.int64), None, None),
    "all None": ([None, None, None], None, None),
}


@pytest.mark.parametrize("name", CASES)
def test_array_is_what_pa_array_makes(name):
    values, type_, mask = CASES[name]
    ours = array(values, type_, mask=mask)
    theirs = pa.array(values, type_, mask=mask)
    assert ours.type == theirs.type
    assert ours.null_count == theirs.null_count
    assert ours.to_pylist() == theirs.to_pylist()


def test_array_refuses_what_pa_array_refuses():
    with pytest.raises(ValueError, match="do not fit"):
        array(np.array([2**40]), pa.int32())
    with pytest.raises(TypeError):
        array(np.array([1 + 2j]))
    assert string_scalar("@").as_py() == "@"


def test_generating_a_day_leaves_pandas_unloaded(tmp_path):
    """pyarrow imports pandas for every `pa.array`; the generator builds its arrays from buffers instead, so a
    generate process does not pay pandas' import (most of a short run's start-up)."""
    code = (
        "import sys, datetime as dt\n"
        "from pathlib import Path\n"
        "from generator.config import GeneratorConfig\n"
        "from generator.run import generate_window\n"
        f"lake = Path({str(tmp_path / 'lake')!r})\n"
        "for market, day in (('us', dt.date(2025, 11, 28)), ('kr', dt.date(2025, 12, 26))):  # sale days\n"
        "    generate_window(GeneratorConfig(scale='tiny', market=market), lake / market, [day], echo=print)\n"
        "print('pandas loaded' if 'pandas' in sys.modules else 'pandas not loaded')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "pandas not loaded"
    assert (tmp_path / "lake" / "kr" / "user_events" / "dt=2025-12-26" / "part-0.parquet").exists()


def test_parallel_blocks_are_contiguous_and_balanced():
    """Each worker takes one run of consecutive days (it re-derives nothing another worker made), and the runs
    carry about the same expected traffic although later days are busier."""
    from generator.calendar import day_shape

    cfg = GeneratorConfig(scale="medium")
    days = [cfg.opening_date + dt.timedelta(days=i) for i in range(365)]
    blocks = blocks_of(cfg, days, 2)
    assert [d for b in blocks for d in b] == days
    assert len(blocks) == 2 and len(blocks[0]) > len(blocks[1])  # the later half of the year is busier
    traffic = [sum(day_shape(d, cfg.opening_date, cfg.market).traffic_multiplier for d in b) for b in blocks]
    # a block closes on the first day that reaches its share, so it overshoots by at most one day's traffic
    # (a sale day is at most ~3x an ordinary one, ~1% of a half-year)
    assert abs(traffic[0] - traffic[1]) / sum(traffic) < 0.02
    assert blocks_of(cfg, days[:3], 8) == [[d] for d in days[:3]]
