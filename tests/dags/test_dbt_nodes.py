"""The refresh DAG's per-model verdicts, from a real manifest and hand-written dbt run results."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipeline.build.results import build_summary, node_verdicts, task_nodes
from tests.support.ecom import REPO


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())


def results_of(manifest: dict, status: dict[str, str], default: str) -> list[dict]:
    """A run result for every node of the project: `default` for each, `status` where given."""
    ids = [*manifest["nodes"], *manifest.get("unit_tests", {})]
    ids = [i for i in ids if not i.startswith(("analysis.", "operation."))]
    return [
        {"unique_id": uid, "status": status.get(uid, default), "message": None, "execution_time": 0.1}
        for uid in ids
    ]


def test_every_test_belongs_to_exactly_one_task(manifest):
    nodes = task_nodes(manifest)
    members = [m for n in nodes for m in n.members]
    assert len(members) == len(set(members))
    tests = {uid for uid in manifest["nodes"] if uid.startswith("test.")}
    assert tests <= set(members)
    assert not set(manifest.get("unit_tests", {})) & set(members)  # builds run no unit test
    by_key = {n.key: n for n in nodes}
    # a relationships test is shown by the model it is defined on, not by the model it points to
    rel = [m for m in by_key["3_staging.stg_lake__orders"].members if "relationships" in m]
    assert rel, by_key["3_staging.stg_lake__orders"].members
    assert all(
        "source_unique_lake_orders" in m or "lake_orders" in m for m in by_key["2_lake.orders"].members[1:]
    )


def test_one_failing_source_test_is_the_only_failure_and_what_depends_on_it_is_skipped(manifest, tmp_path):
    failing = next(uid for uid in manifest["nodes"] if "source_unique_lake_orders_order_id" in uid)
    children = {
        uid for uid, parents in manifest["parent_map"].items() if "source.ecommerce.lake.orders" in parents
    }
    downstream = set(children)
    for _ in range(6):  # everything downstream of the source's models
        downstream |= {u for u, ps in manifest["parent_map"].items() if set(ps) & downstream}
    status = {**{uid: "skipped" for uid in downstream if uid.startswith("model.")}, failing: "fail"}
    results = results_of(manifest, status, "success")
    for r in results:
        if r["unique_id"].startswith(("test.", "unit_test.")) and r["status"] == "success":
            r["status"] = "pass"
    # the rows dbt's store_failures would have kept
    db = tmp_path / "build.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema audit")
    con.execute("create table audit.src_unique as select 'ORD-1' as unique_field, 2 as n_records")
    con.close()
    next(r for r in results if r["unique_id"] == failing).update(
        failures=1,
        relation_name='"build"."audit"."src_unique"',
        message="Got 1 result, configured to fail if != 0",
    )
    verdicts = node_verdicts(manifest, results, db, selected_all=True)
    assert [k for k, v in verdicts.items() if v["state"] == "failed"] == ["2_lake.orders"]
    lines = verdicts["2_lake.orders"]["lines"]
    assert lines[0] == "dbt test source_unique_lake_orders_order_id FAIL: 1 failing rows"
    assert lines[3].split("|")[0].strip() == "unique_field"
    assert lines[5].split("|")[0].strip() == "ORD-1"
    assert verdicts["3_staging.stg_lake__orders"]["state"] == "skipped"
    assert "source_unique_lake_orders_order_id" in verdicts["3_staging.stg_lake__orders"]["lines"][0]
    assert verdicts["3_staging.stg_lake__users"]["state"] == "success"
    summary = build_summary(verdicts, {"fail": 1}, 12.0)
    assert "FAILED 2_lake.orders" in summary and "ORD-1" in summary and "nothing will be published" in summary


def test_nodes_outside_the_selector_are_skipped_not_failed(manifest):
    kpi = "model.ecommerce.dm_kpi_daily"
    results = [{"unique_id": kpi, "status": "success", "execution_time": 1.0}]
    verdicts = node_verdicts(manifest, results, None, selected_all=False)
    assert verdicts["5_marts.dm_kpi_daily"]["state"] == "success"
    assert verdicts["5_marts.dm_rfm_segments"]["state"] == "skipped"
    assert "selector" in verdicts["5_marts.dm_rfm_segments"]["lines"][0]
    assert not [k for k, v in verdicts.items() if v["state"] == "failed"]
