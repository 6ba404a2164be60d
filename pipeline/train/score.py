"""Scores for the build: the newest artifact of each model applied to the lake, written where dbt reads them.

The refresh calls `refresh_scores` before dbt (pipeline/build/run.py). It scores with each model's current
artifact (`models/<name>/current.json`) and trains one first when none exists or the current one is corrupted;
with less history than training needs, the scores are empty (the predictive marts then hold no rows) and one
line says why. The score tables are Parquet files in `$ECOM_MODELS_DIR/scores/`, replaced atomically, read by the
dbt source `scores` (dbt_project/models/marts/customers/_customers__sources.yml).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import BadInput, PipelineFailed
from pipeline.settings import Settings
from pipeline.train import (
    churn_horizon_days,
    current_version,
    model_dir,
    needed_days,
    one_thread,
    read_frames,
    train,
)
from pipeline.train.models import MIN_FEATURE_DAYS, MODELS

INT, F, S, D = pa.int64(), pa.float64(), pa.string(), pa.date32()
FEATURE_FIELDS = [
    ("recency_days", INT), ("frequency", INT), ("monetary", F), ("historical_value", F), ("tenure_days", INT),
    ("orders_30d", INT), ("trend", INT), ("sessions", INT), ("sessions_30d", INT), ("channel", S), ("device", S),
    ("region", S), ("top_category", S),
]  # fmt: skip
SCHEMAS = {
    "customer_churn": pa.schema(
        [("user_id", INT), ("scored_at", D), *FEATURE_FIELDS, ("churn_probability", F), ("model_version", S)]
    ),
    "customer_lifetime_value": pa.schema(
        [
            ("user_id", INT),
            ("scored_at", D),
            ("historical_value", F),
            ("frequency", INT),
            ("probability_alive", F),
            ("bgnbd_orders_90d", F),
            ("bgnbd_spend_90d", F),
            ("bgnbd_orders_365d", F),
            ("bgnbd_spend_365d", F),
            ("ml_orders_90d", F),
            ("ml_spend_90d", F),
            ("predicted_by", S),
            ("model_version", S),
        ]
    ),
    "customer_clusters": pa.schema(
        [("user_id", INT), ("scored_at", D), ("cluster", INT), ("cluster_name", S), ("model_version", S)]
    ),
    "customer_cluster_profiles": pa.schema(
        [
            ("cluster", INT),
            ("cluster_name", S),
            ("size", INT),
            ("mean_recency_days", F),
            ("mean_frequency", F),
            ("mean_monetary", F),
            ("mean_sessions", F),
            ("mean_tenure_days", F),
            ("mean_trend", F),
            ("model_version", S),
        ]
    ),
}


def scores_dir(settings: Settings) -> Path:
    return settings.models_dir / "scores"


def _write(settings: Settings, table: str, frame: pd.DataFrame | None) -> None:
    schema = SCHEMAS[table]
    if frame is None or frame.empty:
        out = schema.empty_table()
    else:
        out = pa.Table.from_pandas(frame[[f.name for f in schema]], schema=schema, preserve_index=False)
    folder = scores_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{table}.{os.getpid()}.tmp"
    pq.write_table(out, tmp)
    os.replace(tmp, folder / f"{table}.parquet")


def _load(settings: Settings, name: str, echo: Callable[[str], None]):
    """(model, version) of the current artifact, or None when there is none or it is corrupted."""
    from predict.artifacts import ArtifactCorrupted, load_artifact

    version = current_version(settings, name)
    if version is None:
        return None
    try:
        model, _, _ = load_artifact(model_dir(settings, name) / version)
    except ArtifactCorrupted as exc:
        echo(f"{exc}: retraining {name}")
        return None
    return model, version


def score(
    settings: Settings, frames, as_of: dt.date, artifacts: dict, horizon: int
) -> dict[str, pd.DataFrame]:
    """The score tables of the customers as of `as_of` (and, for churn, also as of `as_of` - horizon when the
    lake holds the features for it: its labels are observed)."""
    from predict import churn, clusters, clv
    from predict.features import customer_features

    out: dict[str, pd.DataFrame] = {}
    now = customer_features(frames.users, frames.orders, frames.sessions, as_of)
    if "churn" in artifacts:
        model, version = artifacts["churn"]
        dates = [as_of]
        earlier = as_of - dt.timedelta(days=horizon)
        if (earlier - frames.first_day).days + 1 >= MIN_FEATURE_DAYS:
            dates.insert(0, earlier)
        parts = []
        for day in dates:
            feats = (
                now if day == as_of else customer_features(frames.users, frames.orders, frames.sessions, day)
            )
            parts.append(
                feats.assign(
                    scored_at=day,
                    churn_probability=churn.churn_probability(model["model"], feats),
                    model_version=version,
                )
            )
        out["customer_churn"] = pd.concat(parts, ignore_index=True)
    if "clv" in artifacts:
        model, version = artifacts["clv"]
        bg = clv.bgnbd_predictions(model["bgnbd"], now)
        ml = clv.ml_predictions(model["ml"], now, model["horizon_days"])
        out["customer_lifetime_value"] = pd.concat([now, bg, ml], axis=1).assign(
            scored_at=as_of, predicted_by=model["winner"], model_version=version
        )
    if "clusters" in artifacts:
        model, version = artifacts["clusters"]
        assigned = clusters.assign_clusters(model["model"], now)
        out["customer_clusters"] = pd.concat([now[["user_id"]], assigned], axis=1).assign(
            scored_at=as_of, model_version=version
        )
        out["customer_cluster_profiles"] = clusters.cluster_profiles(now, assigned).assign(
            model_version=version
        )
    return out


def refresh_scores(settings: Settings, echo: Callable[[str], None] | None = None) -> dict[str, int]:
    """Score the lake's last day with the current artifacts (training the missing ones first); write the score
    tables. Returns rows per table."""
    echo = echo or (lambda line: None)
    frames = read_frames(settings)
    horizon = churn_horizon_days(settings)
    tables: dict[str, pd.DataFrame] = {}
    if frames.last_day is None or frames.days < needed_days(horizon):
        echo(
            f"customer models: the lake holds {frames.days} day(s) of orders, training needs {needed_days(horizon)}; "
            "the predictive marts stay empty"
        )
    else:
        artifacts = {}
        for name in MODELS:
            loaded = _load(settings, name, echo)
            if loaded is None:
                try:
                    train(settings, models=(name,), echo=echo, frames=frames)
                except (BadInput, PipelineFailed) as exc:  # said in the log; its mart stays empty this build
                    echo(f"customer models: {exc}")
                    continue
                loaded = _load(settings, name, echo)
            if loaded is not None:
                artifacts[name] = loaded
        with one_thread():
            tables = score(settings, frames, frames.last_day, artifacts, horizon)
    for table in SCHEMAS:
        _write(settings, table, tables.get(table))
    return {table: len(tables.get(table, ())) for table in SCHEMAS}
