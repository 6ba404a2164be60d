"""
### ecommerce_models_train

Trains the **customer models** weekly, each into a new versioned artifact under
`$ECOM_DATA_DIR/models/<name>/<version>/` (the version is the as-of date and a hash of the training data and
settings, so a re-run on the same lake reuses the same artifact):

* **churn**: calibrated gradient boosting, the probability of no order in the next 90 days (`ecom__churn_horizon_days`);
* **clv**: BG/NBD + Gamma-Gamma and a machine-learning model of the next 90 and 365 days' orders and spend, with the
  backtest that decides which one the marts publish;
* **clusters**: K-means over standardised RFM and behaviour features.

Each artifact's `metrics.json` holds its backtest on held-out customers; `ecom status` shows the versions in use.
The next `ecommerce_marts_refresh` scores with the new versions (a refresh trains the missing ones itself).

**When a model fails** to train, its previous artifact stays in use and the task log says which model and why; a
lake too short to train on (less than the churn horizon + 28 days) fails at once, without retries.

Params: `as_of` (YYYY-MM-DD, empty: the lake's last day) and `models` (empty: all three). The defaults are safe.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    dag_id="ecommerce_models_train",
    schedule="@weekly",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["ecommerce", "models", "churn", "clv"],
    default_args={
        "owner": "data-platform",
        "retries": 1,
        "retry_delay": pendulum.duration(minutes=2),
        "retry_exponential_backoff": True,
    },
    params={
        # nullable: the form sends a text field left empty as null
        "as_of": Param(
            None,
            type=["null", "string"],
            description="Train on the lake up to this day (YYYY-MM-DD); empty: the lake's last day.",
        ),
        "models": Param(
            None,
            type=["null", "array"],  # nullable: the form marks the field optional
            items={"type": "string", "enum": ["churn", "clv", "clusters"]},  # pipeline.train.models.MODELS
            uniqueItems=True,
            examples=["churn", "clv", "clusters"],  # the UI offers them as a multi-select
            description="Models to train; empty: churn, clv and clusters.",
        ),
    },
)
def ecommerce_models_train():
    @task(execution_timeout=pendulum.duration(minutes=60))
    def train(params=None) -> dict:
        from pipeline.orchestration.training import train_models

        return train_models(params.get("as_of") or None, list(params.get("models") or []))

    train()


ecommerce_models_train()
