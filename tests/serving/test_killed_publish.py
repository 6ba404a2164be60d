"""A publish killed with SIGKILL at any point leaves the previous version served, whole and readable."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import psycopg
import pytest

from pipeline.read import published_duckdb
from pipeline.settings import Settings
from tests.reliability.killing import Reader, kill_mid_write
from tests.support.ecom import BIN, ecom
from tests.support.synthetic import VERSION_QUERY, whole_version, write_build

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


def test_killed_duckdb_publish_never_shows_a_reader_a_missing_partial_or_locked_file(data_dir):
    """While publishes of version 2 are SIGKILLed part-way through writing, a reader opening the published
    path over and over always finds it, can open it, and sees one whole version; after each kill it serves
    the previous version or the new one, whole."""
    settings = Settings.load(data_dir=data_dir)
    write_build(settings, 1, SIZE)
    ecom("publish", data_dir=data_dir)
    write_build(settings, 2, SIZE)

    def read() -> int:
        with published_duckdb(settings) as con:
            return whole_version(con.execute(VERSION_QUERY).fetchone(), SIZE)

    env = {"ECOM_DATA_DIR": str(data_dir)}
    outcomes = []
    with Reader(read) as reader:
        # Killed while a new file fills up in the warehouse folder, at several points of the write...
        for delay in DELAYS:
            code, started = kill_mid_write(["publish"], env, settings.warehouse_dir, delay)
            served = read()
            assert served == 2 if code == 0 else served in (1, 2)
            outcomes.append((code, started, served))
        # ... and the instant the published file itself changes (a publish writing in place dies half-way).
        for _ in range(3):
            write_build(settings, 1, SIZE)  # alternate versions, so that every publish changes the file
            ecom("publish", data_dir=data_dir)
            write_build(settings, 2, SIZE)
            code, started = kill_mid_write(["publish"], env, settings.publish_db)
            assert started
            assert read() in (1, 2)
    assert reader.errors == [], reader.errors[:5]
    assert set(reader.seen) <= {1, 2} and len(reader.seen) > 20
    # At least one kill landed while the new version was being written, and the previous one stayed served.
    assert (-signal.SIGKILL, True, 1) in outcomes, outcomes
    ecom("publish", data_dir=data_dir)
    assert read() == 2


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
