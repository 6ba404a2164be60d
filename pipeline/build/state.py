"""build.json: the one build of a data dir, `running` until its outcome is recorded, so that a build killed
half-way is never mistaken for a passing one (and never published)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from generator.lake import process_alive
from pipeline.build.lock import lock_is_free
from pipeline.errors import PublishRefused
from pipeline.lake.changes import earliest_change, lake_signature
from pipeline.records import (
    BUILD_STATE,
    LAKE_BUILT_STATE,
    LAKE_PENDING_STATE,
    REBUILD_PENDING,
    read_json,
    write_json_atomic,
)
from pipeline.settings import Settings


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def mark_build_running(
    settings: Settings, full_refresh: bool = False, select: str | None = None, runner: str = "airflow"
) -> str:
    """Open a build: build.json says `running` until `mark_build_finished` records the outcome, so a build whose
    process or tasks died half-way is never published. `snapshot_lake` then records what the build reads."""
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
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
            "rebuild_from": None,
        },
    )
    return build_id


def snapshot_lake(settings: Settings, build_id: str, full_refresh: bool = False) -> str | None:
    """Record the lake this build reads (under the lake lock, just before dbt) and the day it rebuilds from.

    The day is the earliest lake day that changed since the last whole passing build, or the earliest day a
    build since then may have written (`rebuild_pending.json`), whichever is earlier: a failed or interrupted
    build can have written rows of days the lake no longer holds in that form, and the next build must redo
    them, so that it starts from what the last passing build left. The pending day is recorded before dbt
    starts, so a build killed at any point leaves it too; only a whole passing build clears it.
    dbt reads the day as ECOM_REBUILD_FROM (Settings.dbt_env, dbt_project/macros/incremental.sql).
    """
    warehouse = settings.warehouse_dir
    signature = lake_signature(settings.lake_dir)
    previous = read_json(warehouse / LAKE_BUILT_STATE)
    first = previous is None and not settings.build_db.exists()
    rebuild_from = None if first else earliest_change(signature, previous)
    pending = _day((read_json(warehouse / REBUILD_PENDING) or {}).get("rebuild_from"))
    if pending and not full_refresh:
        rebuild_from = min(rebuild_from, pending) if rebuild_from else pending
    # what this build may write: everything on a first build or a full refresh, else from `rebuild_from`
    # (the lookback window before that re-reads days identical to those of the last passing build)
    writes_from = settings.opening_date if first or full_refresh else rebuild_from
    if writes_from is not None:
        held = min(pending or writes_from, writes_from)
        write_json_atomic(warehouse / REBUILD_PENDING, {"rebuild_from": held.isoformat(), "since": build_id})
    write_json_atomic(warehouse / LAKE_PENDING_STATE, signature)
    state = read_json(warehouse / BUILD_STATE) or {}
    if state.get("build_id") == build_id:
        state["rebuild_from"] = rebuild_from.isoformat() if rebuild_from else None
        write_json_atomic(warehouse / BUILD_STATE, state)
    return state.get("rebuild_from")


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


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
        (settings.warehouse_dir / REBUILD_PENDING).unlink(missing_ok=True)
    write_json_atomic(path, state)
    return state


def build_state(settings: Settings) -> dict | None:
    """build.json, with a build whose process died while `running` (SIGKILL, a crash) reported `interrupted`."""
    state = read_json(settings.warehouse_dir / BUILD_STATE)
    if state and state.get("status") == "running" and state.get("runner") == "ecom":
        pid = state.get("pid")
        # The lock catches a pid reused by another process since; the pid, a build that predates the lock.
        if isinstance(pid, int) and (not process_alive(pid) or lock_is_free(settings)):
            state = {
                **state,
                "status": "interrupted",
                "interrupted_because": f"its process {pid} is gone: it was killed or crashed",
            }
    return state
