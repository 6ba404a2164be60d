"""`ecom status` tells a complete lake day from a partial one: a day counts only when every core table has it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import pytest

from generator.lake import CORE_TABLES
from tests.support.ecom import ecom

pytestmark = pytest.mark.slow  # generates a tiny lake

FIRST, PARTIAL, LAST = (dt.date(2025, 9, 1) + dt.timedelta(days=n) for n in range(3))


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("three-days")
    ecom("generate", "--scale", "tiny", "--start", str(FIRST), "--end", str(LAST), data_dir=data_dir)
    return data_dir / "lake"


def test_a_whole_lake_has_every_day_complete(lake, tmp_path):
    shutil.copytree(lake, tmp_path / "lake", copy_function=os.link)
    report = json.loads(ecom("status", "--json", data_dir=tmp_path).stdout)["lake"]
    assert (report["days"], report["gaps"], report["incomplete_days"]) == (3, [], {})


@pytest.mark.parametrize("table", CORE_TABLES)
def test_a_day_missing_one_core_table_is_partial_not_complete(lake, tmp_path, table):
    shutil.copytree(lake, tmp_path / "lake", copy_function=os.link)
    shutil.rmtree(tmp_path / "lake" / table / f"dt={PARTIAL}")  # by hand: the other tables keep the day

    report = json.loads(ecom("status", "--json", data_dir=tmp_path).stdout)["lake"]
    assert report["days"] == 2
    assert (report["first_day"], report["last_day"]) == (str(FIRST), str(LAST))
    assert report["gaps"] == [[str(PARTIAL), str(PARTIAL)]]
    assert report["incomplete_days"] == {str(PARTIAL): [table]}

    text = ecom("status", data_dir=tmp_path).stdout.splitlines()
    assert f"lake       2 complete day(s), {FIRST} .. {LAST}" in text
    assert f"  partial  {PARTIAL}: missing {table}" in text
