"""Readers never see a half-published or mixed version, and never block a publish (real DuckDB, real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import duckdb
import psycopg
import pytest

from pipeline.publish.postgres.publish import publish_postgres
from pipeline.publish.warehouse import publish
from pipeline.read import published_duckdb
from pipeline.settings import Settings
from tests.support.ecom import ecom
from tests.support.synthetic import VERSION_QUERY, build_id_of, whole_version, write_build

pytestmark = pytest.mark.integration

READERS = 20
PUBLISHES = 5
PAUSE = 0.01  # between a reader's queries: 40 busy loops on two cores would starve the publisher


def test_twenty_readers_each_see_one_whole_version_through_five_publishes(bi_server, data_dir):
    settings = bi_server.settings_for(data_dir)
    write_build(settings, 1)
    publish(settings)
    publish_postgres(settings)
    stop = threading.Event()
    errors: list[str] = []
    seen = {"postgres": Counter(), "duckdb": Counter()}
    lock = threading.Lock()

    def record(kind: str, row) -> None:
        version = whole_version(row)
        with lock:
            seen[kind][version] += 1

    def postgres_reader() -> None:
        try:  # one long-lived session per reader, as a BI tool holds it
            with psycopg.connect(bi_server.reader_url, autocommit=True) as con:
                while not stop.is_set():
                    record("postgres", con.execute(VERSION_QUERY).fetchone())
                    time.sleep(PAUSE)
        except BaseException as exc:
            errors.append(f"postgres reader: {exc!r}")

    def duckdb_reader() -> None:
        try:  # open, query, close per request, as the dashboard does
            while not stop.is_set():
                with published_duckdb(settings) as con:
                    record("duckdb", con.execute(VERSION_QUERY).fetchone())
                time.sleep(PAUSE)
        except BaseException as exc:
            errors.append(f"duckdb reader: {exc!r}")

    threads = [threading.Thread(target=postgres_reader) for _ in range(READERS)]
    threads += [threading.Thread(target=duckdb_reader) for _ in range(READERS)]
    for t in threads:
        t.start()
    try:
        for version in range(2, 2 + PUBLISHES):
            time.sleep(0.3)
            write_build(settings, version)
            publish(settings)
            result = publish_postgres(settings)
            assert result.build_id == build_id_of(version)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
    last = 1 + PUBLISHES
    for kind, versions in seen.items():
        assert sum(versions.values()) >= 2 * READERS, (kind, versions)
        assert len(versions) >= 3, (kind, versions)  # the reads really ran across publishes
        assert max(versions) == last, (kind, versions)
    with published_duckdb(settings) as con:
        assert whole_version(con.execute(VERSION_QUERY).fetchone()) == last
    with psycopg.connect(bi_server.reader_url) as con:
        assert whole_version(con.execute(VERSION_QUERY).fetchone()) == last


def test_a_duckdb_reader_holding_the_file_open_does_not_block_a_publish(data_dir):
    settings = Settings.load(data_dir=data_dir)
    write_build(settings, 1)
    ecom("publish", data_dir=data_dir)
    analyst = duckdb.connect(str(settings.publish_db), read_only=True)
    try:
        before = analyst.execute("select * from marts.dm_alpha order by alpha_id").fetchall()
        assert whole_version(analyst.execute(VERSION_QUERY).fetchone()) == 1
        write_build(settings, 2)
        ecom("publish", data_dir=data_dir)  # another process, while the file is open here
        assert whole_version(analyst.execute(VERSION_QUERY).fetchone()) == 1
        assert analyst.execute("select * from marts.dm_alpha order by alpha_id").fetchall() == before
        with published_duckdb(settings) as fresh:
            assert whole_version(fresh.execute(VERSION_QUERY).fetchone()) == 2
    finally:
        analyst.close()


def test_a_postgres_session_holding_the_marts_does_not_block_a_publish(bi_server, data_dir):
    """A BI session idle in a transaction: the publish goes ahead, the session switches to the new version at its
    next statement, and the old schemas it still holds are dropped by a later publish."""
    settings = bi_server.settings_for(data_dir)
    write_build(settings, 1)
    publish(settings)
    publish_postgres(settings)
    with psycopg.connect(bi_server.reader_url) as session:  # not autocommit: a transaction stays open
        assert whole_version(session.execute(VERSION_QUERY).fetchone()) == 1
        write_build(settings, 2)
        publish(settings)
        result = publish_postgres(settings)
        assert len(result.pending_drops) == 2  # the old marts and ecom_meta schemas, still read here
        assert whole_version(session.execute(VERSION_QUERY).fetchone()) == 2
        session.commit()
    write_build(settings, 3)
    publish(settings)
    assert publish_postgres(settings).pending_drops == []
