"""Builds with the marts the API serves, shaped by their contracts, whose every document names its version.

Real DuckDB files written directly (like `synthetic.py`), so that a test can publish many versions in seconds
and tell a whole version from a mix of two: every item name ends in ` v<version>`, the KPI day's `orders` is the
version, and every customer score's `model_version` is `v<version>`. The predictive marts, the product marts or
both can be left out, as on a branch or a build that does not have them yet.
"""

from __future__ import annotations

import duckdb

from pipeline.settings import Settings
from tests.support.synthetic import record_build

SEGMENTS = {
    "all": ["all"],
    "gender": ["female", "male"],
    "age_band": ["18-24", "25-34", "35-54", "55+"],
    "region": ["midwest", "northeast", "south", "west"],
    "rfm_segment": ["champions", "at_risk"],
}
SEASONS = ("winter", "spring", "summer", "autumn")
KINDS = ("product", "brand", "category")
TOP_N = 10
PRODUCTS = 300  # products 1..PRODUCTS have pairs of both kinds; LONELY only a viewed-together one
RELATED = 8
LONELY = 9_001
LATEST = "2025-12-31"
KEYS = {
    "dm_hot_products": ["as_of_date", "segment_type", "segment", "season", "item_kind", "rank"],
    "dm_product_affinity": ["kind", "product_id", "related_product_id"],
    "dm_kpi_daily": ["kpi_date"],
    "dm_customer_churn": ["user_id"],
    "dm_customer_lifetime_value": ["user_id"],
}


def build_id_of(version: int) -> str:
    return f"serving-build-v{version}"


def version_of_build(build_id: str) -> int:
    return int(build_id.rsplit("v", 1)[1])


def write_serving_build(
    settings: Settings, version: int, customers: int = 500, products: bool = True, predictive: bool = True
) -> list[str]:
    """A passing build of `version` with dm_kpi_daily, and the product and predictive marts unless left out."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.build_db.unlink(missing_ok=True)
    v = int(version)
    marts = ["dm_kpi_daily"]
    con = duckdb.connect()
    try:
        con.execute(f"attach '{settings.build_db}' as build")
        con.execute("create schema build.marts")
        con.execute(
            f"""create table build.marts.dm_kpi_daily as
            select date '{LATEST}' - i::integer as kpi_date, 'none' as promo_period,
                   case when i = 0 then {v} else 1000 + i end::bigint as orders,
                   (100 * {v} + i)::bigint as sessions, (12.5 * {v})::decimal(14, 2) as revenue
            from range(7) as t(i)"""
        )
        if products:
            marts += ["dm_hot_products", "dm_product_affinity"]
            segments = ", ".join(f"('{t}', '{s}')" for t, values in SEGMENTS.items() for s in values)
            # Two days per list: the latest (what is served) and an older one whose names say `stale`.
            con.execute(
                f"""create table build.marts.dm_hot_products as
                with segs(segment_type, segment) as (values {segments}),
                     seasons(season) as (values {", ".join(f"('{s}')" for s in SEASONS)}),
                     kinds(item_kind) as (values {", ".join(f"('{k}')" for k in KINDS)}),
                     days(as_of_date, stale) as (values (date '{LATEST}', false), (date '{LATEST}' - 1, true))
                select as_of_date, segment_type, segment, season, item_kind, r::integer as rank,
                       case when item_kind = 'product' then cast(r * 7 as varchar)
                            else item_kind || ' ' || r end as item_id,
                       item_kind || ' ' || r || ' of ' || segment || case when stale then ' stale' else '' end
                           || ' v{v}' as item_name,
                       (1000 - 10 * r)::bigint as purchases,
                       (segment_type = 'rfm_segment')::boolean as is_thin_flag,
                       (20000 + {v})::bigint as list_purchases
                from segs, seasons, kinds, days, range(1, {TOP_N + 1}) as t(r)"""
            )
            con.execute(
                """create or replace table build.marts.dm_hot_products as
                select as_of_date, segment_type, segment, season, item_kind, rank, item_id, item_name, purchases,
                       list_purchases, is_thin_flag as is_thin
                from build.marts.dm_hot_products"""
            )
            con.execute(
                f"""create table build.marts.dm_product_affinity as
                with pairs as (
                    select k.kind, p::integer as product_id, ((p + j * 13 - 1) % {PRODUCTS} + 1)::integer
                               as related_product_id, j
                    from (values ('bought_together'), ('viewed_together')) as k(kind),
                         range(1, {PRODUCTS + 1}) as a(p), range(1, {RELATED + 1}) as b(j)
                    union all
                    select 'viewed_together', {LONELY}, 1, 1
                )
                select kind, product_id, related_product_id,
                       'product ' || product_id || ' v{v}' as product_name,
                       'product ' || related_product_id || ' v{v}' as related_product_name,
                       (100 - j)::bigint as support, (100 - j) / 5000.0 as support_share,
                       (100 - j) / 400.0 as confidence, (20.0 - j) as lift,
                       j::integer as rank
                from pairs"""
            )
        if predictive:
            marts += ["dm_customer_churn", "dm_customer_lifetime_value"]
            con.execute(
                f"""create table build.marts.dm_customer_churn as
                select i::bigint as user_id, timestamp '{LATEST} 23:00:00' as scored_at,
                       (i % 100) / 100.0 as churn_probability,
                       case when i % 100 >= 70 then 'high' when i % 100 >= 30 then 'medium' else 'low' end
                           as risk_band,
                       'v{v}' as model_version
                from range(1, {customers + 1}) as t(i)"""
            )
            con.execute(
                f"""create table build.marts.dm_customer_lifetime_value as
                select i::bigint as user_id, 1 - (i % 100) / 100.0 as probability_alive,
                       (i % 7) / 2.0 as predicted_orders_90d, (i % 7) * 21.5 as predicted_spend_90d,
                       (i % 7) * 80.0 as predicted_spend_365d, 'bg_nbd_gamma_gamma' as predicted_by,
                       'v{v}' as model_version
                from range(1, {customers + 1}) as t(i)"""
            )
    finally:
        con.close()
    record_build(settings, {name: KEYS[name] for name in marts}, build_id_of(v))
    return marts


def versions_in(body: dict) -> set[int]:
    """Every version a response's documents name (item names, the KPI day's orders, model versions)."""
    found: set[int] = set()
    for item in body.get("items", []):
        found.add(int(item["item_name"].rsplit(" v", 1)[1]))
    for key in ("product_name",):
        if key in body:
            found.add(int(body[key].rsplit(" v", 1)[1]))
    for item in body.get("related", []):
        found.add(int(item["product_name"].rsplit(" v", 1)[1]))
    if "kpi_date" in body:
        found.add(int(body["orders"]))
    for part in ("churn", "lifetime_value"):
        if body.get(part):
            found.add(int(body[part]["model_version"][1:]))
    return found
