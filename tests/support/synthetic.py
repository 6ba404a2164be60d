"""Builds whose content names their version, so a reader can tell a whole version from a mix of two.

They are real DuckDB files with the layout dbt leaves behind (schema `marts`, persisted comments, a manifest with
each mart's `meta.primary_key`), written directly so that a test can publish many versions in seconds.
"""

from __future__ import annotations

import json

import duckdb

from pipeline.records import BUILD_STATE, write_json_atomic
from pipeline.settings import Settings

MARTS = ("dm_alpha", "dm_beta")
KEYS = {"dm_alpha": ["alpha_id"], "dm_beta": ["beta_date", "channel"]}


def rows_of(version: int, size: int = 1) -> dict[str, int]:
    return {"dm_alpha": size * (2_000 + 100 * version), "dm_beta": 50 + version}


def build_id_of(version: int) -> str:
    return f"test-build-v{version}"


def write_build(settings: Settings, version: int, size: int = 1) -> None:
    """A passing build of `version`: every row of every mart carries `version`, row counts depend on it."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.build_db.unlink(missing_ok=True)
    n = rows_of(version, size)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{settings.build_db}' as build")
        con.execute("create schema build.marts")
        con.execute(
            f"""create table build.marts.dm_alpha as
            select i::bigint as alpha_id,
                   'user ' || i || case when i % 7 = 0 then ', "quoted"' else '' end as label,
                   case when i % 11 = 0 then '' when i % 13 = 0 then null else 'x' end as note,
                   {version}::integer as version,
                   (i * 1.25)::decimal(14, 2) as amount,
                   i / 3.0 as ratio,
                   i % 2 = 0 as is_even,
                   date '2025-09-01' + (i % 365)::integer as alpha_date,
                   timestamp '2025-09-01 00:00:00' + to_seconds(i) as alpha_at
            from range({n["dm_alpha"]}) as t(i)"""
        )
        con.execute(
            f"""create table build.marts.dm_beta as
            select date '2025-09-01' + (i // 2)::integer as beta_date,
                   case when i % 2 = 0 then 'web' else 'app' end as channel,
                   {version}::integer as version,
                   (100 + i)::decimal(12, 2) as revenue
            from range({n["dm_beta"]}) as t(i)"""
        )
        con.execute("comment on table build.marts.dm_alpha is 'One row per alpha. Grain: alpha_id.'")
        con.execute("comment on column build.marts.dm_alpha.amount is 'Money, as a decimal.'")
        con.execute("comment on table build.marts.dm_beta is 'One row per day and channel.'")
        con.execute("comment on column build.marts.dm_beta.channel is 'Acquisition channel.'")
    finally:
        con.close()
    record_build(settings, {name: KEYS[name] for name in MARTS}, build_id_of(version))


def record_build(settings: Settings, keys: dict[str, list[str]], build_id: str) -> None:
    """What dbt and `ecom build` leave beside a passing build file: a manifest naming each mart (with its
    `meta.primary_key`, from `keys`) and the build record."""
    manifest = {
        "nodes": {
            f"model.ecommerce.{name}": {
                "resource_type": "model",
                "name": name,
                "alias": name,
                "schema": "marts",
                "config": {"meta": {"primary_key": key}},
            }
            for name, key in keys.items()
        }
    }
    settings.dbt_target_dir.mkdir(parents=True, exist_ok=True)
    (settings.dbt_target_dir / "manifest.json").write_text(json.dumps(manifest))
    write_json_atomic(
        settings.warehouse_dir / BUILD_STATE,
        {
            "build_id": build_id,
            "status": "passed",
            "started_at": "2025-12-31T00:00:00+00:00",
            "finished_at": "2025-12-31T00:01:00+00:00",
        },
    )


# One statement that reads every mart and the publication record: the unit a BI tool sees.
VERSION_QUERY = """
select p.build_id, a.v_min, a.v_max, a.n, b.v_min, b.v_max, b.n
from ecom_meta.publication as p,
     (select min(version) as v_min, max(version) as v_max, count(*) as n from marts.dm_alpha) as a,
     (select min(version) as v_min, max(version) as v_max, count(*) as n from marts.dm_beta) as b
"""


def whole_version(row, size: int = 1) -> int:
    """The version a VERSION_QUERY row shows; raises AssertionError when it mixes versions."""
    build_id, a_min, a_max, a_n, b_min, b_max, b_n = row
    version = int(build_id.rsplit("v", 1)[1])
    seen = (a_min, a_max, b_min, b_max, a_n, b_n)
    rows = rows_of(version, size)
    expected = (version, version, version, version, rows["dm_alpha"], rows["dm_beta"])
    assert seen == expected, f"mixed read: publication {build_id} but marts show {seen}"
    return version
