"""
### ecommerce_generate_backfill

Generates a **range of days at once, fanned out**: one mapped `generate` task per day (dynamic task mapping). With
the CeleryExecutor (`docker compose --profile celery`, workers added with `--scale airflow-worker=N`) the days
spread over every worker; with the LocalExecutor they run a few at a time on one machine.

* Days are independent and each is a pure function of (seed, scale, day): whichever worker generates a day, in
  whatever order, its partitions are byte-identical, so the fan-out changes the wall time and nothing else.
* A failed day retries on its own; clearing one mapped task regenerates just that day.
* When every day has landed, **lake_updated** emits the lake Assets once, which schedules one
  `ecommerce_marts_refresh` for the whole range (not one per day).

Params: `start` and `end` (inclusive, YYYY-MM-DD), `scale` and `seed` (must match the lake's).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from generator.config import SCALES
from pipeline.orchestration.assets import LAKE_ASSETS
from pipeline.settings import Settings

settings = Settings.load()
MAX_DAYS = 3660  # ten years: a typo in a year should not queue a century of tasks


@dag(
    dag_id="ecommerce_generate_backfill",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one backfill at a time; its days spread over the workers as mapped tasks
    doc_md=__doc__,
    tags=["ecommerce", "generator", "lake", "backfill"],
    default_args={"owner": "data-platform", "retries": 2, "retry_delay": pendulum.duration(seconds=30)},
    params={
        "start": Param(settings.start.isoformat(), type="string", format="date", description="First day."),
        "end": Param(
            settings.end.isoformat(), type="string", format="date", description="Last day (inclusive)."
        ),
        "scale": Param(settings.scale, enum=list(SCALES), description="Must match the lake's scale."),
        "seed": Param(settings.seed, type="integer", minimum=0, description="Must match the lake's seed."),
    },
)
def ecommerce_generate_backfill():
    @task
    def days(params=None) -> list[str]:
        from pipeline.orchestration.tasks import backfill_days

        return backfill_days(
            params["start"], params["end"], MAX_DAYS, scale=params["scale"], seed=params["seed"]
        )

    @task(execution_timeout=pendulum.duration(minutes=30))
    def generate(day: str, params=None) -> dict:
        import datetime as dt

        from pipeline.orchestration.tasks import generate_partition

        return generate_partition(dt.date.fromisoformat(day), scale=params["scale"], seed=int(params["seed"]))

    @task(outlets=LAKE_ASSETS)
    def lake_updated(generated: list[dict]) -> dict:
        return {"days": len(generated), "rows": sum(sum(g["rows"].values()) for g in generated)}

    lake_updated(generate.expand(day=days()))


ecommerce_generate_backfill()
