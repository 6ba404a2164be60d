"""Helpers for the reliability suite: snapshots of the published marts and of the lake."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb


def published_marts(data_dir: Path) -> dict[str, list[tuple]]:
    """Every table of the published `marts` schema, rows sorted, read as an analyst would (read-only)."""
    con = duckdb.connect(str(data_dir / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"
            ).fetchall()
        ]
        return {
            name: sorted(con.execute(f"select * from marts.{name}").fetchall(), key=repr) for name in names
        }
    finally:
        con.close()


def published_build_id(data_dir: Path) -> str:
    con = duckdb.connect(str(data_dir / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        return con.execute("select build_id from ecom_meta.publication").fetchone()[0]
    finally:
        con.close()


def lake_digest(data_dir: Path) -> dict[str, str]:
    lake = data_dir / "lake"
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*.parquet"))
    }
