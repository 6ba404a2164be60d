"""`ecom run` end to end at tiny scale: the published marts are readable and agree with the lake."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import duckdb

from pipeline.build.dbt import run_dbt
from pipeline.settings import Settings
from tests.support.ecom import BIN, REPO, TINY_END, TINY_START, ecom


def test_published_file_is_readable_from_python(tiny_run):
    con = duckdb.connect(str(tiny_run / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        days, first, last = con.execute(
            "select count(*), min(kpi_date), max(kpi_date) from marts.dm_kpi_daily"
        ).fetchone()
        schemas = {
            r[0]
            for r in con.execute("select schema_name from duckdb_schemas() where not internal").fetchall()
        }
    finally:
        con.close()
    assert (days, first, last) == ((TINY_END - TINY_START).days + 1, TINY_START, TINY_END)
    assert "marts" in schemas
    assert "staging" not in schemas  # only the marts are published


def test_published_file_is_readable_with_the_duckdb_cli(tiny_run):
    path = tiny_run / "warehouse" / "ecommerce.duckdb"
    proc = subprocess.run(
        [str(BIN / "duckdb"), "-readonly", "-json", str(path), "select count(*) as days from marts.dm_kpi_daily"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(proc.stdout) == [{"days": (TINY_END - TINY_START).days + 1}]


def test_revenue_matches_the_orders_in_the_lake(tiny_run):
    con = duckdb.connect()
    lake = tiny_run / "lake"
    expected = con.execute(
        f"select cast(created_at as date) as d, count(*), sum(order_total) "
        f"from read_parquet('{lake}/orders/dt=*/*.parquet') group by d order by d"
    ).fetchall()
    con.execute(f"attach '{tiny_run / 'warehouse' / 'ecommerce.duckdb'}' as pub (read_only)")
    actual = con.execute(
        "select kpi_date, orders, revenue from pub.marts.dm_kpi_daily order by kpi_date"
    ).fetchall()
    con.close()
    assert [row for row in actual if row[1] > 0] == expected
    assert all(revenue == 0 for _, orders, revenue in actual if orders == 0)


def test_status_reports_the_window_and_the_publish(tiny_run):
    report = json.loads(ecom("status", "--json", data_dir=tiny_run).stdout)
    assert report["lake"]["first_day"] == TINY_START.isoformat()
    assert report["lake"]["last_day"] == TINY_END.isoformat()
    assert report["lake"]["gaps"] == []
    assert report["build"]["status"] == "passed"
    assert report["published"]["build_id"] == report["build"]["build_id"]


def test_status_names_gaps(tmp_path):
    ecom("generate", "--scale", "tiny", "--start", "2025-09-01", "--end", "2025-09-02", data_dir=tmp_path)
    ecom("generate", "--scale", "tiny", "--start", "2025-09-05", "--end", "2025-09-05", data_dir=tmp_path)
    report = json.loads(ecom("status", "--json", data_dir=tmp_path).stdout)
    assert report["lake"]["gaps"] == [["2025-09-03", "2025-09-04"]]
    assert report["lake"]["days"] == 3
    out = ecom("status", data_dir=tmp_path).stdout  # the person reading it sees the same gap, however aligned
    assert re.search(r"gap\s+2025-09-03\s*\.\.\s*2025-09-04", out), out


def summary_numbers(text: str) -> dict[str, str]:
    """The headline figures of `ecom summary`, by label, whatever the column alignment."""
    found = re.findall(r"^\s*(days covered|sessions|orders|revenue)\s+\$?([\d,.]+)", text, flags=re.MULTILINE)
    return {label: value.replace(",", "") for label, value in found}


def test_rerun_gives_the_same_summary(tiny_run):
    first = ecom("summary", data_dir=tiny_run).stdout
    ecom("run", "--scale", "tiny", "--start", str(TINY_START), "--end", str(TINY_END), data_dir=tiny_run)
    second = ecom("summary", data_dir=tiny_run).stdout
    con = duckdb.connect(str(tiny_run / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        days, sessions, orders, revenue = con.execute(
            "select count(*), sum(sessions), sum(orders), sum(revenue) from marts.dm_kpi_daily"
        ).fetchone()
    finally:
        con.close()
    assert days == (TINY_END - TINY_START).days + 1
    assert summary_numbers(first) == {
        "days covered": str(days), "sessions": str(sessions), "orders": str(orders), "revenue": f"{revenue:.2f}"
    }  # fmt: skip
    assert first == second


def test_summary_hints_the_configured_airflow_port(tiny_run):
    out = ecom("summary", data_dir=tiny_run, env={"ECOM_AIRFLOW_PORT": "8099"}).stdout
    assert "UI on http://localhost:8099" in out
    assert "8080" not in out


def test_documented_funnel_query_lists_stages_in_funnel_order(tiny_run):
    doc = (REPO / "docs" / "marts.md").read_text()
    blocks = [b.split("```", 1)[0] for b in doc.split("```sql")[1:]]
    (query,) = [b for b in blocks if "marts.dm_funnel_events" in b]
    con = duckdb.connect(str(tiny_run / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        con.execute("use ecommerce")
        rows = con.execute(
            query.replace("2025-11-21", str(TINY_START)).replace("2025-12-08", str(TINY_END))
        ).df()
    finally:
        con.close()
    stages = list(dict.fromkeys(rows["stage"]))
    assert stages == ["view", "cart", "checkout", "purchase"]


def test_make_docs_prints_the_real_folder(tiny_run):
    proc = subprocess.run(
        ["make", "-s", "docs"], cwd=REPO, capture_output=True, text=True, check=False,
        env={**os.environ, "ECOM_DATA_DIR": str(tiny_run)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    target = tiny_run / "dbt" / "target"
    assert f"dbt docs: {target / 'index.html'}" in proc.stdout
    assert f"--target-path {target}" in proc.stdout
    assert "<that folder>" not in proc.stdout
    assert (target / "index.html").exists()


def test_the_dbt_unit_tests_pass_and_builds_leave_them_out(tiny_run, tmp_path):
    """Builds run no unit test (they test the models' SQL, not the day's data); the suite runs every one of them,
    against a copy of a built warehouse (dbt reads the column types of each unit test's inputs from it)."""
    built = json.loads((tiny_run / "dbt" / "target" / "run_results.json").read_text())["results"]
    assert built and not [r for r in built if r["unique_id"].startswith("unit_test.")]
    data_dir = tmp_path / "copy"
    shutil.copytree(tiny_run, data_dir, symlinks=True)
    settings = Settings.load(data_dir=data_dir)
    outcome = run_dbt(settings, "test", "--select", "test_type:unit", quiet=True)
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    ran = {r["unique_id"]: r["status"] for r in outcome.results if r["unique_id"].startswith("unit_test.")}
    assert outcome.success, outcome.describe_failures()
    assert manifest["unit_tests"] and set(ran) == set(manifest["unit_tests"])
    assert set(ran.values()) == {"pass"}
