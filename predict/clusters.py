"""Customer clusters: K-means over standardised RFM and behaviour features, named by their profile.

The features are log1p(recency), log1p(frequency), log1p(monetary), log1p(sessions), tenure and trend, each
standardised. The number of clusters is the k in 3..8 with the highest silhouette score (on a fixed sample of at
most 2,000 customers, so the choice costs the same at any scale); ties go to the smaller k. Clusters are
numbered by decreasing mean monetary value and named from their centre's recency, frequency and value against
the whole base (e.g. "recent frequent high-value").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

CLUSTER_FEATURES = ("recency_days", "frequency", "monetary", "sessions", "tenure_days", "trend")
LOGGED = ("recency_days", "frequency", "monetary", "sessions")
K_RANGE = range(3, 9)
SILHOUETTE_SAMPLE = 2_000


@dataclass
class ClusterModel:
    scaler: StandardScaler
    kmeans: KMeans
    relabel: np.ndarray  # kmeans label -> published cluster number
    names: list[str]  # by published cluster number
    silhouettes: dict[int, float]


def _inputs(features: pd.DataFrame) -> np.ndarray:
    cols = [
        np.log1p(features[c].to_numpy(float).clip(0)) if c in LOGGED else features[c].to_numpy(float)
        for c in CLUSTER_FEATURES
    ]
    return np.column_stack(cols)


def _level(z: float, low: str, mid: str, high: str) -> str:
    return high if z > 0.5 else low if z < -0.5 else mid


def _name(centre: pd.Series) -> str:
    recency = _level(centre["recency_days"], "recent", "", "lapsing")
    frequency = _level(centre["frequency"], "one-time", "", "frequent")
    value = _level(centre["monetary"], "low-value", "mid-value", "high-value")
    return " ".join(w for w in (recency, frequency, value) if w)


def train_clusters(features: pd.DataFrame, seed: int = 42) -> ClusterModel:
    if len(features) < max(K_RANGE) * 2:
        raise ValueError(f"clustering needs at least {max(K_RANGE) * 2} customers, got {len(features)}")
    scaler = StandardScaler().fit(_inputs(features))
    x = scaler.transform(_inputs(features))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(x), size=min(len(x), SILHOUETTE_SAMPLE), replace=False))
    fits, silhouettes = {}, {}
    for k in K_RANGE:
        fits[k] = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
        silhouettes[k] = float(silhouette_score(x[sample], fits[k].labels_[sample]))
    best = max(K_RANGE, key=lambda k: (round(silhouettes[k], 6), -k))
    kmeans = fits[best]
    frame = pd.DataFrame(x, columns=CLUSTER_FEATURES).assign(label=kmeans.labels_)
    monetary = features["monetary"].to_numpy(float)
    by_value = np.argsort(
        -np.array([monetary[kmeans.labels_ == c].mean() for c in range(best)]), kind="stable"
    )
    relabel = np.empty(best, dtype=np.int64)
    relabel[by_value] = np.arange(best)
    centres = frame.groupby("label")[list(CLUSTER_FEATURES)].mean()
    names = [_name(centres.loc[label]) for label in by_value]
    seen: dict[str, int] = {}
    unique = []
    for name in names:  # a profile name that comes twice gets a number: "... 2"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return ClusterModel(scaler, kmeans, relabel, unique, silhouettes)


def assign_clusters(model: ClusterModel, features: pd.DataFrame) -> pd.DataFrame:
    """cluster (0 = highest mean monetary at training) and cluster_name per customer."""
    if len(features) == 0:
        return pd.DataFrame(
            {"cluster": pd.Series([], dtype="int64"), "cluster_name": pd.Series([], dtype=str)}
        )
    cluster = model.relabel[model.kmeans.predict(model.scaler.transform(_inputs(features)))]
    return pd.DataFrame(
        {"cluster": cluster, "cluster_name": [model.names[c] for c in cluster]}, index=features.index
    )


def cluster_profiles(features: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """Per cluster: size and the mean of each clustering feature (in its own units), with the name."""
    frame = (
        features[list(CLUSTER_FEATURES)]
        .astype(float)
        .assign(cluster=clusters["cluster"].to_numpy(), cluster_name=clusters["cluster_name"].to_numpy())
    )
    profiles = frame.groupby(["cluster", "cluster_name"], sort=True).agg(
        size=("frequency", "size"), **{f"mean_{c}": (c, "mean") for c in CLUSTER_FEATURES}
    )
    return profiles.reset_index()
