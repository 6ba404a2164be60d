"""Serving the published marts: `ecom serve` (PostgreSQL for BI tools) and the readers' side of both copies.

Readers open, query and close per request. A DuckDB reader attaches the published file to an in-memory
database of its own, so it always opens the file that is published now (never a cached instance on a replaced
file) and never holds anything a publish waits for.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pipeline.postgres import (
    BI_PUBLISH_STATE,
    BiError,
    BiPublishResult,
    LocalCluster,
    admin_password,
    publish_postgres,
    reader_password,
    reader_url,
)
from pipeline.settings import Settings
from pipeline.warehouse import PublishRefused, read_json

_NAMED_PARAM = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class ServeResult:
    url: str  # bi_reader's connection URL, password included: what BI tools need
    started: bool
    local: bool
    publish: BiPublishResult


def bi_configured(settings: Settings) -> bool:
    """PostgreSQL serving is on when ECOM_BI_DSN names a server or `ecom serve` left the local one running."""
    if settings.bi_dsn:
        return True
    try:
        return LocalCluster.for_settings(settings).running()
    except BiError:
        return False


def serve(settings: Settings) -> ServeResult:
    """Start the local cluster unless ECOM_BI_DSN names a server, then publish; the server keeps running."""
    if not settings.publish_db.exists():
        raise PublishRefused(
            f"no published marts yet at {settings.publish_db} (run `ecom run`, or `ecom build` and `ecom publish`)"
        )
    started = False
    if not settings.bi_dsn:
        cluster = LocalCluster.for_settings(settings)
        was_running = cluster.running()
        cluster.ensure_running(admin_password(settings))
        started = not was_running
    result = publish_postgres(settings)
    password = reader_password(settings)
    url = reader_url(settings, password)
    return ServeResult(url, started, not settings.bi_dsn, result)


def stop(settings: Settings) -> bool:
    """Stop the local cluster; False when it was not running."""
    if settings.bi_dsn:
        raise BiError(
            "ECOM_BI_DSN points at an external server: `ecom serve --stop` only stops the local one"
        )
    cluster = LocalCluster.for_settings(settings)
    return cluster.initialized() and cluster.stop()


def bi_status(settings: Settings) -> dict:
    """What PostgreSQL serves (the last BI publish record) and whether the local server runs."""
    report: dict = {"published": read_json(settings.warehouse_dir / BI_PUBLISH_STATE)}
    if settings.bi_dsn:
        report["server"] = "external server (ECOM_BI_DSN)"
        return report
    try:
        cluster = LocalCluster.for_settings(settings)
        if not cluster.initialized():
            report["server"] = "none (run `ecom serve`)"
        elif cluster.running():
            report["server"] = f"running on 127.0.0.1:{cluster.running_port() or settings.bi_port}"
        else:
            report["server"] = "stopped (run `ecom serve`)"
    except BiError as exc:
        report["server"] = str(exc)
    return report


# --------------------------------------------------------------------------------------------- readers


@contextlib.contextmanager
def published_duckdb(settings: Settings) -> Iterator:
    """A read-only connection to the published file, with `marts.*` resolving in it; closed on exit."""
    import duckdb

    if not settings.publish_db.exists():
        raise PublishRefused(f"no published marts yet at {settings.publish_db} (run `ecom run`)")
    # An in-memory instance of its own (see the module docstring), one thread: readers are many and small.
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute(f"attach '{settings.publish_db}' as ecommerce (read_only)")
        con.execute("use ecommerce")
        yield con
    finally:
        con.close()


def read_marts(settings: Settings, query: str, params: Mapping | None = None):
    """Run one query against the published marts and return a DataFrame.

    The query is written once for both engines, with `%(name)s` parameters: it goes to PostgreSQL when
    `ECOM_DASHBOARD_DSN` is set, else to the published DuckDB file.
    """
    import pandas as pd

    params = dict(params or {})
    if settings.dashboard_dsn:
        import psycopg

        with psycopg.connect(settings.dashboard_dsn, autocommit=True) as con, con.cursor() as cur:
            cur.execute(query, params)
            columns = [d.name for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    with published_duckdb(settings) as con:
        duck_query = _NAMED_PARAM.sub(lambda m: "$" + m.group(1), query)
        used = {k: v for k, v in params.items() if f"%({k})s" in query}
        return con.execute(duck_query, used).df()
