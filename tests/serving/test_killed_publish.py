"""A publish killed with SIGKILL at any point leaves the previous version served, whole and readable."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psycopg
import pytest

from pipeline.serve import published_duckdb
from tests.conftest import BIN, ecom
from tests.serving.synthetic import VERSION_QUERY, whole_version, write_build

pytestmark = pytest.mark.integration

SIZE = 40  # rows per version x40, so that a publish lasts long enough to be killed in the middle
DELAYS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)  # after the publish has visibly started


def start_and_kill(args: list[str], env: dict, started, delay: float) -> int:
    """Run `ecom *args`, wait until `started()` says the publish is under way, then SIGKILL it after `delay`."""
    proc = subprocess.Popen([str(BIN / "ecom"), *args], env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not started() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    return proc.wait()


def test_killed_duckdb_publish_leaves_the_previous_file(data_dir, bi_server):
    settings = bi_server.settings_for(data_dir)
    write_build(settings, 1, SIZE)
    ecom("publish", data_dir=data_dir)
    write_build(settings, 2, SIZE)
    warehouse = settings.warehouse_dir
    outcomes, previous = [], 1
    for delay in DELAYS:
        code = start_and_kill(
            ["publish"],
            {"ECOM_DATA_DIR": str(data_dir)},
            lambda: any(warehouse.glob(".ecommerce.duckdb.*")),
            delay,
        )
        with published_duckdb(settings) as con:
            served = whole_version(con.execute(VERSION_QUERY).fetchone(), SIZE)
        # Killed before the rename: the previous file; after it (or not killed at all): the new one.
        assert served == 2 if code == 0 else served in (previous, 2)
        outcomes.append((code, served))
        previous = served
    assert (-signal.SIGKILL, 1) in outcomes  # at least one kill landed in the middle of a publish
    ecom("publish", data_dir=data_dir)
    with published_duckdb(settings) as con:
        assert whole_version(con.execute(VERSION_QUERY).fetchone(), SIZE) == 2
    assert sorted(p.name for p in warehouse.iterdir() if p.name.startswith(".")) == []


def test_killed_postgres_publish_leaves_the_previous_version(data_dir, bi_server):
    settings = bi_server.settings_for(data_dir)
    env = bi_server.env_for(data_dir)
    write_build(settings, 1, SIZE)
    ecom("publish", data_dir=data_dir)
    ecom("serve", data_dir=data_dir, env=env)
    write_build(settings, 2, SIZE)
    ecom("publish", data_dir=data_dir)  # DuckDB now serves version 2; PostgreSQL still version 1
    admin = psycopg.connect(bi_server.admin_dsn, autocommit=True)

    def publishing() -> bool:
        return bool(
            admin.execute("select 1 from pg_stat_activity where application_name = 'ecom-publish'").fetchone()
        )

    outcomes = []
    try:
        for delay in DELAYS:
            code = start_and_kill(["serve"], env, publishing, delay)
            with psycopg.connect(bi_server.reader_url, autocommit=True) as con:
                served = whole_version(con.execute(VERSION_QUERY).fetchone(), SIZE)
            outcomes.append((code, served))
            if code == 0 or served == 2:
                break  # this one finished (or committed just before the kill); version 2 is served now
        assert outcomes[0] == (-signal.SIGKILL, 1)
        assert all(served == 1 for code, served in outcomes[:-1])
        ecom("serve", data_dir=data_dir, env=env)
        with psycopg.connect(bi_server.reader_url, autocommit=True) as con:
            assert whole_version(con.execute(VERSION_QUERY).fetchone(), SIZE) == 2
        with psycopg.connect(bi_server.admin_dsn.replace("dbname=postgres", "dbname=ecommerce")) as con:
            leftovers = con.execute(
                "select nspname from pg_namespace where nspname like 'marts\\_%' or nspname like 'ecom\\_meta\\_%'"
            ).fetchall()
        assert leftovers == []
        assert list((data_dir / "tmp").iterdir()) == []  # no export files of the killed publishes
    finally:
        admin.close()
