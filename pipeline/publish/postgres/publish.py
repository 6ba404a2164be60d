"""Publish the marts to PostgreSQL for live BI connections: load a staging schema, then swap it in.

The source is the published DuckDB file (the last build that passed its tests), never the build file. Every
mart is COPYed into a fresh staging schema inside one transaction, which then renames `marts` to an old name
and the staging schema to `marts` and commits: BI sessions switch to the new version between statements, a
publish killed at any point leaves the previous version served (PostgreSQL rolls the transaction back), and
the old schema is dropped afterwards with a lock timeout, retried at the next publish rather than waiting on
readers.

Before the renames the swap asks for the old tables in ACCESS EXCLUSIVE mode with a short lock timeout, so a
statement that reads several marts resolves all of them in the same version. Readers that hold the tables for
longer (a session idle in a transaction) cannot hold a publish hostage: after a few attempts the renames go
ahead without the table locks, and such a session keeps reading the old tables until it ends.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PublishRefused
from pipeline.publish.postgres.connect import (
    BI_DATABASE,
    READER_ROLE,
    _connect,
    admin_conninfo,
    ensure_database,
)
from pipeline.publish.postgres.export import Snapshot, export_published
from pipeline.read import MART_SCHEMA, META_SCHEMA
from pipeline.records import write_json_atomic
from pipeline.settings import Settings

BI_PUBLISH_STATE = "published_bi.json"
OLD_PREFIX = "_old_"
STAGING_PREFIX = "_staging_"
SWAP_LOCK_TIMEOUT = "200ms"  # below PostgreSQL's default deadlock_timeout (1s): the publisher gives way first
SWAP_LOCK_ATTEMPTS = 5
DROP_LOCK_TIMEOUT = "1s"


@dataclass(frozen=True)
class BiPublishResult:
    build_id: str
    target: str
    tables: dict[str, int]
    seconds: float
    pending_drops: list[str]


def publish_postgres(settings: Settings) -> BiPublishResult:
    """Publish the marts of the published DuckDB file to PostgreSQL database `ecommerce`, schema `marts`."""
    started = time.perf_counter()
    ensure_database(settings)
    suffix = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S") + "_" + uuid.uuid4().hex[:6]
    # The CSV files live under the data dir, not /tmp: a publish killed earlier left its own, removed here
    # (publishes are serialized, so any export folder found now is garbage).
    export_root = settings.data_dir / "tmp"
    for stale in export_root.glob("bi-export-*"):
        shutil.rmtree(stale, ignore_errors=True)
    export_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bi-export-", dir=export_root) as tmp:
        snapshot = export_published(settings, Path(tmp))
        if not snapshot.marts:
            raise PublishRefused(f"the published file {settings.publish_db} holds no marts")
        with _connect(admin_conninfo(settings, BI_DATABASE)) as con:
            _load_and_swap(con, snapshot, Path(tmp), suffix)
            pending = drop_old_schemas(con)
    seconds = time.perf_counter() - started
    result = BiPublishResult(
        snapshot.build_id,
        _describe_target(settings),
        {m.name: m.rows for m in snapshot.marts},
        seconds,
        pending,
    )
    write_json_atomic(
        settings.warehouse_dir / BI_PUBLISH_STATE,
        {
            "build_id": result.build_id,
            "published_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "target": result.target,
            "tables": result.tables,
            "seconds": round(seconds, 2),
            "pending_drops": pending,
        },
    )
    return result


def _describe_target(settings: Settings) -> str:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(admin_conninfo(settings, BI_DATABASE))
    return f"postgresql://{params.get('host', 'localhost')}:{params.get('port', 5432)}/{BI_DATABASE}"


def _load_and_swap(con, snapshot: Snapshot, csv_dir: Path, suffix: str) -> None:
    """One transaction: staging schemas, COPY, keys, comments, grants, then the rename swap."""
    from psycopg import sql

    staging = {
        MART_SCHEMA: f"{MART_SCHEMA}{STAGING_PREFIX}{suffix}",
        META_SCHEMA: f"{META_SCHEMA}{STAGING_PREFIX}{suffix}",
    }
    reader = sql.Identifier(READER_ROLE)
    with con.transaction():
        for name in staging.values():
            con.execute(sql.SQL("create schema {}").format(sql.Identifier(name)))
            con.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(name), reader))
        marts = sql.Identifier(staging[MART_SCHEMA])
        for mart in snapshot.marts:
            table = sql.Identifier(staging[MART_SCHEMA], mart.name)
            con.execute(
                sql.SQL("create table {} ({})").format(
                    table,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type))
                        for c in mart.columns
                    ),
                )
            )
            copy_sql = sql.SQL("copy {} from stdin (format csv)").format(table)
            with con.cursor().copy(copy_sql) as copy, open(csv_dir / f"{mart.name}.csv", "rb") as fh:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            if mart.primary_key:
                con.execute(
                    sql.SQL("alter table {} add constraint {} primary key ({})").format(
                        table,
                        sql.Identifier(f"{mart.name}_pkey"),
                        sql.SQL(", ").join(sql.Identifier(c) for c in mart.primary_key),
                    )
                )
            if mart.comment:
                con.execute(sql.SQL("comment on table {} is {}").format(table, sql.Literal(mart.comment)))
            for c in mart.columns:
                if c.comment:
                    con.execute(
                        sql.SQL("comment on column {}.{} is {}").format(
                            table, sql.Identifier(c.name), sql.Literal(c.comment)
                        )
                    )
            con.execute(sql.SQL("analyze {}").format(table))
        con.execute(
            sql.SQL("comment on schema {} is {}").format(
                marts,
                sql.Literal(f"E-commerce marts, build {snapshot.build_id} (read-only; refreshed by ecom)"),
            )
        )
        publication = sql.Identifier(staging[META_SCHEMA], "publication")
        con.execute(
            sql.SQL(
                "create table {} (build_id text primary key, built_at timestamp, published_at timestamp, "
                "bi_published_at timestamptz not null default now())"
            ).format(publication)
        )
        con.execute(
            sql.SQL("insert into {} (build_id, built_at, published_at) values (%s, %s, %s)").format(
                publication
            ),
            [snapshot.build_id, snapshot.built_at, snapshot.published_at],
        )
        con.execute(
            sql.SQL("comment on table {} is {}").format(
                publication, sql.Literal("The build served in schema marts, and when it was published.")
            )
        )
        for name in staging.values():
            con.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(sql.Identifier(name), reader)
            )

        _lock_current_version(con)
        for schema, name in staging.items():
            if con.execute("select 1 from pg_namespace where nspname = %s", [schema]).fetchone():
                con.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(schema), sql.Identifier(f"{schema}{OLD_PREFIX}{suffix}")
                    )
                )
            con.execute(
                sql.SQL("alter schema {} rename to {}").format(sql.Identifier(name), sql.Identifier(schema))
            )


def _lock_current_version(con) -> None:
    """Take the served tables exclusively for the instant of the swap, giving way to readers if it takes long."""
    from psycopg import errors, sql

    tables = con.execute(
        "select schemaname, tablename from pg_tables where schemaname in (%s, %s) order by 1, 2",
        [MART_SCHEMA, META_SCHEMA],
    ).fetchall()
    if not tables:
        return
    lock = sql.SQL("lock table {} in access exclusive mode").format(
        sql.SQL(", ").join(sql.Identifier(s, t) for s, t in tables)
    )
    for attempt in range(SWAP_LOCK_ATTEMPTS):
        try:
            with con.transaction():  # a savepoint: a timed-out attempt rolls back only itself
                con.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(SWAP_LOCK_TIMEOUT)))
                con.execute(lock)
                con.execute("set local lock_timeout = 0")
            return
        except errors.LockNotAvailable:
            time.sleep(0.05 * (attempt + 1))


def drop_old_schemas(con) -> list[str]:
    """Drop the schemas earlier swaps retired; if a session still reads them, leave them for the next publish."""
    from psycopg import errors, sql

    con.autocommit = True
    names = [
        r[0]
        for r in con.execute(
            "select nspname from pg_namespace where nspname like %s or nspname like %s order by 1",
            [f"{MART_SCHEMA}{OLD_PREFIX}%", f"{META_SCHEMA}{OLD_PREFIX}%"],
        ).fetchall()
    ]
    if not names:
        return []
    try:
        with con.transaction():
            con.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(DROP_LOCK_TIMEOUT)))
            con.execute(
                sql.SQL("drop schema {} cascade").format(sql.SQL(", ").join(sql.Identifier(n) for n in names))
            )
    except errors.LockNotAvailable:
        return names
    return []
