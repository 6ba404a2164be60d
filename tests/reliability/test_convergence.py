"""Idempotency and order independence: re-runs and any day order give the same lake and the same marts."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.support.ecom import ecom
from tests.support.marts import lake_digest, published_marts

pytestmark = pytest.mark.slow  # tiny runs generated, built and published

START = dt.date(2025, 9, 1)
DAYS = [START + dt.timedelta(days=i) for i in range(8)]
END = DAYS[-1]


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    """The reference: the window generated in calendar order, built once, published."""
    data_dir = tmp_path_factory.mktemp("sequential")
    ecom("run", "--scale", "tiny", "--start", str(START), "--end", str(END), data_dir=data_dir)
    return data_dir, lake_digest(data_dir), published_marts(data_dir)


def test_rerunning_a_day_changes_nothing(sequential, tmp_path):
    data_dir, lake, marts = sequential
    day = str(DAYS[3])
    ecom("generate", "--scale", "tiny", "--start", day, "--end", day, data_dir=data_dir)
    ecom("build", data_dir=data_dir)
    ecom("publish", data_dir=data_dir)
    assert lake_digest(data_dir) == lake
    assert published_marts(data_dir) == marts


def test_random_day_order_with_a_build_after_each_day(sequential, tmp_path):
    """As an Airflow backfill in any order would do it: each day lands, then the marts refresh."""
    _, lake, marts = sequential
    order = DAYS.copy()
    random.Random(20251111).shuffle(order)
    # the first day has to be the opening day only for the lake to be contiguous at the end
    for day in order:
        ecom("generate", "--scale", "tiny", "--start", str(day), "--end", str(day), data_dir=tmp_path)
    ecom("build", data_dir=tmp_path)
    ecom("publish", data_dir=tmp_path)
    assert lake_digest(tmp_path) == lake
    assert published_marts(tmp_path) == marts


def test_incremental_builds_in_random_order_converge(sequential, tmp_path):
    _, _, marts = sequential
    order = DAYS.copy()
    random.Random(7).shuffle(order)
    first, rest = order[:4], order[4:]
    for day in first:
        ecom("generate", "--scale", "tiny", "--start", str(day), "--end", str(day), data_dir=tmp_path)
    ecom("build", data_dir=tmp_path, check=False)  # the lake has gaps here: tests may rightly fail
    for day in rest:
        ecom("generate", "--scale", "tiny", "--start", str(day), "--end", str(day), data_dir=tmp_path)
        ecom("build", data_dir=tmp_path, check=False)
    ecom("build", data_dir=tmp_path)
    ecom("publish", data_dir=tmp_path)
    assert published_marts(tmp_path) == marts
