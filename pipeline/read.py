"""What the dashboard, the API and other readers read the published marts through.

Readers open, query and close per request. A DuckDB reader attaches the published file to an in-memory
database of its own, so it always opens the file that is published now (never a cached instance on a replaced
file) and never holds anything a publish waits for.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping

from pipeline.errors import PublishRefused
from pipeline.settings import Settings

MART_SCHEMA = "marts"
META_SCHEMA = "ecom_meta"
_NAMED_PARAM = re.compile(r"%\((\w+)\)s")


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
