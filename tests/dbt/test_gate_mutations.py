"""The gate stops the bugs it is meant to stop: a deliberately broken copy of the dbt project, or of the lake,
makes `dbt build` fail on the test that names the problem.

Each case copies the project, applies one small change a person could plausibly make (the original text must
still be in the project, so a case cannot silently stop applying), and builds the changed models over a copy of a
passing tiny build (the session's `tiny_run`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline.build.dbt import dbt_executable
from tests.support.ecom import REPO

pytestmark = pytest.mark.slow

PROJECT = REPO / "dbt_project"
RFM_UNIT_TESTS = r"dm_rfm_segments[.:]+rfm_scores_(share_ties_and_break|at_every_quintile_boundary)"

# name -> (file, original text, broken text, dbt selector, pattern a failing node must match)
BROKEN_MODELS = {
    "rfm score divides by n instead of n - 1": (
        "macros/rfm.sql", "nullif({{ count }} - 1, 0)", "nullif({{ count }}, 0)", "dm_rfm_segments",
        RFM_UNIT_TESTS,
    ),
    "rfm ranks with dense_rank": (
        "models/marts/dm_rfm_segments.sql", " rank() over", " dense_rank() over", "dm_rfm_segments",
        RFM_UNIT_TESTS,
    ),
    "rfm ranks with row_number": (
        "models/marts/dm_rfm_segments.sql", " rank() over", " row_number() over", "dm_rfm_segments",
        RFM_UNIT_TESTS,
    ),
    "rfm scores with ntile(5)": (
        "models/marts/dm_rfm_segments.sql",
        "{{ rfm_score('monetary_rank', 'customers') }}",
        "ntile(5) over (order by monetary_rank, user_id)",
        "dm_rfm_segments",
        RFM_UNIT_TESTS,
    ),
    "category net revenue keeps returned orders": (
        "models/marts/dm_category_performance.sql",
        "orders.order_status = 'placed'",
        "orders.order_status <> 'cancelled'",
        "dm_category_performance",
        r"assert_net_revenue_reconciles_with_the_lake",
    ),
    "user net revenue keeps returned orders": (
        "models/marts/dm_user_purchase_summary.sql",
        "sum(net_revenue) as net_revenue",
        "sum(case when order_status = 'cancelled' then 0 else order_total end) as net_revenue",
        "dm_user_purchase_summary",
        r"assert_net_revenue_reconciles_with_the_lake",
    ),
}  # fmt: skip


def copy_project(target: Path) -> Path:
    shutil.copytree(PROJECT, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return target


def break_file(project: Path, relative: str, original: str, broken: str) -> None:
    path = project / relative
    text = path.read_text()
    assert original in text, f"{relative} no longer contains {original!r}: update this case"
    path.write_text(text.replace(original, broken))


def build(project: Path, data_dir: Path, *args: str) -> list[str]:
    """`dbt build ARGS` of `project` over `data_dir`; returns the ids of the nodes that failed or errored."""
    target = data_dir / "dbt" / "mutation-target"
    env = {
        **os.environ,
        "ECOM_LAKE_DIR": str(data_dir / "lake"),
        "ECOM_BUILD_DB": str(data_dir / "warehouse" / "build.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    subprocess.run(
        [dbt_executable(), "--quiet", "build", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(target), "--log-path", str(data_dir / "dbt" / "mutation-logs"), *args],
        env=env, stdout=sys.stderr, stderr=sys.stderr, check=False,
    )  # fmt: skip
    results = json.loads((target / "run_results.json").read_text())["results"]
    return [r["unique_id"] for r in results if r["status"] in ("fail", "error")]


@pytest.fixture
def passing_build(tiny_run, tmp_path) -> Path:
    """A private copy of the tiny run's lake (hard links) and build, which a case may change."""
    data_dir = tmp_path / "data"
    shutil.copytree(tiny_run / "lake", data_dir / "lake", copy_function=os.link)
    shutil.copytree(tiny_run / "warehouse", data_dir / "warehouse")
    return data_dir


def test_the_unchanged_project_passes_over_the_same_build(passing_build, tmp_path):
    """The control: without a change, the same selections pass (so each failure below is the change's doing)."""
    project = copy_project(tmp_path / "project")
    selection = [
        "dm_rfm_segments",
        "dm_category_performance",
        "dm_user_purchase_summary",
        "stg_lake__order_items+",
    ]
    assert build(project, passing_build, "--select", *selection) == []


@pytest.mark.parametrize("case", sorted(BROKEN_MODELS))
def test_a_broken_model_fails_the_build(case, passing_build, tmp_path):
    relative, original, broken, selector, failing = BROKEN_MODELS[case]
    if "net revenue" in case:  # the change only shows when some order was returned
        with duckdb.connect(str(passing_build / "warehouse" / "build.duckdb"), read_only=True) as con:
            returned = con.execute(
                "select count(*) from intermediate.int_orders_enriched where is_returned"
            ).fetchone()[0]
        assert returned > 0, "the tiny window holds no returned order: lengthen it"
    project = copy_project(tmp_path / "project")
    break_file(project, relative, original, broken)
    failed = build(project, passing_build, "--select", selector)
    assert any(re.search(failing, node) for node in failed), failed


def test_a_negative_line_amount_is_stopped_at_every_layer(passing_build, tmp_path):
    """Lines of the newest day with negative prices and amounts, and the unit price test removed: the
    staging tests stop the build; without them the intermediate tests do; without those the marts' tests do."""
    project = copy_project(tmp_path / "project")
    break_file(
        project,
        "models/staging/lake/_lake__models.yml",
        "        description: Price of one unit on the day of the order.\n        data_tests:\n          - not_null\n"
        "          - accepted_range:\n              arguments:\n                min_value: 0\n",
        "        description: Price of one unit on the day of the order.\n        data_tests:\n          - not_null\n",
    )
    newest = sorted((passing_build / "lake" / "order_items").iterdir())[-1]
    for part in newest.glob("*.parquet"):
        table = pq.read_table(part)
        for column in ("unit_price", "line_total"):
            i = table.schema.get_field_index(column)
            table = table.set_column(i, table.schema.field(i), pc.negate(table[column]))
        part.unlink()  # a hard link to the shared lake: replace it, do not write through it
        pq.write_table(table, part)

    staging = build(project, passing_build, "--select", "stg_lake__order_items+")
    assert any("accepted_range_stg_lake__order_items_line_total" in node for node in staging), staging
    skip_staging = ["--exclude", "stg_lake__order_items,test_type:data"]
    intermediate = build(project, passing_build, "--select", "stg_lake__order_items+", *skip_staging)
    assert any("int_order_items_enriched_line_revenue" in node for node in intermediate), intermediate
    marts = build(project, passing_build, "--select", "stg_lake__order_items+", *skip_staging,
                  "int_order_items_enriched,test_type:data", "line_revenue_reconciles_with_order_totals")  # fmt: skip
    assert any(re.search(r"\.(accepted_range_dm_|assert_net_revenue)", node) for node in marts), marts
