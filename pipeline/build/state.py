"""build.json: the one build of a data dir, `running` until its outcome is recorded, so that a build killed
half-way is never mistaken for a passing one (and never published)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from pipeline.build.lock import lock_is_free
from pipeline.errors import PublishRefused
from pipeline.lake.changes import earliest_change, lake_signature
from pipeline.records import BUILD_STATE, LAKE_BUILT_STATE, LAKE_PENDING_STATE, read_json, write_json_atomic
from pipeline.settings import Settings


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


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
