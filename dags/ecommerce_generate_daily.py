"""
### ecommerce_generate_daily

Generates **one day** of synthetic shop data into the lake: the partitions `dt=<day>` of `users`, `products`,
`orders`, `order_items` and `user_events` (plus late order status changes and the generator's answer key).
The day is the run's logical date on scheduled runs and backfills. A run you trigger generates the `day` Param,
or, left empty, **the lake's next day** (the day after its newest): the Trigger form submitted with its
defaults extends the lake by one day. A triggered day that would leave a gap in the lake is refused in one line
naming the days to generate first (a backfill fills them).

* **Idempotent**: a re-run replaces the day's partitions whole, byte for byte, so reruns and backfills in any
  order give the same lake, and therefore the same marts.
* **Bounded history**: scheduled days run from the shop's opening date (`ECOM_OPENING_DATE`) to the end of the
  demo window (`ECOM_END`, 2025-12-31 by default), never up to today's date: unpausing generates that window
  (with catchup) and then stops. Triggered runs and backfills may extend it. With `ECOM_AIRFLOW_CATCHUP=false` unpausing schedules nothing, while the Trigger
  form and backfills still work, so keep it unpaused.
* **Backfill** a range (days that already ran are generated again, byte for byte, only with
  `--reprocess-behavior completed`; the DAG must be unpaused for the backfill to run):
  `airflow backfill create --dag-id ecommerce_generate_daily --from-date 2025-09-01 --to-date 2025-09-07
  --reprocess-behavior completed`, or the UI's Backfill form with "Reprocess behavior: All runs".
* Emits the lake Assets, which schedule `ecommerce_marts_refresh`.

Params: `scale`, `seed` and `market` must match the lake's (a mismatch fails with a clear message; their
defaults come from `ECOM_SCALE`, `ECOM_SEED` and `ECOM_MARKET`). `inject` corrupts the day on purpose, to watch the data-quality gate stop the
refresh and keep the published marts as they were.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task

from generator.config import FAULT_KINDS, SCALES
from generator.markets import MARKETS
from pipeline.orchestration.airflow_compat import events_timetable
from pipeline.orchestration.assets import LAKE_ASSETS
from pipeline.settings import Settings

settings = Settings.load()
opening = settings.opening_date
# Operations knobs of a deployment (the data itself only depends on the Settings): `none` makes the DAG run
# on demand only, and catchup off schedules no past day.
# (ECOM_AIRFLOW_SCHEDULE, ECOM_AIRFLOW_CATCHUP).
schedule = settings.airflow_dag_schedule
# Daily, from the opening date to the end of the demo window (ECOM_END): a bounded history rather than every day
# up to today's date. An end_date would do the same but would also block manual runs dated today.
demo_days = events_timetable(
    [opening + dt.timedelta(days=n) for n in range((settings.end - opening).days + 1)],
    description=f"daily, {opening} to {settings.end} (ECOM_OPENING_DATE to ECOM_END)",
)


@dag(
    dag_id="ecommerce_generate_daily",
    schedule=demo_days if schedule == "@daily" else schedule,
    start_date=pendulum.datetime(opening.year, opening.month, opening.day, tz="UTC"),
    catchup=settings.airflow_catchup,
    # Days are independent, so a backfill may generate a few at once; more would only queue on two cores.
    max_active_runs=4,
    doc_md=__doc__,
    tags=["ecommerce", "generator", "lake"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": pendulum.duration(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": pendulum.duration(minutes=10),
    },
    params={
        "scale": Param(
            settings.scale,
            enum=list(SCALES),
            description="Volume preset (tiny, small, medium, large). Must match the scale the lake was started with.",
        ),
        "seed": Param(
            settings.seed,
            type="integer",
            minimum=0,
            description="Random seed; with the scale and the day it fixes every byte. Must match the lake's.",
        ),
        "market": Param(
            settings.market,
            enum=list(MARKETS),
            description="Market (regions, time zones, currency, sales calendar). Must match the lake's.",
        ),
        "inject": Param(
            [],
            type="array",
            items={"type": "string", "enum": list(FAULT_KINDS)},
            uniqueItems=True,
            examples=list(FAULT_KINDS),  # the UI offers them as a multi-select
            description="Faults to inject into this day on purpose (empty: none): "
            + "; ".join(f"{k}: {v}" for k, v in FAULT_KINDS.items()),
        ),
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Day to generate, YYYY-MM-DD. Empty: the lake's next day on a run you trigger (the day "
            "after its newest), the logical date on scheduled runs and backfills. A day that would leave a gap "
            "in the lake is refused, naming the days to fill first.",
        ),
    },
)
def ecommerce_generate_daily():
    @task(outlets=LAKE_ASSETS, execution_timeout=pendulum.duration(minutes=30))
    def generate(params=None, logical_date=None, dag_run=None) -> dict:
        import datetime as dt

        from pipeline.orchestration.tasks import generate_partition

        manual = dag_run is not None and getattr(dag_run.run_type, "value", dag_run.run_type) == "manual"
        day = logical_date.date() if logical_date is not None else None
        if manual and day == dt.datetime.now(dt.UTC).date():
            day = (
                None  # the Trigger form's logical date is the moment it was submitted, not a day of the shop
            )
        return generate_partition(
            day,
            scale=params["scale"],
            seed=int(params["seed"]),
            inject=params["inject"],
            market=params.get("market"),
            requested=params.get("day"),
            manual=manual,
        )

    generate()


ecommerce_generate_daily()
