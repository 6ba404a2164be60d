"""The dbt project compiles against the `postgres` target: the SQL uses cross-database macros where DuckDB and
PostgreSQL differ. dbt compile needs a live connection (it introspects the database), so the test starts a
throwaway PostgreSQL 15 cluster on a free port and removes it afterwards."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline.build.dbt import dbt_executable
from pipeline.publish.postgres.cluster import ADMIN_ROLE, LocalCluster
from tests.support.ecom import REPO, free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def postgres(postgres_bin):
    """The project's own local cluster code (as `ecom serve` runs it) in a throwaway folder, on a free port."""
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="ecom-dbt-pg-", dir="/tmp"))
    os.chmod(root, 0o755)  # the postgres system user must traverse it
    cluster = LocalCluster(root / "postgres", free_port())
    password = secrets.token_urlsafe(16)
    try:
        cluster.ensure_running(password)
        dsn = f"host=127.0.0.1 port={cluster.port} user={ADMIN_ROLE} password={password} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute("create database ecommerce")
        yield cluster.port, password
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_project_compiles_against_postgres(postgres, tmp_path):
    port, password = postgres
    project = REPO / "dbt_project"
    env = {
        **os.environ,
        "ECOM_DBT_TARGET": "postgres",
        "ECOM_PG_PORT": str(port),
        "ECOM_PG_HOST": "127.0.0.1",
        "ECOM_PG_USER": ADMIN_ROLE,
        "ECOM_PG_PASSWORD": password,
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
