"""The refresh's scoring step on a real lake: it trains what is missing, scores deterministically, retrains a
corrupted artifact, and a failing training leaves the previous artifact in use."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipeline.errors import PipelineFailed
from pipeline.settings import Settings
from pipeline.train import current_version, model_dir, train
from pipeline.train.models import TRAINERS
from pipeline.train.score import refresh_scores, scores_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(future_lake, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("refresh")
    (data_dir / "lake").symlink_to(future_lake.lake)
    settings = Settings.load(data_dir=data_dir)
    lines: list[str] = []
    rows = refresh_scores(settings, echo=lines.append)
    return settings, rows, lines


def test_the_first_refresh_trains_every_model_and_scores_the_last_day(scored):
    settings, rows, lines = scored
    assert all(rows[t] > 0 for t in rows), rows
    assert [line.split(" as of")[0] for line in lines] == ["trained churn", "trained clv", "trained clusters"]
    con = duckdb.connect()
    dates = con.sql(
        f"select distinct scored_at from read_parquet('{scores_dir(settings)}/customer_churn.parquet') order by 1"
    ).fetchall()
    versions = con.sql(
        f"select distinct model_version from read_parquet('{scores_dir(settings)}/customer_churn.parquet')"
    ).fetchall()
    # the lake's last day, and the horizon before it (whose label the lake observes)
    assert [d for (d,) in dates] == [dt.date(2026, 3, 31), dt.date(2026, 6, 29)]
    assert versions == [(current_version(settings, "churn"),)]
    assert current_version(settings, "churn").startswith("2026-06-29-")


def test_scores_are_byte_identical_and_a_corrupted_artifact_is_retrained(scored):
    settings, _, _ = scored
    before = {p.name: p.read_bytes() for p in scores_dir(settings).glob("*.parquet")}
    version = current_version(settings, "clusters")
    pickle_file = model_dir(settings, "clusters") / version / "model.pkl"
    pickle_file.write_bytes(pickle_file.read_bytes()[:-10])
    lines: list[str] = []
    refresh_scores(settings, echo=lines.append)
    assert any("does not match the SHA-256" in line and "retraining clusters" in line for line in lines), (
        lines
    )
    assert current_version(settings, "clusters") == version  # the same inputs: the same version, repaired
    after = {p.name: p.read_bytes() for p in scores_dir(settings).glob("*.parquet")}
    assert after == before


def test_a_failing_training_keeps_the_previous_artifact(scored, monkeypatch):
    settings, _, _ = scored
    previous = current_version(settings, "churn")

    def broken(*args, **kwargs):
        raise ValueError("labels of one class only\nsecond line")

    monkeypatch.setitem(TRAINERS, "churn", broken)  # a fault injected into the one trainer
    lines: list[str] = []
    with pytest.raises(PipelineFailed, match="churn: labels of one class only"):
        train(settings, as_of=dt.date(2026, 5, 1), models=("churn",), echo=lines.append)
    assert lines == [
        f"training churn as of 2026-05-01 FAILED: labels of one class only; {previous} stays in use"
    ]
    assert current_version(settings, "churn") == previous
    assert sorted(p.name for p in model_dir(settings, "churn").iterdir()) == [previous, "current.json"]
