"""One build path: `ecom build` and the refresh DAG's build tasks build and test the same nodes for the same
selector and record the same build.json; a failed build never changes what the next one starts from."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

import pytest

from generator.lake import TABLES, generating, link_days, partition_dir
from tests.e2e.processes import start
from tests.support.ecom import ecom
from tests.support.marts import published_marts

pytestmark = pytest.mark.slow

FIRST, LAST = dt.date(2025, 9, 1), dt.date(2025, 9, 3)
# Whatever differs between two builds of the same lake by design: when and by whom they ran.
RUN_FIELDS = {"build_id", "started_at", "finished_at", "seconds", "pid", "runner"}
SELECTORS = [
    "",  # the form's default: the whole project, source tests included
    "+dm_kpi_daily",  # a model and everything upstream of it
    "tag:daily",  # the day-grained marts
    "dm_no_such_model",  # selects nothing: refused, by both paths alike
]


def build_record(data_dir: Path) -> dict:
    state = json.loads((data_dir / "warehouse" / "build.json").read_text())
    return {k: v for k, v in state.items() if k not in RUN_FIELDS}


def nodes_run(data_dir: Path) -> set[str]:
    path = data_dir / "dbt" / "target" / "run_results.json"
    return {r["unique_id"] for r in json.loads(path.read_text())["results"]} if path.exists() else set()


def dag_build(data_dir: Path, select: str, monkeypatch) -> str:
    """The refresh DAG's build as its tasks run it (start_build, dbt_build, then the gate); the gate's outcome."""
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.errors import BadInput
    from pipeline.orchestration import tasks

    monkeypatch.setenv("ECOM_DATA_DIR", str(data_dir))
    build = tasks.start_build(select=select)
    try:
        result = tasks.run_build(build)
    except BadInput as exc:  # the build task fails; mark_failed runs
        with pytest.raises(AirflowFailException):
            tasks.finish_build(build["build_id"], passed=False)
        return f"refused: {exc}"
    if result["passed"]:
        return tasks.finish_build(build["build_id"], passed=True)["status"]
    with pytest.raises(AirflowFailException):
        tasks.finish_build(build["build_id"], passed=False)
    return "failed"


def test_ecom_build_and_the_refresh_build_the_same_nodes_for_every_selector(tmp_path, monkeypatch):
    cli_dir, dag_dir = tmp_path / "cli", tmp_path / "dag"
    ecom("generate", "--scale", "tiny", "--start", str(FIRST), "--end", str(LAST), data_dir=cli_dir)
    link_days(cli_dir / "lake", dag_dir / "lake", FIRST, LAST)  # the same bytes
    models = {}
    for select in SELECTORS:
        cli = ecom("build", *(["--select", select] if select else []), data_dir=cli_dir, check=False)
        outcome = dag_build(dag_dir, select, monkeypatch)
        context = f"selector {select!r}: ecom build exited {cli.returncode}, the DAG's build {outcome}"
        assert nodes_run(cli_dir) == nodes_run(dag_dir), context
        assert build_record(cli_dir) == build_record(dag_dir), context
        if select == "dm_no_such_model":
            assert cli.returncode == 2 and outcome.startswith("refused"), context
            line = cli.stderr.strip().splitlines()[-1]
            assert line.startswith("ecom: dbt selector 'dm_no_such_model' selects no node of the project")
            assert build_record(cli_dir)["status"] == "failed"
        else:
            assert cli.returncode == 0 and outcome == "passed", context + cli.stderr[-2000:]
        models[select] = {n for n in nodes_run(cli_dir) if n.startswith("model.")}
    # the selections really differ: the tag builds the day-grained marts only, `+` a model and its parents
    assert models["tag:daily"] == {
        "model.ecommerce.dm_kpi_daily",
        "model.ecommerce.dm_funnel_events",
        "model.ecommerce.dm_category_performance",
    }
    assert "model.ecommerce.dm_kpi_daily" in models["+dm_kpi_daily"] < models[""]
    assert "model.ecommerce.int_events_sessionized" in models["+dm_kpi_daily"]


def remove_day(data_dir: Path, day: dt.date) -> None:
    for table in TABLES:
        shutil.rmtree(partition_dir(data_dir / "lake", table, day), ignore_errors=True)


def clean_marts(tmp_path: Path, source: Path, last: dt.date) -> dict:
    """The marts a clean run over the same lake days gives: a new data dir, the same bytes, one build."""
    clean = tmp_path / f"clean-{last}"
    link_days(source / "lake", clean / "lake", FIRST, last)
    ecom("build", data_dir=clean)
    ecom("publish", data_dir=clean)
    return published_marts(clean)


def test_a_failed_build_leaves_nothing_for_the_next_one(tmp_path):
    """Inject a fault, fail, remove the day, build again: exactly the marts of a clean run. (The failed build had
    written the bad day's rows into the incremental models; the next build must not start from them. The fixed
    day is the refresh DAG's test, tests/dags/test_dags.py.)"""
    data_dir = tmp_path / "data"
    ecom("run", "--scale", "tiny", "--start", str(FIRST), "--end", str(LAST), data_dir=data_dir)
    bad = LAST + dt.timedelta(days=1)
    window = ["--scale", "tiny", "--start", str(bad), "--end", str(bad)]
    ecom("generate", *window, "--inject", "duplicate_keys", data_dir=data_dir)
    failed = ecom("build", data_dir=data_dir, check=False)
    assert failed.returncode == 1 and "source_unique_lake_orders_order_id" in failed.stderr
    assert json.loads((data_dir / "warehouse" / "rebuild_pending.json").read_text())["rebuild_from"] == str(
        bad
    )

    remove_day(data_dir, bad)
    rebuilt = ecom("build", data_dir=data_dir, check=False)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert not (data_dir / "warehouse" / "rebuild_pending.json").exists()  # a whole passing build clears it
    ecom("publish", data_dir=data_dir)
    assert published_marts(data_dir) == clean_marts(tmp_path, data_dir, LAST)


def test_a_build_waits_for_a_day_being_generated_and_the_refresh_skips(tmp_path, monkeypatch):
    """A day still being generated is never read half-written: `ecom build` waits for it (saying so), the
    refresh DAG's start_build skips in one line (the generation's run triggers the next refresh)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from pipeline.orchestration import tasks

    ecom("generate", "--scale", "tiny", "--start", str(FIRST), "--end", str(FIRST), data_dir=tmp_path)
    monkeypatch.setenv("ECOM_DATA_DIR", str(tmp_path))
    next_day = FIRST + dt.timedelta(days=1)
    with generating(tmp_path / "lake", next_day):  # this process generates the next day
        with pytest.raises(AirflowSkipException, match=rf"still being generated: {next_day} \(pid \d+\)"):
            tasks.start_build()
        build = start("build", data_dir=tmp_path)
        time.sleep(3)  # whatever the build does meanwhile, it cannot get past the claim
        assert build.poll() is None
        assert not (tmp_path / "warehouse" / "build.json").exists()
    _, err = build.communicate(timeout=900)
    assert build.returncode == 0, err[-3000:]
    assert (
        f"waiting for the generation to finish: 1 day(s) of the lake are still being generated: {next_day}"
        in err
    )
    assert json.loads((tmp_path / "warehouse" / "build.json").read_text())["status"] == "passed"
