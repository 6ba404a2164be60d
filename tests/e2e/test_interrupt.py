"""A build stopped during dbt, by Ctrl-C (SIGINT to the foreground process group, as a terminal sends it) or by
SIGKILL, is recorded or detected as interrupted: one line says so, `ecom status` and `ecom publish` report it as
interrupted (never as failing tests, never as `running` forever), and nothing of it is published."""

from __future__ import annotations

import json
import os
import signal

import pytest

from tests.e2e.processes import build_state, start, wait_for, wait_until_dbt_runs_nodes
from tests.support.ecom import ecom

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("lake")
    ecom("generate", "--scale", "tiny", "--start", "2025-09-01", "--end", "2025-09-02", data_dir=data_dir)
    return data_dir / "lake"


@pytest.fixture
def data_dir(lake, tmp_path):
    (tmp_path / "lake").symlink_to(lake, target_is_directory=True)
    return tmp_path


def assert_reported_interrupted(data_dir, build_id: str) -> None:
    report = json.loads(ecom("status", "--json", data_dir=data_dir).stdout)
    assert report["build"]["build_id"] == build_id
    assert report["build"]["status"] == "interrupted"
    text = ecom("status", data_dir=data_dir).stdout
    assert f"build      {build_id} interrupted" in text
    assert " running" not in text

    publish = ecom("publish", data_dir=data_dir, check=False)
    assert publish.returncode == 1
    (line,) = publish.stderr.strip().splitlines()
    assert f"refusing to publish build {build_id}: it was interrupted" in line
    assert "failing tests" not in line
    assert not (data_dir / "warehouse" / "ecommerce.duckdb").exists()


def test_ctrl_c_during_dbt(data_dir):
    proc = start("build", data_dir=data_dir)
    wait_until_dbt_runs_nodes(proc, data_dir)
    build_id = build_state(data_dir)["build_id"]
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    _, err = proc.communicate()

    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last == (
        f"ecom: build {build_id} was interrupted during dbt and recorded as interrupted; nothing was "
        "published (run `ecom build` again)"
    )
    assert build_state(data_dir)["status"] == "interrupted"  # recorded, not only detected
    assert_reported_interrupted(data_dir, build_id)


def test_killed_build_is_detected_as_interrupted(data_dir):
    proc = start("build", data_dir=data_dir)
    wait_until_dbt_runs_nodes(proc, data_dir)
    build_id = build_state(data_dir)["build_id"]
    dbt_pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == proc.pid]
    os.kill(proc.pid, signal.SIGKILL)  # no chance to record anything
    proc.communicate()

    assert build_state(data_dir)["status"] == "running"  # what the killed process left behind...
    assert_reported_interrupted(data_dir, build_id)  # ...is reported for what it is
    # dbt does not outlive the build that started it (it would hold build.duckdb open)
    wait_for(lambda: not any(_exists(p) for p in dbt_pids), what="dbt to exit after its parent was killed")


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
