"""The dbt project compiles against the `postgres` target: the SQL uses cross-database macros where DuckDB and
PostgreSQL differ. dbt compile needs a live connection (it introspects the database), so the test starts a
throwaway PostgreSQL 15 cluster on a free port and removes it afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline.dbt import dbt_executable
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@pytest.fixture(scope="module")
def postgres_port(postgres_bin):
    root = Path(tempfile.mkdtemp(prefix="ecom-dbt-pg-", dir="/tmp"))
    pgdata = root / "pgdata"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = free_port()
    run = lambda *cmd: subprocess.run(as_postgres(*cmd), check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(str(postgres_bin / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        run(
            str(postgres_bin / "pg_ctl"), "-D", str(pgdata), "-l", str(root / "log"), "-w", "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start",
        )  # fmt: skip
        run(str(postgres_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "ecommerce")
        yield port
    finally:
        subprocess.run(as_postgres(str(postgres_bin / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"),
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def test_project_compiles_against_postgres(postgres_port, tmp_path):
    project = REPO / "dbt_project"
    env = {
        **os.environ,
        "ECOM_DBT_TARGET": "postgres",
        "ECOM_PG_PORT": str(postgres_port),
        "ECOM_PG_HOST": "127.0.0.1",
        "ECOM_PG_USER": "postgres",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [dbt_executable(), "compile", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    compiled = tmp_path / "target" / "compiled" / "ecommerce" / "models"
    cohort = (compiled / "marts" / "dm_cohort_retention.sql").read_text()
    # PostgreSQL's spelling of the month difference and month arithmetic, not DuckDB's date_diff.
    assert "date_diff(" not in cohort
    assert "date_part('year'" in cohort or "extract(year" in cohort.lower()
