"""PostgreSQL serving: what BI tools see as `bi_reader`, and that `bi_reader` can change nothing."""

from __future__ import annotations

import json
import shutil
import socket

import duckdb
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from pipeline.records import PUBLISH_STATE
from pipeline.settings import Settings
from tests.support.ecom import ecom, free_port
from tests.support.synthetic import KEYS, build_id_of, write_build

pytestmark = pytest.mark.integration

EXPECTED_TYPE = {
    "BIGINT": pg.BIGINT,
    "INTEGER": pg.INTEGER,
    "DOUBLE": pg.DOUBLE_PRECISION,
    "BOOLEAN": pg.BOOLEAN,
    "DATE": pg.DATE,
    "TIMESTAMP": pg.TIMESTAMP,
    "VARCHAR": pg.TEXT,
}


def duckdb_marts(path):
    """Tables, columns (name, type, comment), table comments, keys and rows of a published DuckDB file."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{path}' as pub (read_only)")
        tables = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() where database_name = 'pub' "
                "and schema_name = 'marts'"
            ).fetchall()
        )
        columns = {
            t: con.execute(
                "select column_name, data_type, comment from duckdb_columns() where database_name = 'pub' "
                "and schema_name = 'marts' and table_name = ? order by column_index",
                [t],
            ).fetchall()
            for t in tables
        }
        keys: dict[str, list[str]] = {}
        for t, c in con.execute(
            "select table_name, column_name from pub.ecom_meta.mart_keys order by table_name, position"
        ).fetchall():
            keys.setdefault(t, []).append(c)
        rows = {t: con.execute(f"select * from pub.marts.{t}").fetchall() for t in tables}
    finally:
        con.close()
    return tables, columns, keys, rows


def check_what_bi_tools_see(reader_url: str, published_db) -> dict:
    tables, columns, keys, rows = duckdb_marts(published_db)
    engine = sa.create_engine(reader_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        insp = sa.inspect(engine)
        assert {"marts", "ecom_meta"} <= set(insp.get_schema_names())
        assert set(insp.get_table_names(schema="marts")) == set(tables)
        for table, comment in tables.items():
            assert insp.get_table_comment(table, schema="marts")["text"] == comment
            seen = insp.get_columns(table, schema="marts")
            assert [c["name"] for c in seen] == [name for name, _, _ in columns[table]]
            for col, (name, duck_type, duck_comment) in zip(seen, columns[table], strict=True):
                assert col["comment"] == duck_comment, (table, name)
                if duck_type.startswith("DECIMAL"):
                    precision, scale = (int(x) for x in duck_type[len("DECIMAL(") : -1].split(","))
                    assert isinstance(col["type"], pg.NUMERIC), (table, name, col["type"])
                    assert (col["type"].precision, col["type"].scale) == (precision, scale)
                else:
                    assert type(col["type"]) is EXPECTED_TYPE[duck_type], (table, name, col["type"])
                    if duck_type == "TIMESTAMP":
                        assert not col["type"].timezone
            pk = insp.get_pk_constraint(table, schema="marts")["constrained_columns"]
            assert pk == keys.get(table, []), table
        with engine.connect() as con:
            for table, expected in rows.items():
                served = [tuple(r) for r in con.execute(sa.text(f"select * from marts.{table}")).all()]
                assert sorted(served, key=repr) == sorted(expected, key=repr), table
    finally:
        engine.dispose()
    return keys


def test_bi_tools_see_the_synthetic_marts_exactly(bi_server, data_dir):
    """Every type, empty string vs null, quotes, composite keys, comments: what DuckDB holds, PostgreSQL serves."""
    settings = bi_server.settings_for(data_dir)
    write_build(settings, 3)
    ecom("publish", data_dir=data_dir)
    proc = ecom("serve", data_dir=data_dir, env=bi_server.env_for(data_dir))
    assert proc.stdout.strip() == bi_server.reader_url
    keys = check_what_bi_tools_see(bi_server.reader_url, settings.publish_db)
    assert keys == KEYS
    with psycopg.connect(bi_server.reader_url) as con:
        assert con.execute("select build_id from ecom_meta.publication").fetchall() == [(build_id_of(3),)]
        empty, null = con.execute(
            "select count(*) filter (where note = ''), count(*) filter (where note is null) from marts.dm_alpha"
        ).fetchone()
    assert empty > 0 and null > 0


def test_bi_tools_see_the_real_marts(tiny_run, bi_server, data_dir):
    """The marts dbt built: dbt's types, descriptions and keys reach PostgreSQL."""
    (data_dir / "warehouse").mkdir()
    for name in ("ecommerce.duckdb", PUBLISH_STATE):
        shutil.copy2(tiny_run / "warehouse" / name, data_dir / "warehouse" / name)
    ecom("serve", data_dir=data_dir, env=bi_server.env_for(data_dir))
    check_what_bi_tools_see(bi_server.reader_url, data_dir / "warehouse" / "ecommerce.duckdb")


FORBIDDEN = [
    "create table marts.x (a int)",
    "create table public.x (a int)",
    "create schema x",
    "create temp table x (a int)",
    "create view marts.v as select 1",
    "insert into marts.dm_beta (channel) values ('x')",
    "update marts.dm_beta set channel = 'x'",
    "delete from marts.dm_beta",
    "truncate marts.dm_beta",
    "alter table marts.dm_beta add column y int",
    "drop table marts.dm_beta",
    "drop schema marts cascade",
    "alter role bi_reader createdb",
    "create role y",
    "create database y",
]


@pytest.mark.parametrize("unlock", [False, True], ids=["as-is", "read-only-switched-off"])
def test_bi_reader_cannot_change_anything(bi_server, data_dir, unlock):
    settings = bi_server.settings_for(data_dir)
    write_build(settings, 4)
    ecom("publish", data_dir=data_dir)
    ecom("serve", data_dir=data_dir, env=bi_server.env_for(data_dir))
    for statement in FORBIDDEN:
        with psycopg.connect(bi_server.reader_url, autocommit=True) as con:
            if unlock:  # privileges, not only the read-only default, must stop it
                con.execute("set default_transaction_read_only = off")
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
                con.execute(statement)
    with psycopg.connect(bi_server.reader_url) as con:
        assert con.execute("select count(*) from marts.dm_beta").fetchone()[0] > 0


def test_serving_again_republishes_and_drops_the_old_version(bi_server):
    settings = bi_server.settings_for(bi_server.data_dir)
    write_build(settings, 5)
    ecom("publish", data_dir=bi_server.data_dir)
    proc = ecom("serve", data_dir=bi_server.data_dir, env={"ECOM_BI_PORT": str(bi_server.port)})
    assert "reusing the local PostgreSQL server" in proc.stderr
    assert proc.stdout.strip() == bi_server.reader_url
    with psycopg.connect(bi_server.admin_dsn.replace("dbname=postgres", "dbname=ecommerce")) as con:
        assert con.execute("select build_id from ecom_meta.publication").fetchall() == [(build_id_of(5),)]
        leftovers = con.execute(
            "select nspname from pg_namespace where nspname like '%\\_old\\_%' or nspname like '%\\_staging\\_%'"
        ).fetchall()
    assert leftovers == []
    report = json.loads(
        ecom(
            "status", "--json", data_dir=bi_server.data_dir, env={"ECOM_BI_PORT": str(bi_server.port)}
        ).stdout
    )
    assert report["bi"]["published"]["build_id"] == build_id_of(5)
    assert report["bi"]["server"] == f"running on 127.0.0.1:{bi_server.port}"


@pytest.mark.usefixtures("postgres_bin")
def test_serve_lifecycle_and_its_one_line_errors(data_dir):
    port = free_port()
    env = {"ECOM_BI_PORT": str(port)}
    proc = ecom("serve", data_dir=data_dir, env=env, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "no published marts yet" in proc.stderr
    assert not (data_dir / "postgres").exists()

    bi_settings = Settings.load(data_dir=data_dir)
    write_build(bi_settings, 1)
    ecom("publish", data_dir=data_dir)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        proc = ecom("serve", data_dir=data_dir, env=env, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"ecom: port {port} on 127.0.0.1 is in use by another program; set ECOM_BI_PORT to a free port"
    )
    assert not (data_dir / "postgres").exists()

    try:
        proc = ecom("serve", data_dir=data_dir, env=env)
        assert "started the local PostgreSQL server" in proc.stderr
        url = proc.stdout.strip()
        with psycopg.connect(url) as con:
            assert con.execute("select build_id from ecom_meta.publication").fetchone() == (build_id_of(1),)
        secret = bi_settings.secrets_dir / "bi_reader.password"
        assert secret.stat().st_mode & 0o777 == 0o600
        assert secret.read_text().strip() in url
    finally:
        proc = ecom("serve", "--stop", data_dir=data_dir, env=env)
    assert "stopped the local PostgreSQL server" in proc.stderr
    assert "is not running" in ecom("serve", "--stop", data_dir=data_dir, env=env).stderr
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3).close()


def test_the_refresh_task_publishes_only_when_postgres_is_configured(bi_server, data_dir, monkeypatch):
    from pipeline.orchestration.tasks import publish_bi

    write_build(Settings.load(data_dir=data_dir), 6)
    ecom("publish", data_dir=data_dir)
    monkeypatch.setenv("ECOM_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ECOM_BI_PORT", str(free_port()))  # no local server there
    assert publish_bi()["published"] is False
    assert not (data_dir / "postgres").exists()
    for name, value in bi_server.env_for(data_dir).items():
        monkeypatch.setenv(name, value)
    result = publish_bi()
    assert (result["published"], result["build_id"]) == (True, build_id_of(6))
    with psycopg.connect(bi_server.reader_url) as con:
        assert con.execute("select build_id from ecom_meta.publication").fetchone() == (build_id_of(6),)
