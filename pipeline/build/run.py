"""`ecom build`: dbt build (models, unit tests, data tests) into build.duckdb, its outcome in build.json."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.build.dbt import DbtOutcome, run_dbt
from pipeline.build.lock import build_lock
from pipeline.build.state import mark_build_finished, mark_build_running
from pipeline.errors import BuildInterrupted, Interrupted
from pipeline.lake.check import check_lake_for_build
from pipeline.settings import Settings


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
    pipeline/build/lock.py). With `log_file`, dbt's output goes there and `echo` gets a compact progress view.
    """
    if settings.engine == "spark":  # dbt on Spark; its marts are then loaded into build.duckdb
        from pipeline.build.spark import check_spark

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
                from pipeline.build.spark import build_on_spark

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
