"""The work the Airflow tasks do, as plain functions: the DAGs and the `ecom` CLI share them."""

from __future__ import annotations

import datetime as dt

from pipeline.settings import Settings


def generate_partition(
    day: dt.date, scale: str | None = None, seed: int | None = None, inject: str | list[str] = ""
) -> dict:
    """Generate exactly the partitions of `day` (idempotent: a re-run replaces them)."""
    from generator.run import generate_window

    if not isinstance(inject, str):
        inject = ",".join(inject)
    settings = Settings.load(scale=scale, seed=seed, inject=inject or None, start=day, end=day)
    results = generate_window(settings.generator_config(), settings.lake_dir, [day], echo=print)
    return {"day": day.isoformat(), "rows": results[0].rows}


def build_marts(full_refresh: bool = False, select: str | None = None) -> dict:
    """dbt build; raises with the failing tests named when anything fails (nothing is published then)."""
    from pipeline.warehouse import build

    result = build(Settings.load(), full_refresh=full_refresh, select=select or None)
    if not result.outcome.success:
        raise RuntimeError(f"dbt build {result.build_id} failed:\n{result.outcome.describe_failures()}")
    return {"build_id": result.build_id, "counts": result.outcome.counts, "seconds": round(result.seconds, 2)}


def publish_marts() -> dict:
    from pipeline.warehouse import publish

    result = publish(Settings.load())
    return {"build_id": result.build_id, "tables": result.tables, "seconds": round(result.seconds, 2)}


def smoke_check() -> dict:
    """Open the published file read-only, as an analyst would, and check that the marts answer."""
    import duckdb

    settings = Settings.load()
    con = duckdb.connect(str(settings.publish_db), read_only=True)
    try:
        days, orders = con.execute("select count(*), sum(orders) from marts.dm_kpi_daily").fetchone()
    finally:
        con.close()
    if not days:
        raise RuntimeError(f"published marts at {settings.publish_db} hold no days")
    return {"days": days, "orders": int(orders or 0)}


def publish_bi() -> dict:
    """Refresh PostgreSQL from the published marts when it is configured (ECOM_BI_DSN, or a running
    `ecom serve` server); a no-op otherwise, so the refresh DAG can always call it."""
    from pipeline.serve import bi_configured

    settings = Settings.load()
    if not bi_configured(settings):
        return {"published": False, "reason": "PostgreSQL serving is not configured"}
    from pipeline.postgres import publish_postgres

    result = publish_postgres(settings)
    return {
        "published": True,
        "build_id": result.build_id,
        "target": result.target,
        "tables": result.tables,
        "seconds": round(result.seconds, 2),
        "pending_drops": result.pending_drops,
    }


# --- The dbt build watched per node in Airflow (astronomer-cosmos), around write-audit-publish --------------

# Test results printed per failing dbt test in its task log: enough rows to see the problem, few enough to read.
FAILING_ROWS_SHOWN = 10


def start_build(full_refresh: bool = False, select: str = "", engine: str | None = None) -> dict:
    """Mark a build running and resolve the run's dbt selector into the node ids it covers (None: all)."""
    from pipeline.warehouse import mark_build_running

    settings = Settings.load(engine=engine or None)
    if settings.engine == "spark":  # fail here, in one line, rather than inside the dbt task
        from pipeline.spark import prepare_spark_build

        prepare_spark_build(settings)
    selected = resolve_selection(settings, select) if select and select.strip() else None
    build_id = mark_build_running(settings, full_refresh=full_refresh, select=select or None)
    return {"build_id": build_id, "select": select or None, "selected": selected, "engine": settings.engine}


def finish_build(build_id: str, passed: bool, engine: str | None = None) -> dict:
    """Record the outcome of the per-model build; only a passed build may be published."""
    from pipeline.warehouse import mark_build_finished

    settings = Settings.load(engine=engine or None)
    if passed and settings.engine == "spark":  # Spark's marts reach build.duckdb only from a passing build
        from pipeline.spark import export_dir, load_marts

        try:
            load_marts(settings, export_dir(settings))
        except Exception:
            mark_build_finished(settings, build_id, False, [{"error": "loading the Spark marts failed"}])
            raise
    state = mark_build_finished(settings, build_id, passed)
    return {"build_id": build_id, "status": state["status"], "seconds": state["seconds"]}


def resolve_selection(settings: Settings, select: str) -> list[str]:
    """`dbt ls --select <select>` in a child process: the unique ids of the nodes (models, tests...) selected."""
    import json
    import os
    import subprocess

    from generator.config import ConfigError
    from pipeline.dbt import dbt_args, dbt_executable

    # cautious: a test on two models is selected only with both, as the per-model tasks need both tables built
    args = dbt_args(
        settings, "ls", "--select", select, "--indirect-selection", "cautious",
        "--output", "json", "--output-keys", "unique_id",
    )  # fmt: skip
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run([dbt_executable(), *args], env=env, capture_output=True, text=True, check=False)
    ids = []
    for line in proc.stdout.splitlines():
        start = line.find('{"unique_id"')
        if start >= 0:
            ids.append(json.loads(line[start:])["unique_id"])
    if proc.returncode != 0:
        raise ConfigError(f"dbt selector {select!r} is invalid:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    if not ids:
        raise ConfigError(f"dbt selector {select!r} selects no node of the project")
    return sorted(ids)


def prepare_dbt_task(context, operator) -> None:
    """Cosmos interceptor, run right before the dbt build: point dbt at this run's paths and selector.

    The environment is computed when the task runs, not when the DAG is parsed, so the build always writes the
    data directory of its own settings.
    """
    settings = Settings.load()
    operator.env = {
        **(operator.env or {}),
        **settings.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    build = context["ti"].xcom_pull(task_ids="start_build") or {}
    if build.get("engine"):  # the run's `engine` Param picks the dbt target (dbt_project/profiles.yml)
        import copy

        operator.profile_config = copy.copy(operator.profile_config)
        operator.profile_config.target_name = build["engine"]
        operator.env["ECOM_DBT_TARGET"] = build["engine"]
    if build.get("select"):
        operator.select = build["select"]
        # as `start_build` resolved it: a test on two models runs only when both are selected
        operator.indirect_selection = "cautious"


def skip_unselected_node(context) -> None:
    """pre_execute hook of the per-node tasks: a node outside the run's selector skips itself.

    The dbt tasks trigger on `none_failed`, so selected nodes downstream of a skipped one still report.
    """
    from airflow.exceptions import AirflowSkipException

    task = context["task"]
    node = (getattr(task, "extra_context", None) or {}).get("dbt_node_config", {}).get("unique_id")
    if not node:
        return
    build = context["ti"].xcom_pull(task_ids="start_build") or {}
    selected = build.get("selected")
    if selected is not None and node not in selected:
        raise AirflowSkipException(f"{node} is outside the selector {build.get('select') or ''}".strip())


# XCom key (on the producer task) of the failing dbt nodes: {unique_id: {"parents": [...], "text": "..."}}
FAILURES_XCOM_KEY = "ecom_dbt_failures"


def node_result_from_build(operator, try_number: int, context, producer_state: str | None = None) -> bool:
    """Replaces Cosmos's per-node fallback (a `dbt run` of the one node, outside the DuckDB pool) and its wait.

    A per-node task starts once the build has finished, and lands here when the build left no status it reads
    (a test on several models, a node dbt skipped, or a task cleared by hand). It answers at once from the
    build's per-node results, without writing to the build database and without deferring: failed if the node
    (or, for a model's tests, any of them) failed, passed if dbt passed it or the whole build passed.
    """
    from airflow.exceptions import AirflowException
    from cosmos.operators._watcher.state import DBT_SUCCESS_STATUSES, get_dbt_event_xcom_key

    node, producer, ti = operator.model_unique_id, operator.producer_task_id, context["ti"]
    # the tests of a model: failed if any of them is among the build's failures
    if getattr(operator, "is_test_sensor", False):
        failures = ti.xcom_pull(task_ids=producer, key=FAILURES_XCOM_KEY) or {}
        failing = sorted(uid for uid, f in failures.items() if uid == node or node in f.get("parents", []))
        if failing:
            raise AirflowException(f"dbt tests of {node} failed in this run's build: {', '.join(failing)}")
    event = ti.xcom_pull(task_ids=producer, key=get_dbt_event_xcom_key(node)) or {}
    status = event.get("status")
    if status in DBT_SUCCESS_STATUSES:
        print(f"dbt {node}: {status} in this run's build", flush=True)
        return True
    if producer_state is None:
        producer_state = operator._get_producer_task_status(context)
    if status is None and producer_state == "success":
        print(f"dbt {node}: this run's build passed without reporting it on its own", flush=True)
        return True
    raise AirflowException(
        f"dbt {node}: {status or 'no result'} in this run's build (task {producer}, {producer_state}). "
        "Per-node tasks never re-run dbt on their own: fix the cause and re-run the DAG."
    )


def report_dbt_failures(project_dir: str, context=None, **_) -> None:
    """Cosmos callback, run after the dbt build: name each failing test and print the rows that broke it.

    The report goes to the build task's log, and to XCom so the per-node task of a failing test repeats it.
    """
    import logging

    failures = dbt_failures(project_dir, Settings.load())
    if not failures:
        return
    text = "\n\n".join(f["text"] for f in failures.values())
    logging.getLogger("airflow.task").error("%s", text)
    print(text, flush=True)
    if context is not None:
        context["ti"].xcom_push(key=FAILURES_XCOM_KEY, value=failures)


def log_node_failures(context) -> None:
    """on_failure_callback of the per-node tasks: repeat the build's report of the failing tests of this node."""
    task = context["task"]
    node = getattr(task, "model_unique_id", None)
    producer = getattr(task, "producer_task_id", None)
    if not node or not producer:
        return
    failures = context["ti"].xcom_pull(task_ids=producer, key=FAILURES_XCOM_KEY) or {}
    mine = [f["text"] for uid, f in sorted(failures.items()) if uid == node or node in f.get("parents", [])]
    if mine:
        print("\n\n".join(mine), flush=True)


def describe_dbt_failures(project_dir: str, settings: Settings, limit: int = FAILING_ROWS_SHOWN) -> str:
    """From a dbt run's run_results.json: each failing node, and for a failing test, its first failing rows."""
    return "\n\n".join(f["text"] for f in dbt_failures(project_dir, settings, limit).values())


def dbt_failures(project_dir: str, settings: Settings, limit: int = FAILING_ROWS_SHOWN) -> dict[str, dict]:
    """{unique_id: {"parents": the nodes it depends on, "text": status, message and first failing rows}}."""
    import json
    from pathlib import Path

    target = Path(project_dir) / "target"
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return {}
    try:
        nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        nodes = {}
    failures = {}
    for node in results:
        if node.get("status") not in ("fail", "error", "runtime error"):
            continue
        name = node["unique_id"]
        head = f"dbt {name} {node['status'].upper()}"
        if node.get("failures"):
            head += f": {node['failures']} failing rows"
        message = (node.get("message") or "").strip()
        lines = [head + (f" ({message})" if message else "")]
        if name.startswith(("test.", "unit_test.")) and node.get("compiled_code"):
            lines.append(_failing_rows(node["compiled_code"], settings, limit))
        parents = (nodes.get(name) or {}).get("depends_on", {}).get("nodes", [])
        failures[name] = {"parents": list(parents), "text": "\n".join(lines)}
    return failures


def _failing_rows(sql: str, settings: Settings, limit: int) -> str:
    """Run a test's query read-only against the build database and format its first rows as a table."""
    import duckdb

    try:
        con = duckdb.connect(str(settings.build_db), read_only=True)
    except duckdb.Error as exc:
        return f"  (could not open {settings.build_db} to show the failing rows: {exc})"
    try:
        cur = con.execute(f"select * from ({sql.strip().rstrip(';')}) as failing limit {int(limit)}")
        columns = [c[0] for c in cur.description]
        rows = cur.fetchall()
    except duckdb.Error as exc:
        return f"  (could not re-run the test query to show the failing rows: {exc})"
    finally:
        con.close()
    cells = [columns, *[["NULL" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    table = ["  " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    table.insert(1, "  " + "-+-".join("-" * w for w in widths))
    return f"  first {len(rows)} failing rows:\n" + "\n".join(table)
