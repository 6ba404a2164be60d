"""
### ecommerce_generate_daily

Generates **one day** of synthetic shop data into the lake: the partitions `dt=<logical date>` of
`users`, `products`, `orders`, `order_items`, `user_events` (plus late status changes and the answer key).

* Idempotent: a re-run replaces the day's partitions whole, with byte-identical files.
* Catchup from the shop's opening date, so a fresh deployment backfills history.
* Emits the lake Assets, which schedule `ecommerce_marts_refresh`.

Params: `scale` and `seed` must match the lake's (a mismatch fails with a clear message);
`inject` corrupts the day on purpose to demonstrate the data-quality gate.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from generator.config import DEFAULT_OPENING_DATE, FAULT_KINDS, SCALES
from pipeline.assets import LAKE_ASSETS


@dag(
    dag_id="ecommerce_generate_daily",
    schedule="@daily",
    start_date=pendulum.datetime(
        DEFAULT_OPENING_DATE.year, DEFAULT_OPENING_DATE.month, DEFAULT_OPENING_DATE.day, tz="UTC"
    ),
    catchup=True,
    max_active_runs=4,
    doc_md=__doc__,
    tags=["ecommerce", "generator"],
    default_args={"owner": "data-platform", "retries": 2, "retry_exponential_backoff": True},
    params={
        "scale": Param("small", enum=list(SCALES), description="Volume preset; must match the lake's."),
        "seed": Param(42, type="integer", minimum=0, description="Random seed; must match the lake's."),
        "inject": Param(
            "",
            type="string",
            description="Comma-separated fault kinds to inject (empty: none). Kinds: "
            + ", ".join(FAULT_KINDS),
        ),
    },
)
def ecommerce_generate_daily():
    @task(outlets=LAKE_ASSETS, execution_timeout=pendulum.duration(minutes=30))
    def generate(params=None, logical_date=None) -> dict:
        from pipeline.tasks import generate_partition

        return generate_partition(
            logical_date.date(), scale=params["scale"], seed=int(params["seed"]), inject=params["inject"]
        )

    generate()


ecommerce_generate_daily()
