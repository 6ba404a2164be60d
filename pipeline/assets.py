"""Airflow Assets for the lake tables, declared once: the generation DAG emits them, the refresh DAG waits on them."""

from __future__ import annotations

from airflow.sdk import Asset

from generator.lake import CORE_TABLES

LAKE_ASSETS = [
    Asset(name=f"ecommerce_lake_{table}", uri=f"file:///ecommerce/lake/{table}") for table in CORE_TABLES
]
MARTS_ASSET = Asset(name="ecommerce_marts", uri="file:///ecommerce/warehouse/marts")
