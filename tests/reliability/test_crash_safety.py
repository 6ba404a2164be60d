"""Crash safety: SIGKILL generate, build and publish at random points, many times.

Every time, the published marts are the last good version and readable, and a re-run converges to the correct
result. The number of kills per phase is `ECOM_CRASH_ROUNDS` (default 4).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import signal
import subprocess
import time

import pytest

from tests.reliability.killing import Reader, kill_mid_write
from tests.support.ecom import BIN, ecom
from tests.support.marts import lake_digest, published_build_id, published_marts

pytestmark = pytest.mark.slow  # tiny runs generated, built and published

START, END = dt.date(2025, 9, 1), dt.date(2025, 9, 7)
ROUNDS = int(os.environ.get("ECOM_CRASH_ROUNDS", "4"))


def kill_after(args: list[str], data_dir, delay: float) -> int:
    """Start `ecom ARGS`, SIGKILL its whole process group after `delay` seconds; return its exit code."""
    proc = subprocess.Popen(
        [str(BIN / "ecom"), *args],
        env={**os.environ, "ECOM_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A published good version over the window, and its marts."""
    data_dir = tmp_path_factory.mktemp("good")
    ecom("run", "--scale", "tiny", "--start", str(START), "--end", str(END), data_dir=data_dir)
    return data_dir, lake_digest(data_dir), published_marts(data_dir), published_build_id(data_dir)


def test_killed_generation_leaves_no_partial_partition(good, tmp_path):
    _, lake, _, _ = good
    rng = random.Random(1)
    for _ in range(ROUNDS):
        kill_after(
            ["generate", "--scale", "tiny", "--start", str(START), "--end", str(END)],
            tmp_path,
            rng.uniform(0.3, 2.5),
        )
        partial = lake_digest(tmp_path)  # every visible file must be a whole, final file
        assert all(lake[name] == digest for name, digest in partial.items())
    ecom("generate", "--scale", "tiny", "--start", str(START), "--end", str(END), data_dir=tmp_path)
    assert lake_digest(tmp_path) == lake


def test_killed_build_is_never_published(good):
    """A build killed before dbt finished is refused by publish, and the last published build stays served. A
    kill can land after the build recorded its outcome (a tiny build is quick): that build passed, so it is
    published. Which of the two happened is read from what the build recorded, not guessed from the timing."""
    data_dir, _, marts, build_id = good
    rng = random.Random(2)
    served, interrupted = build_id, 0
    for round_number in range(ROUNDS):
        # Killed once dbt is writing its build database: at once in the first round (every model and test is
        # still to run), at a random point of the build after that.
        delay = 0.0 if round_number == 0 else rng.uniform(0.0, 6.0)
        _, started = kill_mid_write(
            ["build"], {"ECOM_DATA_DIR": str(data_dir)}, data_dir / "warehouse", delay
        )
        assert started
        assert published_marts(data_dir) == marts  # still served, still readable
        build = json.loads(ecom("status", "--json", data_dir=data_dir).stdout)["build"]
        publish = ecom("publish", data_dir=data_dir, check=False)
        if build["status"] == "passed":  # dbt finished, and its tests passed, before the kill landed
            assert publish.returncode == 0, publish.stderr
            served = build["build_id"]
        else:
            interrupted += 1
            assert build["status"] == "interrupted", build
            assert publish.returncode == 1
            assert "refusing to publish" in publish.stderr
        assert published_build_id(data_dir) == served
        assert published_marts(data_dir) == marts
    assert interrupted > 0  # the first round's kill, at least, landed mid-build
    ecom("build", data_dir=data_dir)
    ecom("publish", data_dir=data_dir)
    assert published_marts(data_dir) == marts


def test_killed_publish_never_shows_a_reader_a_missing_partial_or_unreadable_file(good):
    """Publishes killed while they write: an analyst reading the published path the whole time always finds
    the file, opens it and reads every mart whole (here old and new versions hold the same marts)."""
    data_dir, _, marts, _ = good
    ecom("build", data_dir=data_dir)
    env = {"ECOM_DATA_DIR": str(data_dir)}
    published = data_dir / "warehouse" / "ecommerce.duckdb"
    rng = random.Random(3)
    mid_write = 0
    with Reader(lambda: published_marts(data_dir) == marts) as reader:
        for round_number in range(ROUNDS * 2):
            if round_number % 2:  # the instant the published file changes: an in-place write dies half-way
                code, started = kill_mid_write(["publish"], env, published)
            else:  # at a random point while a new file fills up in the warehouse folder
                code, started = kill_mid_write(["publish"], env, published.parent, rng.uniform(0.0, 0.3))
                mid_write += code == -signal.SIGKILL and started
            assert started
            assert published_marts(data_dir) == marts
    assert reader.errors == [], reader.errors[:5]
    assert reader.seen and all(reader.seen)
    assert mid_write > 0  # some kills landed during the write, not before it started or after it ended
    ecom("publish", data_dir=data_dir)
    assert published_marts(data_dir) == marts
