"""Headline numbers from the published marts, and where to go next."""

from __future__ import annotations

from pipeline.errors import PipelineFailed
from pipeline.settings import Settings


def read_only(path):
    import duckdb

    return duckdb.connect(str(path), read_only=True)


def summary_text(settings: Settings) -> str:
    path = settings.publish_db
    if not path.exists():
        raise PipelineFailed(
            f"nothing published yet at {path}: run `ecom run` (or `ecom build`, then `ecom publish`)"
        )
    con = read_only(path)
    try:
        days, first, last, sessions, orders, revenue = con.execute(
            "select count(*), min(kpi_date), max(kpi_date), sum(sessions), sum(orders), sum(revenue) "
            "from marts.dm_kpi_daily"
        ).fetchone()
    finally:
        con.close()
    conversion = orders / sessions if sessions else 0.0
    return "\n".join(
        [
            "",
            f"Published marts: {path}",
            f"  days covered   {days} ({first} .. {last})",
            f"  sessions       {sessions:,}",
            f"  orders         {orders:,}",
            f"  revenue        ${revenue:,.2f}",
            f"  conversion     {conversion:.2%} of sessions placed an order",
            "",
            "Go further:",
            f'  .venv/bin/duckdb -readonly {path} "select * from marts.dm_kpi_daily order by kpi_date desc limit 7"',
            "  .venv/bin/ecom status            # lake days and gaps, which build is published and when",
            "  make airflow                     # the same pipeline as Airflow DAGs, UI on "
            f"http://localhost:{settings.airflow_port}",
            "",
        ]
    )
