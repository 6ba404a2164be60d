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


def test_models_with_a_metric_that_is_not_a_number_are_shown(lake, tmp_path):
    """metrics.json writes a metric that is not a number as null: `ecom status` prints nan for it, never a
    traceback."""
    shutil.copytree(lake, tmp_path / "lake", copy_function=os.link)
    for name, metrics in {
        "churn": {"auc": None, "recency_baseline_auc": 0.6, "brier": 0.2, "calibration_gap": None},
        "clv": {"backtest": {"winner": "bgnbd", "bgnbd": {"spend_aggregate_error": None}}},
    }.items():
        folder = tmp_path / "models" / name / "v1"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps(metrics))
        (folder.parent / "current.json").write_text(json.dumps({"version": "v1"}))
    text = ecom("status", data_dir=tmp_path).stdout
    assert "churn    v1: held-out AUC nan (recency only 0.600), Brier 0.200, calibration gap nan" in text
    assert "clv      v1: publishes bgnbd (90-day spend off by +nan% in the backtest)" in text
