"""The work the Airflow tasks do, as plain functions: the DAGs and the `ecom` CLI share them."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from pipeline.errors import PipelineFailed
from pipeline.settings import Settings


def generation_day(
    settings: Settings, requested: str | None, logical_date: dt.date | None, manual: bool
) -> dt.date:
    """The day a generation run writes: the `day` Param, else the run's logical date, else the lake's next day
    (the DAG passes no logical date for a run of the Trigger form, whose logical date is the moment it was
    submitted). A day asked for by hand must not leave a gap; scheduled runs and backfills fill ranges several
    days at a time, so they may run out of order."""
    from pipeline.lake.check import check_no_gap, next_day

    if not requested and logical_date is None:
        day = next_day(settings)  # leaves no gap by definition
        print(f"no `day` given: generating the lake's next day, {day}", flush=True)
        return day
    day = dt.date.fromisoformat(str(requested)) if requested else logical_date
    if manual:
        check_no_gap(settings, day)
    return day


def backfill_days(
    start: str, end: str, most: int, scale: str | None = None, seed: int | None = None
) -> list[str]:
    """The days of a backfill range, refused in one line when it is reversed, too long, or would leave a gap."""
    from pipeline.errors import BadInput
    from pipeline.lake.check import check_no_gap

    with _no_retry_on_bad_input():
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        if last < first:
            raise BadInput(f"end {last} is before start {first}")
        count = (last - first).days + 1
        if count > most:
            raise BadInput(f"{count} days asked for; at most {most} per backfill")
        check_no_gap(Settings.load(scale=scale, seed=seed), first)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(count)]


def generate_partition(
    day: dt.date | None = None,
    scale: str | None = None,
    seed: int | None = None,
    inject: str | list[str] = "",
    market: str | None = None,
    requested: str | None = None,
    manual: bool = False,
) -> dict:
    """Generate exactly the partitions of one day (idempotent: a re-run replaces them). `day` is the run's
    logical date; `requested` (the `day` Param) and `manual` go through `generation_day`."""
    from generator.run import generate_window

    if not isinstance(inject, str):
        inject = ",".join(inject)
    with _no_retry_on_bad_input():
        settings = Settings.load(scale=scale, seed=seed, market=market, inject=inject or None)
        if day is None or requested or manual:
            day = generation_day(settings, requested, day, manual)
        settings = Settings.load(
            scale=scale, seed=seed, market=market, inject=inject or None, start=day, end=day
        )
        results = generate_window(settings.generator_config(), settings.lake_dir, [day], echo=print)
    return {"day": day.isoformat(), "rows": results[0].rows}


@contextlib.contextmanager
def _no_retry_on_bad_input() -> Iterator[None]:
    """Bad input (a Param that does not match the lake, a day that leaves a gap) fails the task at once, in the
    project's one line: trying again cannot fix it."""
    from airflow.sdk.exceptions import AirflowFailException

    from generator.config import ConfigError
    from pipeline.errors import as_ecom_error

    try:
        yield
    except ConfigError as exc:
        raise AirflowFailException(as_ecom_error(exc).line()) from None


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
        raise PipelineFailed(f"published marts at {settings.publish_db} hold no days")
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


def publish_redis() -> dict:
    """Load the published marts into Redis as a new version when Redis serves (ECOM_REDIS_URL, or a running
    `ecom redis` server); otherwise say so and carry on, so the refresh DAG can always call it: the API then
    serves from the published DuckDB file."""
    from pipeline.publish.redis.publish import publish_if_serving

    result = publish_if_serving(Settings.load())
    if isinstance(result, str):
        print(result, flush=True)
        return {"published": False, "reason": result}
    return {
        "published": True,
        "build_id": result.build_id,
        "version": result.version,
        "target": result.target,
        "documents": result.documents,
        "removed_versions": result.removed,
        "seconds": round(result.seconds, 2),
    }


# --- The refresh DAG's build: the one build path (pipeline/build/run.py), reported per model ---------------


def start_build(full_refresh: bool = False, select: str | None = "", engine: str | None = None) -> dict:
    """Check the preconditions and open the build (build.json `running`): a build whose tasks die half-way is
    never published. A day still being generated skips the run (the generation's run triggers the next one)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from pipeline.build.run import begin_build
    from pipeline.errors import GenerationInProgress

    settings = Settings.load(engine=engine or None)
    try:
        build_id = begin_build(settings, full_refresh=bool(full_refresh), select=select, echo=print)
    except GenerationInProgress as exc:
        raise AirflowSkipException(
            f"{exc}; this refresh skips (nothing was built) and the generation's run triggers the next one"
        ) from None
    return {
        "build_id": build_id,
        "select": (select or "").strip() or None,
        "full_refresh": bool(full_refresh),
        "engine": settings.engine,
    }


def run_build(build: dict) -> dict:
    """The `dbt build` of the run's selection (everything when empty: models, seeds, unit and source tests),
    through the same function as `ecom build`, which records its outcome in build.json.

    dbt's own log streams to the task log; the log ends with a summary of what passed, failed (with the failing
    rows dbt stored in the `audit` schema) and was skipped. The per-model verdicts are returned (XCom) for the
    per-model tasks. A failing test does not fail this task: its model's task shows it, alone. This task fails
    only when dbt could not run (no result for any node), or on a failure no model task would show.
    The run's `engine` picks the dbt target (dbt_project/profiles.yml, through `Settings.dbt_env`).
    """
    import sys

    from pipeline.build.lock import build_lock
    from pipeline.build.results import build_summary, load_manifest, node_verdicts
    from pipeline.build.run import execute_build

    settings = Settings.load(engine=build.get("engine") or None)
    # one writer of build.duckdb: an `ecom build` of the same data dir waits for this one, and this for it
    with build_lock(settings, echo=print, what="refresh"):
        outcome = execute_build(
            settings,
            build["build_id"],
            full_refresh=bool(build.get("full_refresh")),
            select=build.get("select"),
            output=sys.stdout,
        )
    if outcome.error and not outcome.results:
        raise PipelineFailed(f"{outcome.error}: see dbt's log above")
    manifest = load_manifest(settings.dbt_target_dir / "manifest.json")
    verdicts = node_verdicts(
        manifest, list(outcome.results), settings.build_db, selected_all=not build.get("select")
    )
    print(build_summary(verdicts, outcome.counts, outcome.seconds), flush=True)
    shown = any(v["state"] == "failed" for v in verdicts.values())
    if not outcome.success and not shown:
        raise PipelineFailed(f"dbt build {build['build_id']} failed: {outcome.describe_failures()}")
    return {
        "build_id": build["build_id"],
        "passed": outcome.success,
        "failing": sorted(f.node for f in outcome.failures if f.node),
        "counts": outcome.counts,
        "seconds": round(outcome.seconds, 2),
        "nodes": verdicts,
    }


def finish_build(build_id: str, passed: bool, engine: str | None = None) -> dict:
    """The gate after the per-model tasks. `passed`: check that build.json records this build as passed (the
    build task wrote it) before anything is published. Not passed: record `failed` if the build task died
    before it could, then fail, so that a failed build reads as failed at a glance."""
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.build.dbt import DbtFailure
    from pipeline.build.lock import build_lock
    from pipeline.build.state import build_state, mark_build_finished

    settings = Settings.load(engine=engine or None)
    with build_lock(settings, echo=print, what="refresh"):
        state = build_state(settings) or {}
        if state.get("build_id") != build_id:
            raise PipelineFailed(
                f"build {build_id} is not the current build (build.json holds {state.get('build_id')})"
            )
        if state.get("status") == "running":  # the build task died or was killed before recording an outcome
            ended = DbtFailure(None, "error", "the build task ended before dbt finished").record()
            state = mark_build_finished(settings, build_id, False, [ended])
    if passed:
        if state.get("status") != "passed":
            raise PipelineFailed(
                f"build {build_id} did not pass (build.json: {state.get('status')}): nothing is published"
            )
        return {"build_id": build_id, "status": state["status"], "seconds": state.get("seconds")}
    failing = [f.get("node") or f.get("message") for f in state.get("failures") or []]
    shown = ", ".join(failing[:5]) + (", ..." if len(failing) > 5 else "")
    raise AirflowFailException(
        f"build {build_id} {state.get('status')}: {len(failing)} failing node(s)"
        + (f" ({shown})" if failing else "")
        + "; nothing was published and the previous marts stay served (the red tasks say why)"
    )
