"""Write-audit-publish: dbt builds and tests in build.duckdb; only a passing build replaces the published file.

The published file `ecommerce.duckdb` is written under a temporary name and renamed over the old one, so a
reader holding the old file keeps reading it, new readers see the new one, and a crash at any point leaves the
previous version in place. It is written with an older storage version so that older readers can open it.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.build.lock import build_lock
from pipeline.build.state import _now, build_state
from pipeline.errors import PublishRefused
from pipeline.read import MART_SCHEMA, META_SCHEMA
from pipeline.records import PUBLISH_STATE, read_json, write_json_atomic
from pipeline.settings import Settings

PUBLISH_STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class PublishResult:
    build_id: str
    path: Path
    tables: dict[str, int]
    seconds: float


def publish(settings: Settings, echo: Callable[[str], None] | None = None) -> PublishResult:
    """Copy the marts of a passing build into a new file and atomically replace the published one.

    Holds the build lock, so it never reads a build that another process is writing.
    """
    with build_lock(settings, echo=echo):
        return _publish(settings)


def _publish(settings: Settings) -> PublishResult:
    import duckdb

    state = build_state(settings)
    if state is None or not settings.build_db.exists():
        raise PublishRefused(
            f"nothing to publish: no build in {settings.warehouse_dir} (run `ecom build` first)"
        )
    if state.get("status") == "interrupted":
        raise PublishRefused(
            f"refusing to publish build {state.get('build_id')}: it was interrupted before dbt finished "
            f"({state.get('interrupted_because') or 'Ctrl-C or a signal'}); run `ecom build` again"
        )
    if state.get("status") == "running":
        raise PublishRefused(
            f"refusing to publish build {state.get('build_id')}: it is still running (wait for it to finish)"
        )
    if state.get("status") != "passed":
        raise PublishRefused(
            f"refusing to publish build {state.get('build_id')}: its status is {state.get('status')!r}, "
            "not 'passed' (fix the failing tests and run `ecom build` again)"
        )
    started = time.perf_counter()
    target = settings.publish_db
    # A publish killed earlier leaves its temporary file behind; publishes are serialized, so it is garbage.
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    tables: dict[str, int] = {}
    try:
        con = duckdb.connect()
        try:
            con.execute(f"attach '{settings.build_db}' as build (read_only)")
            con.execute(f"attach '{tmp}' as pub (storage_version '{PUBLISH_STORAGE_VERSION}')")
            names = [
                r[0]
                for r in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'build' "
                    "and schema_name = ? order by table_name",
                    [MART_SCHEMA],
                ).fetchall()
            ]
            if not names:
                raise PublishRefused(f"build {state['build_id']} holds no tables in schema {MART_SCHEMA!r}")
            con.execute(f"create schema pub.{MART_SCHEMA}")
            for name in names:
                con.execute(
                    f"create table pub.{MART_SCHEMA}.{name} as select * from build.{MART_SCHEMA}.{name}"
                )
                tables[name] = con.execute(f"select count(*) from pub.{MART_SCHEMA}.{name}").fetchone()[0]
            _copy_comments(con, names)
            published_at = _now()
            con.execute(f"create schema pub.{META_SCHEMA}")
            _record_keys(con, mart_primary_keys(settings), names)
            con.execute(
                f"create table pub.{META_SCHEMA}.publication as select ? as build_id, "
                "cast(? as timestamp) as published_at, cast(? as timestamp) as built_at",
                [
                    state["build_id"],
                    published_at.replace("+00:00", ""),
                    state["finished_at"].replace("+00:00", ""),
                ],
            )
            con.execute("detach pub")
            con.execute("detach build")
        finally:
            con.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    write_json_atomic(
        settings.warehouse_dir / PUBLISH_STATE,
        {
            "build_id": state["build_id"],
            "built_at": state.get("finished_at"),
            "published_at": published_at,
            "path": str(target),
            "tables": tables,
            "seconds": round(seconds, 2),
        },
    )
    return PublishResult(state["build_id"], target, tables, seconds)


def mart_primary_keys(settings: Settings) -> dict[str, list[str]]:
    """`meta: {primary_key: [...]}` of each mart, from dbt's manifest of the build, else from the marts YAML."""
    manifest = read_json(settings.dbt_target_dir / "manifest.json")
    keys: dict[str, list[str]] = {}
    if manifest:
        for node in manifest.get("nodes", {}).values():
            if node.get("resource_type") != "model" or node.get("schema") != MART_SCHEMA:
                continue
            meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
            if meta.get("primary_key"):
                keys[node.get("alias") or node["name"]] = _key_list(meta["primary_key"])
        return keys
    import yaml

    for path in sorted((settings.dbt_project_dir / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            meta = {**(model.get("meta") or {}), **((model.get("config") or {}).get("meta") or {})}
            if meta.get("primary_key"):
                keys[model["name"]] = _key_list(meta["primary_key"])
    return keys


def _key_list(value) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _record_keys(con, keys: dict[str, list[str]], names: list[str]) -> None:
    """ecom_meta.mart_keys: the key of each mart, so readers (and the PostgreSQL publish) know it."""
    con.execute(
        f"create table pub.{META_SCHEMA}.mart_keys "
        "(table_name varchar not null, column_name varchar not null, position integer not null)"
    )
    rows = [(t, c, i + 1) for t in names for i, c in enumerate(keys.get(t, []))]
    if rows:
        con.executemany(f"insert into pub.{META_SCHEMA}.mart_keys values (?, ?, ?)", rows)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con, names: list[str]) -> None:
    """Carry dbt's persisted descriptions over, so DuckDB clients show them."""
    rows = con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'build' and schema_name = ?",
        [MART_SCHEMA],
    ).fetchall()
    for table, comment in rows:
        if comment and table in names:
            con.execute(f"comment on table pub.{MART_SCHEMA}.{table} is {sql_literal(comment)}")
    rows = con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'build' "
        "and schema_name = ? and comment is not null",
        [MART_SCHEMA],
    ).fetchall()
    for table, column, comment in rows:
        if table in names:
            con.execute(f'comment on column pub.{MART_SCHEMA}.{table}."{column}" is {sql_literal(comment)}')
