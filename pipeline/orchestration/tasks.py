"""The work the Airflow tasks do, as plain functions: the DAGs and the `ecom` CLI share them."""

from __future__ import annotations

import datetime as dt

from pipeline.settings import Settings


def generate_partition(
    day: dt.date,
    scale: str | None = None,
    seed: int | None = None,
    inject: str | list[str] = "",
    market: str | None = None,
) -> dict:
    """Generate exactly the partitions of `day` (idempotent: a re-run replaces them)."""
    from generator.run import generate_window

    if not isinstance(inject, str):
        inject = ",".join(inject)
    settings = Settings.load(scale=scale, seed=seed, market=market, inject=inject or None, start=day, end=day)
    results = generate_window(settings.generator_config(), settings.lake_dir, [day], echo=print)
    return {"day": day.isoformat(), "rows": results[0].rows}


def build_marts(full_refresh: bool = False, select: str | None = None) -> dict:
    """dbt build; raises with the failing tests named when anything fails (nothing is published then)."""
    from pipeline.build.run import build

    result = build(Settings.load(), full_refresh=full_refresh, select=select or None)
    if not result.outcome.success:
        raise RuntimeError(f"dbt build {result.build_id} failed:\n{result.outcome.describe_failures()}")
    return {"build_id": result.build_id, "counts": result.outcome.counts, "seconds": round(result.seconds, 2)}


def publish_marts() -> dict:
    from pipeline.publish.warehouse import publish

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
    from pipeline.publish.postgres.serve import bi_configured

    settings = Settings.load()
    if not bi_configured(settings):
        return {"published": False, "reason": "PostgreSQL serving is not configured"}
    from pipeline.publish.postgres.publish import publish_postgres

    result = publish_postgres(settings)
    return {
        "published": True,
        "build_id": result.build_id,
        "target": result.target,
        "tables": result.tables,
        "seconds": round(result.seconds, 2),
        "pending_drops": result.pending_drops,
    }


# --- The refresh DAG's build: one `dbt build`, reported per model (pipeline/build/results.py) --------------------


def start_build(full_refresh: bool = False, select: str | None = "", engine: str | None = None) -> dict:
    """Mark a build running (build.json): a build whose tasks die half-way is never published."""
    from pipeline.build.lock import build_lock
    from pipeline.build.state import mark_build_running

    settings = Settings.load(engine=engine or None)
    if settings.engine == "spark":  # fail here, in one line, rather than inside the dbt task
        from pipeline.build.spark import prepare_spark_build

        prepare_spark_build(settings)
    select = (select or "").strip() or None
    # the CLI's lock (pipeline/build/lock.py): an `ecom build` of the same data dir finishes first
    with build_lock(settings, echo=print, what="refresh"):
        build_id = mark_build_running(settings, full_refresh=full_refresh, select=select)
    return {
        "build_id": build_id,
        "select": select,
        "full_refresh": bool(full_refresh),
        "engine": settings.engine,
    }


def run_build(build: dict) -> dict:
    """One `dbt build` of the run's selection (everything when empty: models, seeds, unit and source tests).

    dbt's own log streams to the task log; the log ends with a summary of what passed, failed (with the failing
    rows dbt stored in the `audit` schema) and was skipped. The per-model verdicts are returned (XCom) for the
    per-model tasks. A failing test does not fail this task: its model's task shows it, alone. This task fails
    only when dbt could not run (no result for any node), or on a failure no model task would show.
    The run's `engine` picks the dbt target (dbt_project/profiles.yml, through `Settings.dbt_env`).
    """
    import json
    import os
    import subprocess
    import sys
    import time

    from generator.config import ConfigError
    from pipeline.build.dbt import dbt_args, dbt_executable
    from pipeline.build.lock import build_lock
    from pipeline.build.results import FAILED_STATUSES, build_summary, load_manifest, node_verdicts
    from pipeline.records import BUILD_STATE, read_json

    settings = Settings.load(engine=build.get("engine") or None)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    extra = ["--full-refresh"] if build.get("full_refresh") else []
    if build.get("select"):
        # a test on two models runs only when both are selected (their tables exist in this build)
        extra += ["--select", build["select"], "--indirect-selection", "cautious"]
    results_path = settings.dbt_target_dir / "run_results.json"
    results_path.unlink(missing_ok=True)
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [dbt_executable(), "--no-use-colors", *dbt_args(settings, "build", *extra)]
    # one writer of build.duckdb: an `ecom build` of the same data dir waits for this one, and this for it
    with build_lock(settings, echo=print, what="refresh"):
        current = (read_json(settings.warehouse_dir / BUILD_STATE) or {}).get("build_id")
        if current != build["build_id"]:
            raise RuntimeError(
                f"another build ({current}) started after this run's start_build ({build['build_id']}): "
                "trigger the refresh again"
            )
        print("$ " + " ".join(cmd), flush=True)
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=sys.stdout, stderr=subprocess.STDOUT, check=False)
        seconds = time.perf_counter() - started
        try:
            results = json.loads(results_path.read_text())["results"]
        except (FileNotFoundError, KeyError, json.JSONDecodeError):
            raise RuntimeError(
                f"dbt build exited with code {proc.returncode} before running any node: see dbt's log above"
            ) from None
        if build.get("select") and not results:
            raise ConfigError(f"dbt selector {build['select']!r} selects no node of the project")
        manifest = load_manifest(settings.dbt_target_dir / "manifest.json")
        verdicts = node_verdicts(manifest, results, settings.build_db, selected_all=not build.get("select"))
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        print(build_summary(verdicts, counts, seconds), flush=True)
        failing = sorted(r["unique_id"] for r in results if r["status"] in FAILED_STATUSES)
        shown = any(v["state"] == "failed" for v in verdicts.values())
        passed = proc.returncode == 0 and not failing
        if not passed and not shown:
            raise RuntimeError(
                f"dbt build failed (exit {proc.returncode}) on {', '.join(failing) or 'no node'}"
            )
        return {
            "build_id": build["build_id"],
            "passed": passed,
            "failing": failing,
            "counts": counts,
            "seconds": round(seconds, 2),
            "nodes": verdicts,
        }


def finish_build(build_id: str, passed: bool, result: dict | None = None, engine: str | None = None) -> dict:
    """Record the outcome of the build; only a passed build may be published."""
    from pipeline.build.lock import build_lock

    settings = Settings.load(engine=engine or None)
    with build_lock(settings, echo=print, what="refresh"):
        return _finish_build(settings, build_id, passed, result)


def _finish_build(settings: Settings, build_id: str, passed: bool, result: dict | None) -> dict:
    from pipeline.build.state import mark_build_finished

    if passed and result is not None and not result.get("passed"):
        raise RuntimeError(f"build {build_id} did not pass: {', '.join(result.get('failing') or [])}")
    if passed and settings.engine == "spark":  # Spark's marts reach build.duckdb only from a passing build
        from pipeline.build.spark import export_dir, load_marts

        try:
            load_marts(settings, export_dir(settings))
        except Exception:
            mark_build_finished(settings, build_id, False, [{"error": "loading the Spark marts failed"}])
            raise
    failures = [{"node": uid} for uid in (result or {}).get("failing", [])]
    counts = (result or {}).get("counts")
    state = mark_build_finished(settings, build_id, passed, failures, counts=counts)
    return {"build_id": build_id, "status": state["status"], "seconds": state["seconds"]}
