"""The work the Airflow tasks do, as plain functions: the DAGs and the `ecom` CLI share them."""

from __future__ import annotations

import datetime as dt

from pipeline.settings import Settings


def generate_partition(
    day: dt.date, scale: str | None = None, seed: int | None = None, inject: str = ""
) -> dict:
    """Generate exactly the partitions of `day` (idempotent: a re-run replaces them)."""
    from generator.run import generate_window

    settings = Settings.load(scale=scale, seed=seed, inject=inject or None, start=day, end=day)
    results = generate_window(settings.generator_config(), settings.lake_dir, [day], echo=print)
    return {"day": day.isoformat(), "rows": results[0].rows}


def build_marts(full_refresh: bool = False, select: str | None = None) -> dict:
    """dbt build; raises with the failing tests named when anything fails (nothing is published then)."""
    from pipeline.warehouse import build

    result = build(Settings.load(), full_refresh=full_refresh, select=select or None)
    if not result.outcome.success:
        raise RuntimeError(f"dbt build {result.build_id} failed:\n{result.outcome.describe_failures()}")
    return {"build_id": result.build_id, "counts": result.outcome.counts, "seconds": round(result.seconds, 2)}


def publish_marts() -> dict:
    from pipeline.warehouse import publish

    result = publish(Settings.load())
    return {"build_id": result.build_id, "tables": result.tables, "seconds": round(result.seconds, 2)}


def smoke_check() -> dict:
    """Open the published file read-only, as an analyst would, and check that the marts answer."""
    import duckdb

    settings = Settings.load()
    con = duckdb.connect(str(settings.publish_db), read_only=True)
    try:
        days, orders = con.execute("select count(*), sum(orders) from marts.dm_kpi_daily").fetchone()
    finally:
        con.close()
    if not days:
        raise RuntimeError(f"published marts at {settings.publish_db} hold no days")
    return {"days": days, "orders": int(orders or 0)}


def publish_bi() -> dict:
    """Refresh PostgreSQL from the published marts when it is configured (ECOM_BI_DSN, or a running
    `ecom serve` server); a no-op otherwise, so the refresh DAG can always call it."""
    from pipeline.serve import bi_configured

    settings = Settings.load()
    if not bi_configured(settings):
        return {"published": False, "reason": "PostgreSQL serving is not configured"}
    from pipeline.postgres import publish_postgres

    result = publish_postgres(settings)
    return {
        "published": True,
        "build_id": result.build_id,
        "target": result.target,
        "tables": result.tables,
        "seconds": round(result.seconds, 2),
        "pending_drops": result.pending_drops,
    }
