"""Customer lifetime value: expected orders and spend over the next 90 and 365 days, from BG/NBD + Gamma-Gamma
(predict.btyd) and from a machine-learning model, and the choice between them on a backtest.

The ML model is two HistGradientBoostingRegressors with a Poisson loss (counts and non-negative amounts), one
for the orders and one for the spend of the next `horizon` days, trained on the features as of D - horizon and
what the days up to D observed. It only knows the horizon its labels observe (90 days), so the 365-day figures
are BG/NBD's whichever model wins the 90 days.

The backtest holds out a share of the customers as of D - horizon: both models are fitted on the rest (BG/NBD
on their history, the ML model on their history and labels) and predict the held-out customers' next `horizon`
days, which the lake has observed. The winner has the lower mean absolute relative error of spend over deciles of
prediction (it weighs both the aggregate and the ranking).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from predict import btyd
from predict.churn import ChurnSettings, _classifier, matrix

HORIZONS = (90, 365)


def btyd_inputs(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        features["repeat_days"].to_numpy(float),
        features["recency_span"].to_numpy(float),
        features["age_days"].to_numpy(float),
        features["repeat_monetary"].to_numpy(float),
    )


def fit_bgnbd_model(features: pd.DataFrame) -> btyd.BtydParams:
    return btyd.fit_btyd(*btyd_inputs(features))


def bgnbd_predictions(params: btyd.BtydParams, features: pd.DataFrame) -> pd.DataFrame:
    """probability_alive and bgnbd_{orders,spend}_{90,365}d per customer (rows as in `features`)."""
    x, t_x, big_t, monetary = btyd_inputs(features)
    value = btyd.expected_order_value(params, x, monetary)
    out = pd.DataFrame({"probability_alive": btyd.probability_alive(params, x, t_x, big_t)})
    for days in HORIZONS:
        orders = btyd.expected_orders(params, days, x, t_x, big_t)
        out[f"bgnbd_orders_{days}d"] = orders
        out[f"bgnbd_spend_{days}d"] = orders * value
    return out.set_index(features.index)


@dataclass
class MlValueModel:
    orders: object
    spend: object


def _regressor(seed: int):
    template = _classifier(ChurnSettings(seed=seed))  # the same encoding of the categorical features
    template.steps[-1] = (
        "boost",
        HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=100,
            learning_rate=0.05,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            categorical_features=list(range(4)),
            early_stopping=False,
            random_state=seed,
        ),
    )
    return template


def train_ml_value(
    features: pd.DataFrame, orders: np.ndarray, spend: np.ndarray, seed: int = 42
) -> MlValueModel:
    x = matrix(features)
    return MlValueModel(
        orders=_regressor(seed).fit(x, np.asarray(orders, float)),
        spend=_regressor(seed).fit(x, np.asarray(spend, float)),
    )


def ml_predictions(model: MlValueModel, features: pd.DataFrame, horizon: int = 90) -> pd.DataFrame:
    if len(features) == 0:
        return pd.DataFrame({f"ml_orders_{horizon}d": [], f"ml_spend_{horizon}d": []})
    x = matrix(features)
    return pd.DataFrame(
        {f"ml_orders_{horizon}d": model.orders.predict(x), f"ml_spend_{horizon}d": model.spend.predict(x)},
        index=features.index,
    )


def decile_error(predicted: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Sum over deciles of prediction of |sum predicted - sum actual|, over the sum of actual (a decile with no
    actual spend has no relative error of its own, so the errors are weighed by the total)."""
    p, a = np.asarray(predicted, float), np.asarray(actual, float)
    order = np.argsort(p, kind="stable")
    errors = [abs(p[i].sum() - a[i].sum()) for i in np.array_split(order, bins) if len(i)]
    return float(np.sum(errors) / max(a.sum(), 1e-9))


def aggregate_error(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sum(predicted) / max(np.sum(actual), 1e-9) - 1.0)


def backtest(
    features: pd.DataFrame,
    orders: np.ndarray,
    spend: np.ndarray,
    holdout: np.ndarray,
    horizon: int = 90,
    seed: int = 42,
) -> dict:
    """Both models fitted on the customers not in `holdout` (a boolean mask), scored on those in it."""
    train, test = features[~holdout], features[holdout]
    params = fit_bgnbd_model(train)
    bg = bgnbd_predictions(params, test)
    ml = ml_predictions(train_ml_value(train, orders[~holdout], spend[~holdout], seed), test, horizon)
    metrics = {}
    for name, o, s in (
        ("bgnbd", bg[f"bgnbd_orders_{horizon}d"], bg[f"bgnbd_spend_{horizon}d"]),
        ("ml", ml[f"ml_orders_{horizon}d"], ml[f"ml_spend_{horizon}d"]),
    ):
        metrics[name] = {
            "orders_aggregate_error": aggregate_error(o, orders[holdout]),
            "spend_aggregate_error": aggregate_error(s, spend[holdout]),
            "spend_decile_error": decile_error(s, spend[holdout]),
        }
    winner = choose_winner(metrics)
    return {"winner": winner, "customers": int(holdout.sum()), "horizon_days": horizon, **metrics}


def choose_winner(metrics: dict) -> str:
    """The model whose 90-day spend is closer to what happened, decile by decile. A model with predictions that
    are not numbers (BG/NBD fitted on a few weeks can land on a degenerate a, b near 0, where its expected orders
    are undefined) loses, whatever NaN would compare to."""

    def key(name: str) -> tuple:
        error = metrics[name]["spend_decile_error"]
        return (not np.isfinite(error), error if np.isfinite(error) else 0.0, name)

    return min(("bgnbd", "ml"), key=key)
