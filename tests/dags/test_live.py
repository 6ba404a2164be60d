"""A real Airflow: `airflow standalone` (as `make airflow` starts it) driven through its REST API and its UI.

One instance, shared by the module: a temporary AIRFLOW_HOME and data dir, a free port, tiny scale. The
generation DAG runs on demand only (`ECOM_AIRFLOW_SCHEDULE=none`), so the only runs are the ones the tests trigger,
and the Asset-triggered refreshes they cause.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import duckdb
import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY1, DAY2 = "2025-09-01", "2025-09-02"
STARTUP_TIMEOUT = 240
RUN_TIMEOUT = 900
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    """A minimal client of Airflow 3's REST API (/api/v2) with a JWT from /auth/token."""

    def __init__(self, base: str, user: str, password: str):
        self.base, self.user, self.password, self.token = base, user, password, None

    def call(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token or self.login()}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def login(self) -> str:
        self.token = self.call(
            "POST", "/auth/token", {"username": self.user, "password": self.password}, auth=False
        )["access_token"]
        return self.token

    def wait_for_run(self, dag_id: str, predicate, timeout: float = RUN_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after&limit=20")["dag_runs"]
            for run in runs:
                if predicate(run) and run["state"] in ("success", "failed"):
                    return run
            time.sleep(3)
        raise AssertionError(f"no finished run of {dag_id} within {timeout}s: {runs}")


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    data = tmp_path_factory.mktemp("airflow-live-data")
    port, password = free_port(), secrets.token_urlsafe(12)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ECOM_"))},
        "AIRFLOW_HOME": str(home),
        "ECOM_AIRFLOW_PORT": str(port),
        "ECOM_AIRFLOW_PASSWORD": password,
        "ECOM_DATA_DIR": str(data),
        "ECOM_SCALE": "tiny",
        # the log servers of the scheduler and the triggerer: free ports too, beside other instances
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "ECOM_AIRFLOW_SCHEDULE": "none",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    }
    log = (home / "standalone.log").open("w")
    proc = subprocess.Popen(
        [str(REPO / "airflow" / "standalone.sh")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = Api(f"http://localhost:{port}", "admin", password)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"airflow standalone exited:\n{(home / 'standalone.log').read_text()[-3000:]}"
                )
            try:
                dags = api.call("GET", "/api/v2/dags?dag_id_pattern=ecommerce")["dags"]
                if {d["dag_id"] for d in dags} >= {"ecommerce_generate_daily", "ecommerce_marts_refresh"}:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"Airflow not ready in {STARTUP_TIMEOUT}s")
            time.sleep(2)
        for dag_id in ("ecommerce_generate_daily", "ecommerce_marts_refresh"):
            api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        yield api, data, home
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_rest_trigger_generates_a_day_and_the_asset_triggered_refresh_publishes_it(airflow):
    api, data, _ = airflow
    run = api.call(
        "POST",
        "/api/v2/dags/ecommerce_generate_daily/dagRuns",
        {"dag_run_id": "rest_day1", "logical_date": f"{DAY1}T00:00:00Z", "conf": {}},
    )
    assert run["state"] == "queued"
    gen = api.wait_for_run("ecommerce_generate_daily", lambda r: r["dag_run_id"] == "rest_day1")
    assert gen["state"] == "success"
    refresh = api.wait_for_run("ecommerce_marts_refresh", lambda r: r["run_type"] == "asset_triggered")
    if refresh["state"] != "success":
        tis = api.call(
            "GET", f"/api/v2/dags/ecommerce_marts_refresh/dagRuns/{refresh['dag_run_id']}/taskInstances"
        )
        failed = [t["task_id"] for t in tis["task_instances"] if t["state"] != "success"]
        raise AssertionError(f"refresh {refresh['dag_run_id']} {refresh['state']}: {failed}")
    con = duckdb.connect(str(data / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        days = con.execute(
            "select min(kpi_date)::varchar, max(kpi_date)::varchar, sum(orders) from marts.dm_kpi_daily"
        ).fetchone()
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()
    assert days[:2] == (DAY1, DAY1) and days[2] > 0
    assert {"dm_kpi_daily", "dm_rfm_segments", "dm_funnel_events"} <= tables
    # the smoke check's log is reachable through the API too
    tis = api.call(
        "GET", f"/api/v2/dags/ecommerce_marts_refresh/dagRuns/{refresh['dag_run_id']}/taskInstances?limit=200"
    )
    states = {t["task_id"]: t["state"] for t in tis["task_instances"]}
    assert states["publish"] == states["smoke_check"] == "success"
    assert sum(1 for t in states if t.startswith("dbt.") and t.endswith(".test")) >= 5


def test_browser_login_sees_both_dags_and_triggers_a_run_from_the_form(airflow, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    api, data, _ = airflow
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(api.base + "/")
            page.get_by_label("Username").fill(api.user)
            page.get_by_label("Password").fill(api.password)
            page.get_by_role("button", name="Sign in").click()

            page.goto(api.base + "/dags")
            expect(page.get_by_text("ecommerce_generate_daily")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("ecommerce_marts_refresh")).to_be_visible()

            page.goto(api.base + "/dags/ecommerce_generate_daily")
            page.get_by_role("button", name="Trigger").first.click()
            dialog = page.get_by_role("dialog")
            # the Params form, with the descriptions written in the DAG file
            for text in ("Run Parameters", "scale", "seed", "inject", "Volume preset", "duplicate_keys"):
                expect(dialog.get_by_text(text).first).to_be_visible(timeout=30_000)
            dialog.locator("input[name='element_day']").fill(DAY2)
            dialog.get_by_role("button", name="Trigger").last.click()
            page.wait_for_url("**/runs/**", timeout=30_000)
        finally:
            browser.close()
    run = api.wait_for_run("ecommerce_generate_daily", lambda r: (r.get("conf") or {}).get("day") == DAY2)
    assert run["state"] == "success" and run["run_type"] == "manual"
    assert (data / "lake" / "orders" / f"dt={DAY2}" / "part-0.parquet").exists()
