"""The one build path: `ecom build` and the refresh DAG start dbt, read its results and record them here.

A build is three steps, which the CLI runs in one call (`build`) and the refresh DAG as three tasks:
1. `check_preconditions`, one function for both (the engine can run, no day is still being generated, the
   lake is contiguous, the warehouse is writable), then build.json says `running` (`begin_build` in the DAG);
2. `execute_build`: under the lake lock (no day lands while dbt reads), the lake's snapshot and the day to
   rebuild from, one `dbt build` of the selection (`selection_args`), and its outcome in build.json: the same
   failure records whichever path ran it;
3. the caller reads the outcome: the CLI prints it, the DAG turns `outcome.results` into per-model verdicts.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from generator.lake import check_writable, lake_lock
from pipeline.build.dbt import DbtOutcome, run_dbt, selection_args
from pipeline.build.lock import build_lock
from pipeline.build.state import mark_build_finished, mark_build_running, snapshot_lake
from pipeline.errors import BadInput, BuildInterrupted, Interrupted, PipelineFailed
from pipeline.lake.check import check_lake_for_build, wait_for_generation
from pipeline.records import BUILD_STATE, read_json
from pipeline.settings import Settings


@dataclass(frozen=True)
class BuildResult:
    build_id: str
    outcome: DbtOutcome
    seconds: float


def check_preconditions(
    settings: Settings, echo: Callable[[str], None] | None = None, wait: bool = True
) -> None:
    """Refuse, in one line and before anything is written, a build that cannot run or would read a bad lake.

    A day still being generated is waited for (`wait`, the CLI) or refused with `GenerationInProgress` (the
    refresh DAG skips then: the generation's own run triggers the next refresh).
    """
    if settings.engine == "spark":  # what the engine needs (pyspark, Java) comes first: nothing else helps
        from pipeline.build.spark import check_spark

        check_spark()
    wait_for_generation(settings, echo=echo, wait=wait)
    check_lake_for_build(settings)
    check_writable(settings.warehouse_dir)


def begin_build(
    settings: Settings,
    full_refresh: bool = False,
    select: str | None = None,
    runner: str = "airflow",
    echo: Callable[[str], None] | None = None,
) -> str:
    """The refresh DAG's first step: the preconditions (a day still being generated is refused, not waited
    for), then a build opened under the build lock (build.json `running`). Returns its id."""
    check_preconditions(settings, echo=echo, wait=False)
    with build_lock(settings, echo=echo, what="refresh"):
        return mark_build_running(settings, full_refresh=full_refresh, select=_clean(select), runner=runner)


def execute_build(
    settings: Settings,
    build_id: str,
    full_refresh: bool = False,
    select: str | None = None,
    log_file: Path | None = None,
    progress: Callable[[str], None] | None = None,
    output: TextIO | None = None,
) -> DbtOutcome:
    """One `dbt build` of the selection for the open build `build_id`, its outcome recorded in build.json.

    The caller holds the build lock. Refuses a build that is no longer the current one (another started since
    it was opened), and a selector that selects no node (recorded as a failed build, then `BadInput`).
    """
    select = _clean(select)
    current = (read_json(settings.warehouse_dir / BUILD_STATE) or {}).get("build_id")
    if current != build_id:
        raise PipelineFailed(
            f"another build ({current}) started after this one ({build_id}) was opened: run the build again"
        )
    args = selection_args(select, full_refresh)
    try:
        with lake_lock(settings.lake_dir, exclusive=True, on_wait=progress or _print):
            snapshot_lake(settings, build_id, full_refresh=full_refresh)
            if settings.engine != "spark":  # the predictive marts are DuckDB-only (dbt_project.yml)
                from pipeline.train.score import refresh_scores

                refresh_scores(settings, echo=progress or _print)
            if settings.engine == "spark":
                from pipeline.build.spark import build_on_spark

                outcome = build_on_spark(settings, *args, log_file=log_file, progress=progress, output=output)
            else:
                outcome = run_dbt(
                    settings, "build", *args, log_file=log_file, progress=progress, output=output
                )
    except Interrupted:
        mark_build_finished(settings, build_id, False, status="interrupted")
        raise BuildInterrupted(
            f"build {build_id} was interrupted during dbt and recorded as interrupted; nothing was "
            "published (run `ecom build` again)"
        ) from None
    if select and outcome.error is None and not outcome.results:
        outcome = dataclasses.replace(
            outcome, success=False, error=f"dbt selector {select!r} selects no node of the project"
        )
        mark_build_finished(settings, build_id, False, outcome.failure_records(), counts=outcome.counts)
        raise BadInput(f"{outcome.error}: nothing was built")
    mark_build_finished(settings, build_id, outcome.success, outcome.failure_records(), counts=outcome.counts)
    return outcome


def build(
    settings: Settings,
    full_refresh: bool = False,
    select: str | None = None,
    wait: bool = True,
    echo: Callable[[str], None] | None = None,
    log_file: Path | None = None,
) -> BuildResult:
    """`dbt build` (models and data tests) into build.duckdb, recording the outcome in build.json.

    Refuses a lake with missing days before dbt starts; one build at a time (`wait` or refuse, see
    pipeline/build/lock.py). With `log_file`, dbt's output goes there and `echo` gets a compact progress view.
    """
    check_preconditions(settings, echo=echo)
    with build_lock(settings, wait=wait, echo=echo):
        started = time.perf_counter()
        build_id = mark_build_running(
            settings, full_refresh=full_refresh, select=_clean(select), runner="ecom"
        )
        if echo:
            echo(
                f"building marts into {settings.build_db}"
                + (" (full refresh)" if full_refresh else "")
                + (f"; dbt's log: {log_file}" if log_file else "")
            )
        outcome = execute_build(settings, build_id, full_refresh, select, log_file=log_file, progress=echo)
        return BuildResult(build_id, outcome, time.perf_counter() - started)


def _clean(select: str | None) -> str | None:
    return (select or "").strip() or None


def _print(line: str) -> None:
    print(line, flush=True)
