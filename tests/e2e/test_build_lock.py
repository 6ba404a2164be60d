"""One build at a time, with two real `ecom build` processes on the same data dir: the second waits (saying for
whom) or, with --no-wait, refuses in one line; the first, passing build is never thrown away."""

from __future__ import annotations

import pytest

from tests.e2e.processes import build_state, start, wait_until_dbt_runs_nodes
from tests.support.ecom import ecom

pytestmark = pytest.mark.slow


def test_a_second_build_waits_or_refuses_and_the_first_one_stands(tmp_path):
    ecom("generate", "--scale", "tiny", "--start", "2025-09-01", "--end", "2025-09-03", data_dir=tmp_path)
    first = start("build", data_dir=tmp_path)
    wait_until_dbt_runs_nodes(first, tmp_path)
    first_id = build_state(tmp_path)["build_id"]

    refused = ecom("build", "--no-wait", data_dir=tmp_path, check=False)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert lines[-1].startswith("ecom: another build is running (pid ")
    assert f"(pid {first.pid}," in lines[-1]
    assert "Traceback" not in refused.stderr

    # Verbose: dbt's own output goes to the pipe, so the colour check below sees it.
    second = start("build", "--verbose", data_dir=tmp_path)
    _, first_err = first.communicate()
    _, second_err = second.communicate()

    assert first.returncode == 0, first_err[-3000:]
    assert f"build {first_id} passed" in first_err
    assert "not the current build" not in first_err + second_err
    assert second.returncode == 0, second_err[-3000:]
    assert f"waiting for the build running as pid {first.pid} to finish" in second_err
    assert "Traceback" not in second_err
    assert "Completed successfully" in second_err  # dbt's output, streamed...
    assert "\x1b[" not in second_err  # ...without colour codes into a pipe

    state = build_state(tmp_path)
    assert state["status"] == "passed" and state["build_id"] != first_id  # the second ran after the first
    assert ecom("publish", data_dir=tmp_path).returncode == 0


def test_an_airflow_refresh_and_an_ecom_build_take_turns(tmp_path, monkeypatch):
    """The refresh DAG's build tasks take the CLI's lock: a CLI build that ran between the refresh's start_build
    and its dbt task makes that task fail in one line instead of overwriting the newer build; the next refresh
    builds, passes and is recorded."""
    from pipeline.errors import PipelineFailed
    from pipeline.orchestration import tasks

    ecom("generate", "--scale", "tiny", "--start", "2025-09-01", "--end", "2025-09-02", data_dir=tmp_path)
    monkeypatch.setenv("ECOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ECOM_SCALE", "tiny")

    build = tasks.start_build()
    cli = start("build", data_dir=tmp_path)  # a CLI build, started right after the refresh's start_build
    assert cli.wait() == 0
    cli_state = build_state(tmp_path)
    assert cli_state["status"] == "passed" and cli_state["build_id"] != build["build_id"]
    with pytest.raises(PipelineFailed, match=r"another build \(.*\) started after this one"):
        tasks.run_build(build)
    assert build_state(tmp_path) == cli_state  # the newer, passing build stands

    build = tasks.start_build()
    result = tasks.run_build(build)
    assert result["passed"] and tasks.finish_build(build["build_id"], True)["status"] == "passed"
