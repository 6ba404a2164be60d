"""A real Airflow: `airflow standalone` (as `make airflow` starts it) driven through its REST API, its CLI and
its UI in headless Chromium, as the README's Airflow section tells a data engineer to.

One instance, shared by the module: a temporary AIRFLOW_HOME and data dir, a free port, tiny scale. The
generation DAG keeps its daily schedule with catchup off (`ECOM_AIRFLOW_CATCHUP=false`), so unpausing it queues
nothing: the only runs are the ones the tests trigger or backfill, and the Asset-triggered refreshes they cause.
Screenshots go to $SHOTS_DIR when it is set.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request

import duckdb
import pytest

from tests.support.ecom import REPO, ecom, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY1, DAY2 = "2025-09-01", "2025-09-02"
SHOTS = os.environ.get("SHOTS_DIR")  # not ECOM_*: tests/conftest.py clears those
STARTUP_TIMEOUT = 600  # `airflow standalone` serves in ~45 s, minutes on a loaded 2-core machine
RUN_TIMEOUT = 900
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]


def login(page, api) -> None:
    page.goto(api.base + "/")
    page.get_by_label("Username").fill(api.user)
    page.get_by_label("Password").fill(api.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/", timeout=180_000)


def new_page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    # the UI answers in seconds, but in minutes on a loaded 2-core machine running Airflow and dbt
    page.set_default_timeout(180_000)
    return page


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


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
        with urllib.request.urlopen(req, timeout=90) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def login(self) -> str:
        self.token = self.call(
            "POST", "/auth/token", {"username": self.user, "password": self.password}, auth=False
        )["access_token"]
        return self.token

    def states(self, dag_id: str, run_id: str) -> dict[str, str]:
        tis = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=200")
        return {t["task_id"]: t["state"] for t in tis["task_instances"]}

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        from urllib.parse import quote

        path = f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/logs/{try_number}"
        content = self.call("GET", path + "?full_content=true")["content"]
        return "\n".join(c.get("event", "") if isinstance(c, dict) else str(c) for c in content)

    def log_with(self, dag_id: str, run_id: str, task_id: str, text: str, timeout: float = 120) -> str:
        """The task's log once it holds `text`: right after a task ends, the API may serve its log before the
        last lines reached it."""
        deadline = time.monotonic() + timeout
        while (log := self.log(dag_id, run_id, task_id)).count(text) == 0 and time.monotonic() < deadline:
            time.sleep(3)
        assert text in log, f"{text!r} not in the log of {task_id}:\n{log[-3000:]}"
        return log

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after&limit=50")["dag_runs"]

    def wait_for_run(self, dag_id: str, predicate, timeout: float = RUN_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        runs = []
        while time.monotonic() < deadline:
            try:
                runs = self.runs(dag_id)
            except (TimeoutError, urllib.error.URLError):  # a busy machine: ask again
                time.sleep(3)
                continue
            for run in runs:
                if predicate(run) and run["state"] in ("success", "failed"):
                    return run
            time.sleep(3)
        raise AssertionError(f"no finished run of {dag_id} within {timeout}s: {runs}")

    def settled_runs(self, dag_id: str, timeout: float = RUN_TIMEOUT) -> set[str]:
        """The ids of the DAG's runs once none is queued or running (e.g. a refresh an earlier test caused)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs(dag_id)
            if all(r["state"] in ("success", "failed") for r in runs):
                return {r["dag_run_id"] for r in runs}
            time.sleep(3)
        raise AssertionError(f"runs of {dag_id} still active after {timeout}s")


def backfill_completed(api: Api, body: dict, done, attempts: int = 4) -> dict:
    """POST /api/v2/backfills and wait until the backfill completes and `done()` holds; returns the backfill.

    `airflow standalone` keeps its metadata in SQLite, where a backfill's creation can meet the scheduler's writes:
    the POST then fails (HTTP 500 or 503, apache/airflow#66726) after the backfill row was committed, and Airflow
    removes that half-made backfill again, or leaves it without runs. Each such attempt is retried; a backfill
    that completes without `done()` holding counts as one of them.
    """
    dag_id = body["dag_id"]

    def listed() -> list[dict]:
        return api.call("GET", f"/api/v2/backfills?dag_id={dag_id}")["backfills"]

    failures = []
    for _ in range(attempts):
        known = {b["id"] for b in listed()}
        try:
            created = api.call("POST", "/api/v2/backfills", body)
        except urllib.error.HTTPError as e:
            if e.code not in (500, 503):
                raise
            failures.append(f"POST: HTTP {e.code}")
            time.sleep(5)
            new = [b for b in listed() if b["id"] not in known]
            if not new:
                continue
            created = new[0]
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            try:
                backfill = api.call("GET", f"/api/v2/backfills/{created['id']}")
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    raise
                failures.append(f"backfill {created['id']} removed after its creation failed")
                break
            if backfill["completed_at"] is not None:
                if done():
                    return backfill
                failures.append(f"backfill {created['id']} completed without running")
                break
            assert time.monotonic() < deadline, f"backfill {created['id']} not completed in {RUN_TIMEOUT}s"
            time.sleep(3)
    pytest.fail(f"no backfill of {dag_id} ran in {attempts} attempts: {failures}")


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
        "ECOM_AIRFLOW_CATCHUP": "false",
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
        # as the README says: unpause the generation DAG only (the refresh starts unpaused)
        api.call("PATCH", "/api/v2/dags/ecommerce_generate_daily", {"is_paused": False})
        yield api, data, home, env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_rest_trigger_generates_a_day_and_the_asset_triggered_refresh_publishes_it(airflow):
    api, data, _, _ = airflow
    dags = {d["dag_id"]: d for d in api.call("GET", "/api/v2/dags?dag_id_pattern=ecommerce")["dags"]}
    assert dags["ecommerce_marts_refresh"]["is_paused"] is False  # no second unpause needed
    assert not api.runs("ecommerce_generate_daily")  # catchup off: unpausing queued nothing
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
    states = api.states("ecommerce_marts_refresh", refresh["dag_run_id"])
    assert states["publish"] == states["smoke_check"] == "success"
    from pipeline.build.results import LAYERS, layer_group_id, load_manifest, task_nodes

    groups = {layer_group_id(layer) for layer in LAYERS}
    nodes = {t: s for t, s in states.items() if t.split(".")[0] in groups}

    expected = {t.key for t in task_nodes(load_manifest(REPO / "dbt_project" / "target" / "manifest.json"))}
    assert set(nodes) == expected  # one task per model, seed and tested lake source, as the manifest says
    assert set(nodes.values()) == {"success"}, nodes  # the node tasks ended in the triggerer, green


def test_browser_login_sees_both_dags_and_triggers_a_run_from_the_form(airflow, browser):
    from playwright.sync_api import expect

    api, data, _, _ = airflow
    page = new_page(browser)
    login(page, api)
    page.goto(api.base + "/dags")
    expect(page.get_by_text("ecommerce_generate_daily")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("ecommerce_marts_refresh")).to_be_visible()
    shot(page, "dags-list")

    page.goto(api.base + "/dags/ecommerce_generate_daily")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    # the Params form, with the descriptions written in the DAG file
    for text in ("Run Parameters", "scale", "seed", "inject", "Volume preset", "duplicate_keys"):
        expect(dialog.get_by_text(text).first).to_be_visible(timeout=180_000)
    dialog.locator("input[name='element_day']").fill(DAY2)
    shot(page, "generate-trigger-form")
    dialog.get_by_role("button", name="Trigger").last.click()
    page.wait_for_url("**/runs/**", timeout=180_000)
    page.close()
    run = api.wait_for_run("ecommerce_generate_daily", lambda r: (r.get("conf") or {}).get("day") == DAY2)
    assert run["state"] == "success" and run["run_type"] == "manual"
    assert (data / "lake" / "orders" / f"dt={DAY2}" / "part-0.parquet").exists()


def test_refresh_form_submits_with_its_defaults_and_builds_everything(airflow, browser):
    from playwright.sync_api import expect

    api, _, _, _ = airflow
    before = api.settled_runs("ecommerce_marts_refresh")
    page = new_page(browser)
    login(page, api)
    page.goto(api.base + "/dags/ecommerce_marts_refresh")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("select").first).to_be_visible(timeout=180_000)
    shot(page, "refresh-trigger-form")
    submit = dialog.get_by_role("button", name="Trigger").last
    expect(submit).to_be_enabled(timeout=180_000)  # with the defaults: empty select, no full refresh
    submit.click()
    page.wait_for_url("**/runs/**", timeout=180_000)
    run = api.wait_for_run("ecommerce_marts_refresh", lambda r: r["dag_run_id"] not in before)
    assert run["run_type"] == "manual" and run["state"] == "success"
    states = api.states("ecommerce_marts_refresh", run["dag_run_id"])
    # the whole project: every source's tests ran (none left out as with a `fqn:*` selector)
    assert {t: s for t, s in states.items() if t.startswith("2_lake.")} and all(
        s == "success" for t, s in states.items() if t.startswith("2_lake.")
    ), states
    page.goto(api.base + f"/dags/ecommerce_marts_refresh/runs/{run['dag_run_id']}")
    page.wait_for_timeout(3000)
    shot(page, "refresh-run-graph")
    page.close()


def test_injected_fault_shows_one_failed_node_whose_log_opens_with_the_test_and_rows(airflow, browser):
    from playwright.sync_api import expect

    api, data, _, _ = airflow
    before = api.settled_runs("ecommerce_marts_refresh")
    published = data / "warehouse" / "ecommerce.duckdb"
    published_bytes = published.read_bytes()
    api.call(
        "POST",
        "/api/v2/dags/ecommerce_generate_daily/dagRuns",
        # the day as the `day` Param, as the Trigger form sends it: a second run with DAY1's logical date would be
        # refused (HTTP 409), one run per logical date
        {
            "dag_run_id": "fault_day1",
            "logical_date": None,
            "conf": {"day": DAY1, "inject": ["duplicate_keys"]},
        },
    )
    assert api.wait_for_run("ecommerce_generate_daily", lambda r: r["dag_run_id"] == "fault_day1")[
        "state"
    ] == ("success")
    run = api.wait_for_run("ecommerce_marts_refresh", lambda r: r["dag_run_id"] not in before)
    assert run["state"] == "failed"
    states = api.states("ecommerce_marts_refresh", run["dag_run_id"])
    assert sorted(t for t, s in states.items() if s == "failed") == ["2_lake.orders", "mark_failed"], states
    assert states["3_staging.stg_lake__orders"] == states["5_marts.dm_kpi_daily"] == "skipped"
    assert states["dbt_build"] == "success" and states["publish"] == "upstream_failed"
    assert published.read_bytes() == published_bytes  # nothing published
    log = api.log_with("ecommerce_marts_refresh", run["dag_run_id"], "2_lake.orders", "failing rows")
    lines = [line for line in log.splitlines() if line.strip()]
    # Airflow's own framing first (the log's source, folded in the UI, and the triggerer's "starting" line)...
    lines = [
        line
        for line in lines
        if not line.startswith(("::group::", "::endgroup::", "/"))
        and not (line.startswith("trigger ") and line.endswith(" starting"))
    ]
    # ...then the test's name, then its failing rows, before anything else
    assert "source_unique_lake_orders_order_id" in lines[0] and "FAIL" in lines[0], lines[:10]
    assert "failing rows" in "\n".join(lines[:3]), lines[:10]
    assert any("n_records" in line for line in lines[:5]), lines[:6]
    build_log = api.log_with("ecommerce_marts_refresh", run["dag_run_id"], "dbt_build", "dbt build summary")
    tail = build_log[build_log.rindex("dbt build summary") :]
    assert "FAILED 2_lake.orders" in tail and "nothing will be published" in tail, tail[:2000]
    # readable text, not raw JSON (Airflow's own "Done. Returned value was: {...}" line may sort among it)
    summary = [
        line
        for line in tail[: tail.index("nothing will be published")].splitlines()
        if not line.startswith(("Done. Returned value was", "::", "Pushing xcom"))
    ]
    assert not any(line.lstrip().startswith(("{", "[", '"')) for line in summary), summary

    page = new_page(browser)
    login(page, api)
    page.goto(api.base + f"/dags/ecommerce_marts_refresh/runs/{run['dag_run_id']}/tasks/2_lake.orders")
    expect(page.get_by_text("source_unique_lake_orders_order_id").first).to_be_visible(timeout=180_000)
    shot(page, "failed-node-log")
    page.goto(api.base + f"/dags/ecommerce_marts_refresh/runs/{run['dag_run_id']}")
    page.wait_for_timeout(3000)
    shot(page, "failed-run-graph")
    page.close()
    # recovery: the day regenerated clean, the refresh passes again
    ids = api.settled_runs("ecommerce_marts_refresh")
    api.call(
        "POST",
        "/api/v2/dags/ecommerce_generate_daily/dagRuns",
        {"dag_run_id": "clean_day1", "logical_date": None, "conf": {"day": DAY1}},
    )
    assert (
        api.wait_for_run("ecommerce_marts_refresh", lambda r: r["dag_run_id"] not in ids)["state"]
        == "success"
    )


def test_documented_backfill_regenerates_days_that_already_ran(airflow, browser, tmp_path):
    """README: the DAG's Backfill form, "Reprocess Behavior: All Runs", regenerates days that already ran."""
    from playwright.sync_api import expect

    api, data, _, _ = airflow
    part = data / "lake" / "orders" / f"dt={DAY1}" / "part-0.parquet"
    assert part.exists()  # generated by the tests above
    before_mtime = part.stat().st_mtime_ns
    # what the day must be, whatever an earlier test left: a clean generation of it elsewhere
    ecom("generate", "--scale", "tiny", "--start", DAY1, "--end", DAY1, data_dir=tmp_path)
    clean = (tmp_path / "lake" / "orders" / f"dt={DAY1}" / "part-0.parquet").read_bytes()
    page = new_page(browser)
    login(page, api)
    page.goto(api.base + "/dags/ecommerce_generate_daily")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Backfill", exact=True).first.click()
    for day in (DAY1, DAY2):  # From, then To: each a date-and-time popover
        dialog.get_by_text("Select date and time").first.click()
        page.get_by_placeholder("YYYY/MM/DD").last.fill(day.replace("-", "/"))
        page.get_by_placeholder("HH:mm").last.fill("00:00")
        dialog.get_by_role("heading").first.click()  # closes the popover
    dialog.get_by_text("All Runs", exact=True).click()
    expect(dialog.get_by_text("2 runs will be triggered.")).to_be_visible(timeout=180_000)
    shot(page, "backfill-form")
    dialog.get_by_role("button", name="Run Backfill").click()
    expect(page.get_by_text("Backfill generated").first).to_be_visible(timeout=180_000)
    deadline = time.monotonic() + RUN_TIMEOUT
    backfilled = []
    while time.monotonic() < deadline:
        backfilled = [r for r in api.runs("ecommerce_generate_daily") if r["run_type"] == "backfill"]
        if len(backfilled) == 2 and all(r["state"] in ("success", "failed") for r in backfilled):
            break
        time.sleep(3)
    assert sorted(r["logical_date"][:10] for r in backfilled) == [DAY1, DAY2], backfilled
    assert {r["state"] for r in backfilled} == {"success"}
    # generated again (a new file), byte for byte the clean day
    assert part.stat().st_mtime_ns != before_mtime
    assert part.read_bytes() == clean
    page.goto(api.base + "/dags/ecommerce_generate_daily/runs")
    page.wait_for_timeout(3000)
    shot(page, "backfill-runs")
    page.close()

    # the README's scripted form of the same backfill: one request to the REST API, once the form's backfill is
    # recorded complete (a DAG has one active backfill at a time: HTTP 409 otherwise)
    deadline = time.monotonic() + RUN_TIMEOUT
    while any(
        b["completed_at"] is None
        for b in api.call("GET", "/api/v2/backfills?dag_id=ecommerce_generate_daily")["backfills"]
    ):
        assert time.monotonic() < deadline, "the form's backfill is not recorded complete"
        time.sleep(3)
    mtime = part.stat().st_mtime_ns
    backfill_completed(
        api,
        {"dag_id": "ecommerce_generate_daily", "from_date": f"{DAY1}T00:00:00Z",
         "to_date": f"{DAY1}T00:00:00Z", "reprocess_behavior": "completed"},
        done=lambda: part.stat().st_mtime_ns != mtime,
    )  # fmt: skip
    day1 = [r for r in api.runs("ecommerce_generate_daily") if (r["logical_date"] or "")[:10] == DAY1]
    assert day1 and day1[0]["state"] == "success", day1  # the latest run of that day
    assert part.stat().st_mtime_ns != mtime and part.read_bytes() == clean
