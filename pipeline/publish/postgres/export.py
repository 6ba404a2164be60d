"""Read the published DuckDB marts for PostgreSQL: tables as CSV, their PostgreSQL types, keys and comments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PublishRefused
from pipeline.read import MART_SCHEMA, META_SCHEMA
from pipeline.records import PUBLISH_STATE, read_json
from pipeline.settings import Settings

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
