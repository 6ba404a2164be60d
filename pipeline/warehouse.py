"""Write-audit-publish: dbt builds and tests in build.duckdb; only a passing build replaces the published file.

The published file `ecommerce.duckdb` is written under a temporary name and renamed over the old one, so a
reader holding the old file keeps reading it, new readers see the new one, and a crash at any point leaves the
previous version in place. It is written with an older storage version so that older readers can open it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.buildlock import build_lock, lock_is_free
from pipeline.dbt import DbtOutcome, run_dbt
from pipeline.errors import Interrupted, PipelineFailed
from pipeline.lakecheck import check_lake_for_build
from pipeline.lakestate import earliest_change, lake_signature
from pipeline.settings import Settings

PUBLISH_STORAGE_VERSION = "v1.4.0"
MART_SCHEMA = "marts"
META_SCHEMA = "ecom_meta"
BUILD_STATE = "build.json"
LAKE_PENDING_STATE = "lake_building.json"  # the lake as the running build saw it
LAKE_BUILT_STATE = "lake_built.json"  # the lake as the last whole passing build saw it
PUBLISH_STATE = "published.json"


class PublishRefused(PipelineFailed):
    """The build is not in a state that may be published."""


class BuildInterrupted(Interrupted):
    """The build stopped before dbt finished (Ctrl-C, SIGTERM); build.json records it as `interrupted`."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def write_json_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None


@dataclass(frozen=True)
class BuildResult:
    build_id: str
    outcome: DbtOutcome
    seconds: float


def build(
    settings: Settings,
    full_refresh: bool = False,
    select: str | None = None,
    wait: bool = True,
    echo: Callable[[str], None] | None = None,
    log_file: Path | None = None,
) -> BuildResult:
    """`dbt build` (models, unit tests, data tests) into build.duckdb, recording the outcome in build.json.

    Refuses a lake with missing days before dbt starts; one build at a time (`wait` or refuse, see
    pipeline/buildlock.py). With `log_file`, dbt's output goes there and `echo` gets a compact progress view.
    """
    if settings.engine == "spark":  # dbt on Spark; its marts are then loaded into build.duckdb
        from pipeline.spark import check_spark

        check_spark()  # one line naming what is missing (pyspark, Java), before anything is written
    check_lake_for_build(settings)
    with build_lock(settings, wait=wait, echo=echo):
        started = time.perf_counter()
        # Marked running first: a build killed half-way is never mistaken for a passing one.
        build_id = mark_build_running(settings, full_refresh=full_refresh, select=select, runner="ecom")
        extra = []
        if full_refresh:
            extra.append("--full-refresh")
        if select:
            extra += ["--select", select]
        try:
            if settings.engine == "spark":
                from pipeline.spark import build_on_spark

                outcome = build_on_spark(settings, *extra, log_file=log_file, progress=echo)
            else:
                outcome = run_dbt(settings, "build", *extra, log_file=log_file, progress=echo)
        except Interrupted:
            mark_build_finished(settings, build_id, False, status="interrupted")
            raise BuildInterrupted(
                f"build {build_id} was interrupted during dbt and recorded as interrupted; nothing was "
                "published (run `ecom build` again)"
            ) from None
        failures = [f.__dict__ for f in outcome.failures] + (
            [{"error": outcome.error}] if outcome.error else []
        )
        mark_build_finished(settings, build_id, outcome.success, failures, counts=outcome.counts)
        return BuildResult(build_id, outcome, time.perf_counter() - started)


def mark_build_running(
    settings: Settings, full_refresh: bool = False, select: str | None = None, runner: str = "airflow"
) -> str:
    """Open a build driven from outside `build()` (the refresh DAG: start_build, dbt_build, then mark_passed).

    Same contract as `build()`: the state says `running` until `mark_build_finished` records the outcome, so a
    build whose tasks died half-way is never published.
    """
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    signature = lake_signature(settings.lake_dir)
    previous = read_json(settings.warehouse_dir / LAKE_BUILT_STATE)
    if previous is None and not settings.build_db.exists():
        rebuild_from = None  # a first build reads everything anyway
    else:
        rebuild_from = earliest_change(signature, previous)
    write_json_atomic(
        settings.warehouse_dir / BUILD_STATE,
        {
            "build_id": build_id,
            "status": "running",
            "started_at": _now(),
            "select": select or None,
            "full_refresh": full_refresh,
            "runner": runner,
            # An `ecom` build runs in this process: a `running` state whose process is gone was killed.
            "pid": os.getpid(),
            # dbt reads this as ECOM_REBUILD_FROM (see Settings.dbt_env and dbt_project/macros/incremental.sql)
            "rebuild_from": rebuild_from.isoformat() if rebuild_from else None,
        },
    )
    write_json_atomic(settings.warehouse_dir / LAKE_PENDING_STATE, signature)
    return build_id


def mark_build_finished(
    settings: Settings,
    build_id: str,
    passed: bool,
    failures: list[dict] | None = None,
    counts: dict[str, int] | None = None,
    status: str | None = None,
) -> dict:
    """Record the outcome of the build opened by `mark_build_running` (refuses a build that is not current).

    `status` overrides passed/failed, e.g. `interrupted`.
    """
    path = settings.warehouse_dir / BUILD_STATE
    state = read_json(path)
    if state is None or state.get("build_id") != build_id:
        current = state.get("build_id") if state else None
        raise PublishRefused(f"build {build_id} is not the current build (build.json holds {current})")
    started = dt.datetime.fromisoformat(state["started_at"])
    state.update(
        status=status or ("passed" if passed else "failed"),
        finished_at=_now(),
        seconds=round((dt.datetime.now(dt.UTC) - started).total_seconds(), 2),
        failures=failures or [],
    )
    if counts is not None:
        state["counts"] = counts
    pending = read_json(settings.warehouse_dir / LAKE_PENDING_STATE)
    if passed and pending is not None and not state.get("select"):
        # Only a whole passing build moves the baseline; a failed or partial one is redone from the same day.
        write_json_atomic(settings.warehouse_dir / LAKE_BUILT_STATE, pending)
    write_json_atomic(path, state)
    return state


@dataclass(frozen=True)
class PublishResult:
    build_id: str
    path: Path
    tables: dict[str, int]
    seconds: float


def build_state(settings: Settings) -> dict | None:
    """build.json, with a build whose process died while `running` (SIGKILL, a crash) reported `interrupted`."""
    state = read_json(settings.warehouse_dir / BUILD_STATE)
    if state and state.get("status") == "running" and state.get("runner") == "ecom":
        pid = state.get("pid")
        # The lock catches a pid reused by another process since; the pid, a build that predates the lock.
        if isinstance(pid, int) and (not _alive(pid) or lock_is_free(settings)):
            state = {
                **state,
                "status": "interrupted",
                "interrupted_because": f"its process {pid} is gone: it was killed or crashed",
            }
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process nobody has reaped yet is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def publish(settings: Settings, echo: Callable[[str], None] | None = None) -> PublishResult:
    """Copy the marts of a passing build into a new file and atomically replace the published one.

    Holds the build lock, so it never reads a build that another process is writing.
    """
    with build_lock(settings, echo=echo):
        return _publish(settings)


def _publish(settings: Settings) -> PublishResult:
    import duckdb

    state = build_state(settings)
    if state is None or not settings.build_db.exists():
        raise PublishRefused(
            f"nothing to publish: no build in {settings.warehouse_dir} (run `ecom build` first)"
        )
    if state.get("status") == "interrupted":
        raise PublishRefused(
            f"refusing to publish build {state.get('build_id')}: it was interrupted before dbt finished "
            f"({state.get('interrupted_because') or 'Ctrl-C or a signal'}); run `ecom build` again"
        )
    if state.get("status") == "running":
        raise PublishRefused(
            f"refusing to publish build {state.get('build_id')}: it is still running (wait for it to finish)"
        )
    if state.get("status") != "passed":
        raise PublishRefused(
            f"refusing to publish build {state.get('build_id')}: its status is {state.get('status')!r}, "
            "not 'passed' (fix the failing tests and run `ecom build` again)"
        )
    started = time.perf_counter()
    target = settings.publish_db
    # A publish killed earlier leaves its temporary file behind; publishes are serialized, so it is garbage.
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    tables: dict[str, int] = {}
    try:
        con = duckdb.connect()
        try:
            con.execute(f"attach '{settings.build_db}' as build (read_only)")
            con.execute(f"attach '{tmp}' as pub (storage_version '{PUBLISH_STORAGE_VERSION}')")
            names = [
                r[0]
                for r in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'build' "
                    "and schema_name = ? order by table_name",
                    [MART_SCHEMA],
                ).fetchall()
            ]
            if not names:
                raise PublishRefused(f"build {state['build_id']} holds no tables in schema {MART_SCHEMA!r}")
            con.execute(f"create schema pub.{MART_SCHEMA}")
            for name in names:
                con.execute(
                    f"create table pub.{MART_SCHEMA}.{name} as select * from build.{MART_SCHEMA}.{name}"
                )
                tables[name] = con.execute(f"select count(*) from pub.{MART_SCHEMA}.{name}").fetchone()[0]
            _copy_comments(con, names)
            published_at = _now()
            con.execute(f"create schema pub.{META_SCHEMA}")
            _record_keys(con, mart_primary_keys(settings), names)
            con.execute(
                f"create table pub.{META_SCHEMA}.publication as select ? as build_id, "
                "cast(? as timestamp) as published_at, cast(? as timestamp) as built_at",
                [
                    state["build_id"],
                    published_at.replace("+00:00", ""),
                    state["finished_at"].replace("+00:00", ""),
                ],
            )
            con.execute("detach pub")
            con.execute("detach build")
        finally:
            con.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    write_json_atomic(
        settings.warehouse_dir / PUBLISH_STATE,
        {
            "build_id": state["build_id"],
            "built_at": state.get("finished_at"),
            "published_at": published_at,
            "path": str(target),
            "tables": tables,
            "seconds": round(seconds, 2),
        },
    )
    return PublishResult(state["build_id"], target, tables, seconds)


def mart_primary_keys(settings: Settings) -> dict[str, list[str]]:
    """`meta: {primary_key: [...]}` of each mart, from dbt's manifest of the build, else from the marts YAML."""
    manifest = read_json(settings.dbt_target_dir / "manifest.json")
    keys: dict[str, list[str]] = {}
    if manifest:
        for node in manifest.get("nodes", {}).values():
            if node.get("resource_type") != "model" or node.get("schema") != MART_SCHEMA:
                continue
            meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
            if meta.get("primary_key"):
                keys[node.get("alias") or node["name"]] = _key_list(meta["primary_key"])
        return keys
    import yaml

    for path in sorted((settings.dbt_project_dir / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            meta = {**(model.get("meta") or {}), **((model.get("config") or {}).get("meta") or {})}
            if meta.get("primary_key"):
                keys[model["name"]] = _key_list(meta["primary_key"])
    return keys


def _key_list(value) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _record_keys(con, keys: dict[str, list[str]], names: list[str]) -> None:
    """ecom_meta.mart_keys: the key of each mart, so readers (and the PostgreSQL publish) know it."""
    con.execute(
        f"create table pub.{META_SCHEMA}.mart_keys "
        "(table_name varchar not null, column_name varchar not null, position integer not null)"
    )
    rows = [(t, c, i + 1) for t in names for i, c in enumerate(keys.get(t, []))]
    if rows:
        con.executemany(f"insert into pub.{META_SCHEMA}.mart_keys values (?, ?, ?)", rows)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con, names: list[str]) -> None:
    """Carry dbt's persisted descriptions over, so DuckDB clients show them."""
    rows = con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'build' and schema_name = ?",
        [MART_SCHEMA],
    ).fetchall()
    for table, comment in rows:
        if comment and table in names:
            con.execute(f"comment on table pub.{MART_SCHEMA}.{table} is {sql_literal(comment)}")
    rows = con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'build' "
        "and schema_name = ? and comment is not null",
        [MART_SCHEMA],
    ).fetchall()
    for table, column, comment in rows:
        if table in names:
            con.execute(f'comment on column pub.{MART_SCHEMA}.{table}."{column}" is {sql_literal(comment)}')
