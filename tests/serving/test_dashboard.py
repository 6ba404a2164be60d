"""The dashboard in headless Chromium: every page renders its charts, and its headline number is the marts'."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from decimal import Decimal

import pytest

from pipeline.serve import published_duckdb
from pipeline.settings import Settings
from pipeline.warehouse import BUILD_STATE, read_json, write_json_atomic
from tests.conftest import BIN, REPO, ecom
from tests.serving.conftest import free_port

pytestmark = pytest.mark.integration

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-gpu",
]  # fmt: skip

# page url -> (headline metric label, the same number queried from the marts, charts on the page)
PAGES = {
    "kpis": ("Orders", "select sum(orders) from marts.dm_kpi_daily", 2),
    "categories": ("Category revenue", "select sum(revenue) from marts.dm_category_performance", 2),
    "cohorts": (
        "Signup cohort users",
        "select sum(cohort_users) from marts.dm_cohort_retention where cohort_type = 'signup' and period_number = 0",
        2,
    ),
    "funnel": ("Sessions", "select sum(sessions) from marts.dm_funnel_events where stage = 'view'", 2),
    "traffic": ("Sessions (all history)", "select sum(sessions) from marts.dm_traffic_hourly", 2),
    "rfm": ("Customers", "select count(*) from marts.dm_rfm_segments", 3),
}


@pytest.fixture(scope="module")
def marts_dir(tiny_run):
    """A copy of the tiny run's warehouse (build + published file), so that tests may publish again."""
    from tests.serving.conftest import reachable_tmp_dir

    data_dir = reachable_tmp_dir("ecom-dashboard-")
    shutil.copytree(tiny_run / "warehouse", data_dir / "warehouse")
    shutil.copytree(tiny_run / "dbt", data_dir / "dbt")
    yield data_dir
    shutil.rmtree(data_dir, ignore_errors=True)


def start_dashboard(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "streamlit"), "run", str(REPO / "dashboard" / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("the dashboard did not come up within 60 s")


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def as_number(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", "").strip())


def open_page(page, url: str, label: str, charts: int) -> str:
    """Load a page, wait for its charts, and return the headline metric's text."""
    page.goto(url)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    metric.wait_for(timeout=60_000)
    page.wait_for_function(
        "n => Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".filter(e => e.data && e.data.length > 0 && e.querySelector('svg.main-svg')).length >= n",
        arg=charts,
        timeout=60_000,
    )
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot").count() == charts
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def check_every_page(browser, url: str, settings: Settings) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        for path, (label, sql, charts) in PAGES.items():
            shown = open_page(page, f"{url}/{path}", label, charts)
            with published_duckdb(settings) as con:
                expected = con.execute(sql).fetchone()[0]
            assert as_number(shown) == Decimal(str(expected)), (path, label, shown, expected)
    finally:
        page.close()


def test_every_page_from_duckdb_and_a_new_publish_without_restart(marts_dir, browser):
    settings = Settings.load(env={"ECOM_DATA_DIR": str(marts_dir)})
    proc, url = start_dashboard({"ECOM_DATA_DIR": str(marts_dir)})
    try:
        check_every_page(browser, url, settings)
        # Publish again under a new build id while the dashboard runs: the next page load shows it.
        state = read_json(settings.warehouse_dir / BUILD_STATE)
        write_json_atomic(settings.warehouse_dir / BUILD_STATE, {**state, "build_id": "republished-build"})
        ecom("publish", data_dir=marts_dir)
        page = browser.new_page()
        try:
            open_page(page, f"{url}/kpis", "Orders", PAGES["kpis"][2])
            page.get_by_text("Build republished-build").wait_for(timeout=30_000)
        finally:
            page.close()
    finally:
        proc.kill()
        proc.wait()


def test_every_page_from_postgres(marts_dir, browser, bi_server):
    settings = bi_server.settings_for(marts_dir)
    ecom("serve", data_dir=marts_dir, env=bi_server.env_for(marts_dir))
    proc, url = start_dashboard({"ECOM_DATA_DIR": str(marts_dir), "ECOM_DASHBOARD_DSN": bi_server.reader_url})
    try:
        check_every_page(browser, url, settings)
        page = browser.new_page()
        try:
            open_page(page, f"{url}/funnel", "Sessions", PAGES["funnel"][2])
            assert page.get_by_text("PostgreSQL").count() >= 1
        finally:
            page.close()
    finally:
        proc.kill()
        proc.wait()
