"""Publish the marts to PostgreSQL for live BI connections, and run a local PostgreSQL cluster for them.

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

import contextlib
import datetime as dt
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from generator.config import ConfigError
from pipeline.settings import Settings
from pipeline.warehouse import (
    MART_SCHEMA,
    META_SCHEMA,
    PUBLISH_STATE,
    PublishRefused,
    read_json,
    write_json_atomic,
)

BI_DATABASE = "ecommerce"
READER_ROLE = "bi_reader"
ADMIN_ROLE = "postgres"
BI_PUBLISH_STATE = "published_bi.json"
OLD_PREFIX = "_old_"
STAGING_PREFIX = "_staging_"
SWAP_LOCK_TIMEOUT = "200ms"  # below PostgreSQL's default deadlock_timeout (1s): the publisher gives way first
SWAP_LOCK_ATTEMPTS = 5
DROP_LOCK_TIMEOUT = "1s"


class BiError(ConfigError):
    """PostgreSQL serving cannot go ahead; the message names the reason in one line."""


# --------------------------------------------------------------------------------------------- secrets


def _secret(path: Path, configured: str) -> str:
    """The configured value, else the one generated earlier, else a new one stored with 0600 permissions."""
    if configured:
        return configured
    with contextlib.suppress(FileNotFoundError):
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(24)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.replace(path.with_suffix(".tmp"), path)
    return value


def reader_password(settings: Settings) -> str:
    return _secret(settings.secrets_dir / f"{READER_ROLE}.password", settings.bi_reader_password)


def admin_password(settings: Settings) -> str:
    return _secret(settings.secrets_dir / "postgres_admin.password", "")


# ------------------------------------------------------------------------------------------ local cluster


def postgres_bin_dir() -> Path:
    """Debian keeps the server binaries in a versioned directory that is not on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name),
        reverse=True,
    )
    if found:
        return found[0].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise BiError(
        "PostgreSQL server binaries not found (install Debian's `postgresql` package, "
        "or point ECOM_BI_DSN at an existing server)"
    )


@dataclass(frozen=True)
class LocalCluster:
    """A PostgreSQL cluster under `$ECOM_DATA_DIR/postgres`, listening on loopback only."""

    root: Path
    port: int
    bin_dir: Path = field(default_factory=postgres_bin_dir)

    @classmethod
    def for_settings(cls, settings: Settings) -> LocalCluster:
        return cls(settings.bi_cluster_dir, settings.bi_port)

    @property
    def pgdata(self) -> Path:
        return self.root / "cluster"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # PostgreSQL refuses to run as root: run its tools as the `postgres` system user then.
        cmd = [str(self.bin_dir / tool), *args]
        if self.as_root:
            runuser = shutil.which("runuser") or next(
                (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()), "runuser"
            )
            cmd = [runuser, "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise BiError(f"{tool} failed: {detail[-1] if detail else f'exit code {proc.returncode}'}")
        return proc

    def initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def running(self) -> bool:
        return (
            self.initialized()
            and self._run("pg_ctl", "status", "-D", str(self.pgdata), check=False).returncode == 0
        )

    def running_port(self) -> int | None:
        """The port the running server listens on (line 4 of postmaster.pid), None when stopped."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (FileNotFoundError, IndexError, ValueError, PermissionError):
            return None

    def _check_reachable(self) -> None:
        if not self.as_root:
            return
        import pwd

        postgres_uid = pwd.getpwnam("postgres").pw_uid
        for parent in reversed(self.root.parents):
            info = parent.stat() if parent.exists() else None
            if info and info.st_uid != postgres_uid and not info.st_mode & 0o001:
                raise BiError(
                    f"the postgres system user cannot reach {parent} (mode {parent.stat().st_mode & 0o777:o}); "
                    f"`chmod o+x {parent}` or use an ECOM_DATA_DIR under a directory others can traverse"
                )

    def init(self, password: str) -> None:
        self._check_reachable()
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        pwfile = self.root / ".pwfile"
        pwfile.write_text(password + "\n")
        if self.as_root:
            shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(pwfile, 0o600)
        try:
            self._run(
                "initdb", "-D", str(self.pgdata), "-U", ADMIN_ROLE, "--pwfile", str(pwfile),
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        self._check_port()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        )

    def stop(self) -> bool:
        if not self.running():
            return False
        self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60")
        return True

    def ensure_running(self, password: str) -> None:
        if self.running():
            port = self.running_port()
            if port is not None and port != self.port:
                raise BiError(
                    f"the local PostgreSQL server already runs on port {port}, not ECOM_BI_PORT={self.port}; "
                    "run `ecom serve --stop` first"
                )
            return
        self._check_port()
        if not self.initialized():
            self.init(password)
        self.start()

    def _check_port(self) -> None:
        if port_in_use(self.port):
            raise BiError(
                f"port {self.port} on 127.0.0.1 is in use by another program; set ECOM_BI_PORT to a free port"
            )


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


# ------------------------------------------------------------------------------------------- connections


def admin_conninfo(settings: Settings, dbname: str | None = None) -> str:
    """libpq connection string of the publishing role: ECOM_BI_DSN, else the local cluster's superuser."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if settings.bi_dsn:
        try:
            params = conninfo_to_dict(settings.bi_dsn)
        except Exception as exc:
            raise BiError(f"ECOM_BI_DSN is not a valid PostgreSQL connection string: {exc}") from None
    else:
        params = {
            "host": "127.0.0.1",
            "port": local_port(settings),
            "user": ADMIN_ROLE,
            "password": admin_password(settings),
        }
    params.setdefault("connect_timeout", 10)
    params["application_name"] = "ecom-publish"
    if dbname:
        params["dbname"] = dbname
    return make_conninfo(**params)


def local_port(settings: Settings) -> int:
    """The port the local server runs on (it may have been started with another ECOM_BI_PORT), else the setting."""
    return LocalCluster.for_settings(settings).running_port() or settings.bi_port


def reader_url(settings: Settings, password: str | None = None) -> str:
    """The URL BI tools use: bi_reader on database `ecommerce`."""
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    if settings.bi_dsn:
        params = conninfo_to_dict(settings.bi_dsn)
        host, port = params.get("host", "127.0.0.1"), params.get("port", 5432)
    else:
        host, port = "127.0.0.1", local_port(settings)
    secret = reader_password(settings) if password is None else password
    return f"postgresql://{READER_ROLE}:{quote(secret, safe='')}@{host}:{port}/{BI_DATABASE}"


def _connect(conninfo: str):
    import psycopg

    try:
        return psycopg.connect(conninfo)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BiError(f"cannot connect to PostgreSQL: {first}") from None


def ensure_database(settings: Settings) -> None:
    """Database `ecommerce`, role `bi_reader` (read-only), and the privileges that survive every swap."""
    from psycopg import sql

    with _connect(admin_conninfo(settings)) as con:
        con.autocommit = True
        exists = con.execute("select 1 from pg_database where datname = %s", [BI_DATABASE]).fetchone()
        if not exists:
            con.execute(sql.SQL("create database {}").format(sql.Identifier(BI_DATABASE)))
    password = reader_password(settings)
    with _connect(admin_conninfo(settings, BI_DATABASE)) as con:
        con.autocommit = True
        role = sql.Identifier(READER_ROLE)
        if not con.execute("select 1 from pg_roles where rolname = %s", [READER_ROLE]).fetchone():
            con.execute(sql.SQL("create role {} login").format(role))
        con.execute(
            sql.SQL(
                "alter role {} login nosuperuser nocreatedb nocreaterole noinherit noreplication password {}"
            ).format(role, sql.Literal(password))
        )
        # Belt and braces: every session of bi_reader is read-only even where a grant slips through.
        con.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(role))
        db = sql.Identifier(BI_DATABASE)
        con.execute(sql.SQL("revoke all on database {} from public").format(db))
        con.execute(sql.SQL("grant connect on database {} to {}").format(db, role))
        con.execute("revoke create on schema public from public")
        # Default privileges of the publishing role: each new `marts` schema and its tables are readable.
        con.execute(sql.SQL("alter default privileges grant usage on schemas to {}").format(role))
        con.execute(sql.SQL("alter default privileges grant select on tables to {}").format(role))


# -------------------------------------------------------------------------------------- reading the marts


_PG_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
}


def pg_type(duckdb_type: str) -> str:
    """PostgreSQL type for a DuckDB column type; nested and exotic types travel as text."""
    upper = duckdb_type.upper()
    if upper.startswith("DECIMAL"):
        return "numeric" + upper[len("DECIMAL") :].replace(",", ", ")
    return _PG_TYPES.get(upper, "text")


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    comment: str | None

    @property
    def pg_type(self) -> str:
        return pg_type(self.duckdb_type)


@dataclass(frozen=True)
class Mart:
    name: str
    comment: str | None
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class Snapshot:
    build_id: str
    built_at: dt.datetime | None
    published_at: dt.datetime | None
    marts: tuple[Mart, ...]


def export_published(settings: Settings, out_dir: Path) -> Snapshot:
    """Read the published DuckDB file read-only and write one CSV per mart into `out_dir`."""
    import duckdb

    if not settings.publish_db.exists() or read_json(settings.warehouse_dir / PUBLISH_STATE) is None:
        raise PublishRefused(
            f"no published marts yet at {settings.publish_db} (run `ecom run`, or `ecom build` and `ecom publish`)"
        )
    con = duckdb.connect()
    try:
        con.execute(f"attach '{settings.publish_db}' as pub (read_only)")
        build_id, published_at, built_at = con.execute(
            f"select build_id, published_at, built_at from pub.{META_SCHEMA}.publication"
        ).fetchone()
        keys = primary_keys_in(con, "pub")
        tables = con.execute(
            "select table_name, comment from duckdb_tables() where database_name = 'pub' and schema_name = ? "
            "order by table_name",
            [MART_SCHEMA],
        ).fetchall()
        marts = []
        for table, comment in tables:
            cols = tuple(
                Column(name, dtype, col_comment)
                for name, dtype, col_comment in con.execute(
                    "select column_name, data_type, comment from duckdb_columns() where database_name = 'pub' "
                    "and schema_name = ? and table_name = ? order by column_index",
                    [MART_SCHEMA, table],
                ).fetchall()
            )
            select = ", ".join(
                f'"{c.name}"'
                if c.pg_type != "text" or c.duckdb_type == "VARCHAR"
                else f'cast("{c.name}" as varchar)'
                for c in cols
            )
            target = out_dir / f"{table}.csv"
            con.execute(
                f"copy (select {select} from pub.{MART_SCHEMA}.{table}) to '{target}' (format csv, header false)"
            )
            rows = con.execute(f"select count(*) from pub.{MART_SCHEMA}.{table}").fetchone()[0]
            marts.append(Mart(table, comment, cols, keys.get(table, ()), rows))
    finally:
        con.close()
    return Snapshot(build_id, built_at, published_at, tuple(marts))


def primary_keys_in(con, database: str) -> dict[str, tuple[str, ...]]:
    """Mart keys recorded at publish time in `ecom_meta.mart_keys` (empty for files published before it)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? "
        "and table_name = 'mart_keys'",
        [database, META_SCHEMA],
    ).fetchone()[0]
    if not exists:
        return {}
    keys: dict[str, list[str]] = {}
    for table, column in con.execute(
        f"select table_name, column_name from {database}.{META_SCHEMA}.mart_keys order by table_name, position"
    ).fetchall():
        keys.setdefault(table, []).append(column)
    return {t: tuple(c) for t, c in keys.items()}


# ----------------------------------------------------------------------------------------------- publish


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
