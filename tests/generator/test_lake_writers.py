"""Several writers of one lake at once: the first unpause of the generation DAG starts several days together on
a lake that does not exist yet, and a build may start while a day is being written."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from generator.config import GeneratorConfig
from generator.lake import (
    MARKER,
    days_being_generated,
    days_present,
    generating,
    lake_lock,
    prepare_lake,
    write_day,
)

DAY = dt.date(2025, 9, 1)


def _prepare_then_write(lake: str, start, errors) -> None:
    start.wait()
    try:
        prepare_lake(Path(lake), GeneratorConfig(scale="tiny"))
        write_day(Path(lake), DAY, {"users": pa.table({"user_id": [1, 2]})})
    except Exception as exc:  # reported to the test, which names it
        errors.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("round_", range(5))
def test_processes_preparing_a_new_lake_together_all_succeed(tmp_path, round_):
    """Eight processes released at once on a lake that does not exist: none refuses it as foreign (the marker is
    created atomically, and a writer's files do not make the lake foreign to the others)."""
    context = multiprocessing.get_context("fork")
    start, errors = context.Barrier(8), context.Queue()
    lake = tmp_path / "lake"
    workers = [context.Process(target=_prepare_then_write, args=(str(lake), start, errors)) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []
    assert (lake / MARKER).exists() and days_present(lake, "users") == [DAY]
    assert [p.name for p in lake.iterdir() if p.name.startswith(f".{MARKER}")] == []  # no temp file left


def test_a_foreign_folder_is_still_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a lake")
    with pytest.raises(ValueError, match="is not empty and was not made by ecom"):
        prepare_lake(tmp_path, GeneratorConfig(scale="tiny"))


def test_a_day_lands_only_after_the_build_reading_the_lake(tmp_path):
    """While a build holds the lake exclusively (dbt reads it), a writer's day does not land; it lands after."""
    prepare_lake(tmp_path, GeneratorConfig(scale="tiny"))
    writer = threading.Thread(
        target=write_day, args=(tmp_path, DAY, {"users": pa.table({"user_id": [1]})}), daemon=True
    )
    with lake_lock(tmp_path, exclusive=True):
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive() and days_present(tmp_path, "users") == []
    writer.join(timeout=30)
    assert not writer.is_alive() and days_present(tmp_path, "users") == [DAY]


def test_a_day_being_generated_is_claimed_until_done_and_a_dead_claim_is_dropped(tmp_path):
    with generating(tmp_path, DAY):
        (claimed,) = days_being_generated(tmp_path).items()
        assert claimed[0] == DAY and claimed[1].startswith("pid ")
    assert days_being_generated(tmp_path) == {}

    dead = multiprocessing.get_context("fork").Process(target=lambda: None)
    dead.start()
    dead.join()
    with generating(tmp_path, DAY):
        claim = next((tmp_path / ".generating").iterdir())
    stale = claim.with_name(claim.name.rsplit(".", 1)[0] + f".{dead.pid}")
    stale.touch()  # a writer that died (SIGKILL) without removing its claim
    assert days_being_generated(tmp_path) == {} and not stale.exists()
