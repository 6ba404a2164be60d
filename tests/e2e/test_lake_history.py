"""The lake is contiguous from the opening date: `ecom build` refuses a lake with missing days before dbt starts
(naming them and the command that fills them), `ecom run` fills the missing history itself, and dbt's
`assert_no_missing_lake_partitions` catches any partition missing between the opening date and the newest day."""

from __future__ import annotations

import re
import shlex
import shutil

import duckdb
import pytest

from pipeline.build.dbt import run_dbt
from pipeline.settings import Settings
from tests.support.ecom import ecom

TINY = ("--scale", "tiny")


def generate(data_dir, start: str, end: str) -> None:
    ecom("generate", *TINY, "--start", start, "--end", end, data_dir=data_dir)


def one_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_build_on_an_empty_lake_says_so_in_one_line(tmp_path):
    proc = ecom("build", data_dir=tmp_path, check=False)
    assert proc.returncode == 2
    line = one_line(proc)
    assert line.startswith("ecom: the lake is empty: run `ecom generate --start 2025-09-01 --end ")
    assert not (tmp_path / "warehouse" / "build.json").exists()  # dbt never started


def test_build_refuses_a_lake_that_does_not_start_at_the_opening_date(tmp_path):
    generate(tmp_path, "2025-09-04", "2025-09-05")
    generate(tmp_path, "2025-09-08", "2025-09-08")
    proc = ecom("build", data_dir=tmp_path, check=False)
    assert proc.returncode == 2
    line = one_line(proc)
    assert "misses 5 day(s)" in line
    assert "2025-09-01..2025-09-03, 2025-09-06..2025-09-07" in line
    assert not (tmp_path / "warehouse" / "build.json").exists()  # refused before dbt started

    # The command it names is exact: run as printed, it fills every missing day.
    command = re.search(r"fill them with `([^`]+)`", line).group(1)
    words = shlex.split(command)
    assert words[:2] == ["ecom", "generate"] and "--scale" in words and "tiny" in words
    ecom(*words[1:], data_dir=tmp_path)
    status = ecom("status", "--json", data_dir=tmp_path).stdout
    assert '"gaps": []' in status
    assert '"first_day": "2025-09-01"' in status


def test_generate_of_a_later_range_warns_about_the_gap(tmp_path):
    proc = ecom("generate", *TINY, "--start", "2025-09-03", "--end", "2025-09-03", data_dir=tmp_path)
    note = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(note) == 1 and "2025-09-01..2025-09-02" in note[0], proc.stderr


@pytest.mark.slow
def test_run_fills_the_history_before_its_window(tmp_path):
    proc = ecom("run", *TINY, "--start", "2025-09-04", "--end", "2025-09-05", data_dir=tmp_path)
    err = proc.stderr
    assert "filling the lake's history first: 3 day(s) missing since the opening date 2025-09-01" in err
    assert "(2025-09-01..2025-09-03)" in err
    con = duckdb.connect(str(tmp_path / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        days = con.execute("select min(kpi_date), max(kpi_date), count(*) from marts.dm_kpi_daily").fetchone()
    finally:
        con.close()
    assert tuple(str(d) for d in days[:2]) == ("2025-09-01", "2025-09-05") and days[2] == 5

    # A compact progress view: dbt's output is in a log file whose path is printed, not on the terminal.
    log = tmp_path / "dbt" / "logs" / "build.log"
    assert f"dbt's log: {log}" in err
    assert "Completed successfully" in log.read_text()
    assert "Completed successfully" not in err
    assert len(err.splitlines()) < 40, err
    # Progress counts the build's nodes (the on-run-start/end hooks are not among them) and ends at the total.
    progress = [tuple(map(int, m)) for m in re.findall(r"dbt (\d+)/(\d+) nodes done", err)]
    assert progress and all(done <= total for done, total in progress), progress
    assert progress[-1][0] == progress[-1][1] > 100, progress
    for text in (err, log.read_text(), (tmp_path / "dbt" / "logs" / "dbt.log").read_text()):
        assert "\x1b[" not in text  # no ANSI colour codes in a file or a pipe


# ------------------------------------------------------------------ the dbt test on the lake's partitions


@pytest.fixture(scope="module")
def four_days(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("four-days")
    generate(data_dir, "2025-09-01", "2025-09-04")
    return data_dir


def remove(lake, table: str, day: str) -> None:
    shutil.rmtree(lake / table / f"dt={day}")


LAKE_TABLES = ("users", "products", "orders", "order_items", "user_events", "order_status_changes")
MISSING = {
    "complete": ([], 0),
    "a clickstream day (the injected fault)": ([("user_events", "2025-09-04")], 1),
    "a whole day before the newest": ([(t, "2025-09-02") for t in LAKE_TABLES], 6),
    "the opening day's orders": ([("orders", "2025-09-01")], 1),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(MISSING))
def test_missing_partition_test_catches_any_missing_day(four_days, tmp_path, case):
    data_dir = tmp_path / "data"
    shutil.copytree(four_days, data_dir)
    removed, expected_rows = MISSING[case]
    for table, day in removed:
        remove(data_dir / "lake", table, day)
    settings = Settings.load(data_dir=data_dir)
    outcome = run_dbt(settings, "test", "--select", "assert_no_missing_lake_partitions", quiet=True)
    if expected_rows == 0:
        assert outcome.success, outcome.describe_failures()
    else:
        assert not outcome.success
        (failure,) = outcome.failures
        assert failure.node.endswith("assert_no_missing_lake_partitions")
        assert failure.failures == expected_rows
