"""Churn: will a customer place no order in the next `horizon` days? A calibrated gradient-boosted classifier.

The label of a customer scored on day D is 1 when they place no order in D+1 .. D+horizon. Training reads the
features as of D - horizon and the labels the days up to D observe; scoring applies the model to the features as
of D. scikit-learn's HistGradientBoostingClassifier (native categorical splits) is wrapped in
a Platt (sigmoid) calibration fitted on a quarter of the training customers the classifier did not see
(`CalibratedClassifierCV` over a `FrozenEstimator`), so that a predicted 0.3 means 30% of such customers churn;
the sigmoid is monotonic, so calibration keeps the ranking (AUC) of the classifier. The
baseline it must beat sees recency alone (an isotonic fit of the churn rate on days since the last order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from predict.features import CATEGORICAL, NUMERIC


@dataclass(frozen=True)
class ChurnSettings:
    seed: int = 42
    max_iter: int = 100
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    calibration_share: float = 0.25


def matrix(features: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns: categoricals as plain strings ('unknown' when missing), numbers as floats."""
    out = pd.DataFrame(index=features.index)
    for name in CATEGORICAL:
        out[name] = features[name].astype(object).where(features[name].notna(), "unknown").astype(str)
    for name in NUMERIC:
        out[name] = features[name].astype("float64")
    return out


def _classifier(settings: ChurnSettings) -> Pipeline:
    encode = ColumnTransformer(
        [
            (
                "categories",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
                ),
                list(CATEGORICAL),
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    boost = HistGradientBoostingClassifier(
        max_iter=settings.max_iter,
        learning_rate=settings.learning_rate,
        max_leaf_nodes=settings.max_leaf_nodes,
        min_samples_leaf=settings.min_samples_leaf,
        l2_regularization=settings.l2_regularization,
        categorical_features=list(range(len(CATEGORICAL))),
        early_stopping=False,
        random_state=settings.seed,
    )
    return Pipeline([("encode", encode), ("boost", boost)])


def train_churn(features: pd.DataFrame, labels: np.ndarray, settings: ChurnSettings | None = None):
    """A calibrated classifier of `labels` (1 = churned) from `features` (predict.features)."""
    settings = settings or ChurnSettings()
    labels = np.asarray(labels, dtype=np.int64)
    if len(np.unique(labels)) < 2:
        raise ValueError(
            "churn training needs both churned and retained customers; the labels hold one class"
        )
    x = matrix(features)
    calibrate = np.random.default_rng([settings.seed, 3]).random(len(x)) < settings.calibration_share
    base = _classifier(settings).fit(x[~calibrate], labels[~calibrate])
    model = CalibratedClassifierCV(FrozenEstimator(base), method="sigmoid")
    model.fit(x[calibrate], labels[calibrate])
    return model


def churn_probability(model, features: pd.DataFrame) -> np.ndarray:
    if len(features) == 0:
        return np.zeros(0)
    return model.predict_proba(matrix(features))[:, 1]


def train_recency_baseline(features: pd.DataFrame, labels: np.ndarray) -> IsotonicRegression:
    """The churn rate as a non-decreasing function of days since the last order, nothing else."""
    return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(
        features["recency_days"].to_numpy(dtype=float), np.asarray(labels, dtype=float)
    )


def recency_probability(baseline: IsotonicRegression, features: pd.DataFrame) -> np.ndarray:
    return baseline.predict(features["recency_days"].to_numpy(dtype=float))


def calibration_gap(probability: np.ndarray, observed: np.ndarray, bins: int = 10) -> float:
    """Mean absolute gap between the mean predicted and the observed churn rate over deciles of prediction."""
    p = np.asarray(probability, dtype=float)
    y = np.asarray(observed, dtype=float)
    order = np.argsort(p, kind="stable")
    gaps = [abs(p[part].mean() - y[part].mean()) for part in np.array_split(order, bins) if len(part)]
    return float(np.mean(gaps))
