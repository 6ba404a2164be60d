"""Connections to the BI PostgreSQL server (ECOM_BI_DSN or the local cluster), and its database and roles."""

from __future__ import annotations

from pipeline.errors import BiError
from pipeline.publish.postgres.cluster import ADMIN_ROLE, LocalCluster
from pipeline.publish.postgres.passwords import READER_ROLE, admin_password, reader_password
from pipeline.settings import Settings

BI_DATABASE = "ecommerce"


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
