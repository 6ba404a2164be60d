"""Airflow Assets for the lake tables, declared once: the generation DAG emits them, the refresh DAG waits on them.

The table names are spelled out rather than imported from `generator.lake`, which loads pyarrow and numpy: DAG
files import this module at every parse. A DAG test checks that both lists agree.
"""

from __future__ import annotations

from airflow.sdk import Asset

LAKE_TABLES = ("users", "products", "orders", "order_items", "user_events")

LAKE_ASSETS = [
    Asset(name=f"ecommerce_lake_{table}", uri=f"file:///ecommerce/lake/{table}") for table in LAKE_TABLES
]
MARTS_ASSET = Asset(name="ecommerce_marts", uri="file:///ecommerce/warehouse/marts")
