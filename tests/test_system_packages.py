"""`make test` on a machine without Chromium, PostgreSQL, Redis or docker-compose: the tests that need them are skipped
with one line per package naming what to install, and CI (ECOM_REQUIRE_SYSTEM_TESTS=1) fails on the same line.

The machine is simulated: the lookups are pointed at paths that do not exist and PATH at an empty folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support.ecom import REPO

MODULES = [
    "tests/serving/test_dashboard.py",  # Chromium (one test also PostgreSQL)
    "tests/dbt/test_postgres_compile.py",  # PostgreSQL
    "tests/dags/test_compose.py",  # docker-compose
    "tests/spark/test_celery.py",  # Redis (first), then PostgreSQL
]
INSTALL = {
    "Chromium": "apt-get install chromium",
    "PostgreSQL server binaries": "apt-get install postgresql",
    "docker-compose": "apt-get install docker-compose",
    "redis-server": "apt-get install redis-server",
}


def run_without_packages(tmp_path, **extra_env: str) -> subprocess.CompletedProcess:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECOM_", "AIRFLOW"))}
    env |= {
        "PATH": str(empty),
        "ECOM_CHROMIUM": str(tmp_path / "no-such-chromium"),
        "ECOM_POSTGRES_BIN": str(tmp_path / "no-such-postgres"),
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", *MODULES, "-p", "no:cacheprovider", "--basetemp",
         str(tmp_path / "inner"), "-o", "console_output_style=classic"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_missing_packages_skip_with_one_line_each_and_build_nothing(tmp_path):
    proc = run_without_packages(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED [")]
    assert len(skipped) == len(INSTALL), skipped
    for what, command in INSTALL.items():
        assert sum(line.count(f"{what} not found") for line in skipped) == 1, (what, skipped)
        assert sum(line.count(command) for line in skipped) == 1, (command, skipped)
    last = proc.stdout.splitlines()[-1]
    assert "skipped" in last and not re.search(r"passed|failed|error", last), last
    # skipped before their other fixtures ran: the dashboard's tiny run was never generated
    assert not list((tmp_path / "inner").glob("tiny-run*"))


def test_ci_fails_instead_of_skipping(tmp_path):
    proc = run_without_packages(tmp_path, ECOM_REQUIRE_SYSTEM_TESTS="1")
    assert proc.returncode == 1, proc.stdout[-3000:]
    last = proc.stdout.splitlines()[-1]
    assert "skipped" not in last and "error" in last, last
    for command in INSTALL.values():
        assert command in proc.stdout
    assert "ECOM_REQUIRE_SYSTEM_TESTS=1 forbids skipping" in proc.stdout
