"""Training each model from the customer frames: the fitted objects, their backtest metrics and settings.

Every model is trained as of a day D on the lake up to D. The churn label and the ML lifetime value need an
observed future: they learn from the features as of D - horizon and what the `horizon` days up to D held
(`ecom__churn_horizon_days`, 90 by default). 20% of those customers (a seeded draw) are held out: the metrics are
computed on them with models fitted on the rest, then the published model is refitted on everyone.

scikit-learn and lifetimes are imported inside the trainers: a build whose lake is too short to train on
(most test runs) does not pay for their import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from predict.features import churn_labels, customer_features, future_orders

HOLDOUT_SHARE = 0.2
MIN_FEATURE_DAYS = 28  # the features need some history before the label window starts
MODELS = ("churn", "clv", "clusters")


def holdout_mask(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 17]).random(n) < HOLDOUT_SHARE


def _auc(labels: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, score)) if len(np.unique(labels)) == 2 else float("nan")


def train_churn_model(frames, as_of: dt.date, horizon: int, seed: int) -> tuple[dict, dict]:
    from sklearn.metrics import brier_score_loss

    from predict import btyd, churn, clv

    then = as_of - dt.timedelta(days=horizon)
    feats = customer_features(frames.users, frames.orders, frames.sessions, then)
    labels = churn_labels(frames.orders, feats["user_id"], then, horizon)
    hold = holdout_mask(len(feats), seed)
    settings = churn.ChurnSettings(seed=seed)
    model = churn.train_churn(feats[~hold], labels[~hold], settings)
    p = churn.churn_probability(model, feats[hold])
    baseline = churn.train_recency_baseline(feats[~hold], labels[~hold])
    params = clv.fit_bgnbd_model(feats[~hold])
    x, t_x, big_t, _ = clv.btyd_inputs(feats[hold])
    p_alive = btyd.probability_alive(params, x, t_x, big_t)
    p_none = btyd.probability_no_purchase(params, horizon, x, t_x, big_t)
    y = labels[hold]
    metrics = {
        "as_of": as_of,
        "label_window": f"{then + dt.timedelta(days=1)}..{as_of}",
        "horizon_days": horizon,
        "customers_trained": int((~hold).sum()),
        "customers_held_out": int(hold.sum()),
        "churn_rate_held_out": float(y.mean()),
        "auc": _auc(y, p),
        "brier": float(brier_score_loss(y, p)),
        "calibration_gap": churn.calibration_gap(p, y),
        "recency_baseline_auc": _auc(y, churn.recency_probability(baseline, feats[hold])),
        "bgnbd_p_alive_auc": _auc(y, 1.0 - p_alive),
        "bgnbd_no_purchase_auc": _auc(y, p_none),
    }
    final = churn.train_churn(feats, labels, settings)
    return {"model": final, "horizon_days": horizon}, {
        "metrics": metrics,
        "settings": dataclasses.asdict(settings),
    }


def train_clv_model(frames, as_of: dt.date, horizon: int, seed: int) -> tuple[dict, dict]:
    from predict import btyd, clv

    then = as_of - dt.timedelta(days=horizon)
    feats_then = customer_features(frames.users, frames.orders, frames.sessions, then)
    future = future_orders(frames.orders, feats_then["user_id"], then, horizon)
    orders, spend = future["orders"].to_numpy(float), future["spend"].to_numpy(float)
    test = clv.backtest(feats_then, orders, spend, holdout_mask(len(feats_then), seed), horizon, seed)
    feats_now = customer_features(frames.users, frames.orders, frames.sessions, as_of)
    params = clv.fit_bgnbd_model(feats_now)
    ml = clv.train_ml_value(feats_then, orders, spend, seed)
    metrics = {"as_of": as_of, "backtest": test, "bgnbd_params": params.to_dict()}
    return {"bgnbd": params, "ml": ml, "winner": test["winner"], "horizon_days": horizon}, {
        "metrics": metrics,
        "settings": {"seed": seed, "lifetimes": btyd.LIFETIMES_VERSION, "penalizer": 0.001},
    }


def train_cluster_model(frames, as_of: dt.date, horizon: int, seed: int) -> tuple[dict, dict]:
    from predict import clusters

    feats = customer_features(frames.users, frames.orders, frames.sessions, as_of)
    model = clusters.train_clusters(feats, seed)
    metrics = {
        "as_of": as_of,
        "k": len(model.names),
        "rule": "the k in 3..8 with the highest silhouette (sample of 2,000); ties to the smaller k",
        "silhouettes": model.silhouettes,
        "names": model.names,
        "customers": len(feats),
    }
    return {"model": model}, {"metrics": metrics, "settings": {"seed": seed, "k_range": [3, 8]}}


TRAINERS = {"churn": train_churn_model, "clv": train_clv_model, "clusters": train_cluster_model}


def frames_until(frames, as_of: dt.date):
    """The frames with nothing after `as_of` (what a model trained as of it may see)."""
    cut = pd.Timestamp(as_of)
    return dataclasses.replace(
        frames,
        users=frames.users[pd.to_datetime(frames.users["signup_date"]) <= cut],
        orders=frames.orders[pd.to_datetime(frames.orders["order_date"]) <= cut],
        sessions=frames.sessions[pd.to_datetime(frames.sessions["session_date"]) <= cut],
        last_day=min(frames.last_day, as_of),
    )
