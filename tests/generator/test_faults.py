"""Every documented fault kind is produced when asked, and is really present in the written files."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from generator.config import FAULT_KINDS, GeneratorConfig
from generator.run import generate_window

DAY = dt.date(2025, 10, 20)  # weeks after the opening: the tiny shop has orders every day by then


def generate(tmp_path, inject: tuple[str, ...]):
    lake = tmp_path / "lake"
    generate_window(GeneratorConfig(scale="tiny", seed=5, inject=inject), lake, [DAY], echo=lambda _: None)
    return lake


def read(lake, table: str) -> str:
    return f"read_parquet('{lake}/{table}/dt={DAY}/*.parquet')"


def corruption(lake, kind: str) -> int:
    """How many rows (or columns) show the corruption of `kind`; 0 on a clean day."""
    con = duckdb.connect()
    orders, items, events = read(lake, "orders"), read(lake, "order_items"), read(lake, "user_events")
    queries = {
        "duplicate_keys": f"select count(*) - count(distinct order_id) from {orders}",
        "null_keys": f"select count(*) from {items} where order_id is null",
        "orphan_order_items": f"select count(*) from {items} where order_id not in (select order_id from {orders})",
        "negative_prices": f"select count(*) from {items} where unit_price < 0",
        "out_of_order_funnel": f"""
            select count(*) from (
                select session_id,
                    max(sequence_number) filter (where event_type = 'checkout') as checkout_seq,
                    max(sequence_number) filter (where event_type = 'purchase') as purchase_seq,
                    max(event_at) filter (where event_type = 'checkout') as checkout_at,
                    max(event_at) filter (where event_type = 'purchase') as purchase_at
                from {events} group by session_id)
            where purchase_seq < checkout_seq and purchase_at < checkout_at""",
        "schema_drift": f"""
            select count(*) from (describe select * from {orders})
            where column_name = 'total_amount' and column_type = 'VARCHAR'
               or column_name = 'order_total' and column_type not like 'DECIMAL%'""",
    }
    if kind == "srm":  # experiments whose arms are far from the planned 50/50 (chi-square > 23.93, p < 1e-6)
        return con.execute(f"""
            select count(*) from (
                select count(*) filter (where variant = 'control') as c,
                    count(*) filter (where variant = 'treatment') as t
                from {read(lake, "experiment_exposures")} group by experiment_id)
            where (c - t) * (c - t) / (c + t) > 23.93""").fetchall()[0][0]
    if kind == "missing_partition":
        return int(not list((lake / "user_events" / f"dt={DAY}").glob("*.parquet")))
    return con.execute(queries[kind]).fetchall()[0][0]


@pytest.fixture(scope="module")
def clean_lake(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("clean"), ())


@pytest.mark.parametrize("kind", list(FAULT_KINDS))
def test_fault_is_in_the_written_files(kind, tmp_path, clean_lake):
    assert corruption(clean_lake, kind) == 0  # the check can tell a clean day from a corrupt one
    lake = generate(tmp_path, (kind,))
    assert corruption(lake, kind) > 0
    marked = duckdb.sql(f"select distinct injected_faults from {read(lake, 'answer_key')}").fetchall()
    assert marked == [(kind,)]  # the answer key says which faults the day carries


def test_missing_partition_leaves_the_other_tables(tmp_path):
    lake = generate(tmp_path, ("missing_partition",))
    for table in ("users", "products", "orders", "order_items", "order_status_changes", "answer_key"):
        assert list((lake / table / f"dt={DAY}").glob("*.parquet")), table
    assert not list((lake / "user_events").rglob("*.parquet"))


def test_schema_drift_renames_and_retypes_order_total(tmp_path):
    lake = generate(tmp_path, ("schema_drift",))
    columns = dict(
        duckdb.sql(
            f"select column_name, column_type from (describe select * from {read(lake, 'orders')})"
        ).fetchall()
    )
    assert "order_total" not in columns
    assert columns["total_amount"] == "VARCHAR"


def test_faults_combine_and_a_clean_rerun_repairs_the_day(tmp_path, clean_lake):
    lake = generate(tmp_path, tuple(k for k in FAULT_KINDS if k != "missing_partition"))
    for kind in FAULT_KINDS:
        if kind != "missing_partition":
            assert corruption(lake, kind) > 0, kind
    generate_window(GeneratorConfig(scale="tiny", seed=5), lake, [DAY], echo=lambda _: None)
    for table in ("orders", "order_items", "user_events"):
        fixed = (lake / table / f"dt={DAY}" / "part-0.parquet").read_bytes()
        assert fixed == (clean_lake / table / f"dt={DAY}" / "part-0.parquet").read_bytes(), table
