"""predict/ on small hand-made frames (fast lane), the artifacts' bytes, and `ecom train`'s refusals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from predict import artifacts, churn, clusters
from predict.features import churn_labels, customer_features, future_orders
from tests.support.ecom import ecom

D = dt.date(2025, 10, 31)


def frames():
    users = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "signup_date": pd.to_datetime(["2025-09-01", "2025-09-10", "2025-10-30"]),
            "channel": ["email", "paid_search", None],
            "device": ["mobile", "desktop", "mobile"],
            "region": ["Ohio", "Texas", "Ohio"],
        }
    )
    orders = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 3, 1],
            "order_date": pd.to_datetime(
                ["2025-09-02", "2025-09-02", "2025-10-20", "2025-09-11", "2025-11-05", "2025-11-20"]
            ),
            "order_total": [10.0, 30.0, 20.0, 50.0, 5.0, 7.0],
            "category": ["Books", "Games", "Books", "Shoes", "Books", "Books"],
        }
    )
    sessions = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3],
            "session_date": pd.to_datetime(["2025-09-02", "2025-10-25", "2025-09-11", "2025-10-30"]),
        }
    )
    return users, orders, sessions


def test_features_see_only_the_days_up_to_the_as_of_date():
    users, orders, sessions = frames()
    f = customer_features(users, orders, sessions, D).set_index("user_id")
    assert list(f.index) == [1, 2]  # user 3 has no order by D: not a customer yet
    one = f.loc[1]
    assert (one.frequency, one.recency_days, one.historical_value) == (3, 11, 60.0)
    assert (one.repeat_days, one.recency_span, one.age_days) == (
        1,
        48.0,
        59.0,
    )  # two orders on one day: one occasion
    assert one.repeat_monetary == 20.0
    assert one.top_category == "Books"  # 30 on Books against 30 on Games: ties go alphabetically
    assert (one.sessions, one.sessions_30d, one.session_recency_days) == (2, 1, 6)
    assert (one.orders_30d, one.trend) == (1, -1)  # two orders on Sep 2 (59 days before): the month before
    assert f.loc[2, "tenure_days"] == 51
    later = orders.assign(order_total=orders["order_total"] * 100)[orders["order_date"] > pd.Timestamp(D)]
    unchanged = customer_features(
        users, pd.concat([orders[orders["order_date"] <= pd.Timestamp(D)], later]), sessions, D
    )
    pd.testing.assert_frame_equal(unchanged, customer_features(users, orders, sessions, D))


def test_labels_read_only_the_horizon_after_the_as_of_date():
    _, orders, _ = frames()
    assert list(churn_labels(orders, [1, 2, 3], D, 10)) == [1, 1, 0]
    assert list(churn_labels(orders, [1, 2, 3], D, 30)) == [0, 1, 0]
    assert future_orders(orders, [1], D, 30)["spend"].tolist() == [7.0]


def synthetic_customers(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    recency = rng.integers(0, 120, n)
    frame = pd.DataFrame(
        {
            "user_id": np.arange(n),
            "recency_days": recency,
            "frequency": rng.integers(1, 6, n),
            "monetary": rng.gamma(2.0, 50.0, n),
            "historical_value": rng.gamma(2.0, 100.0, n),
            "tenure_days": recency + rng.integers(0, 60, n),
            "first_order_days": recency + rng.integers(0, 30, n),
            "orders_30d": rng.integers(0, 3, n),
            "trend": rng.integers(-2, 3, n),
            "sessions": rng.integers(0, 40, n),
            "sessions_30d": rng.integers(0, 10, n),
            "session_recency_days": rng.integers(0, 120, n),
            "channel": rng.choice(["email", "organic_search"], n),
            "device": rng.choice(["mobile", "desktop"], n),
            "region": rng.choice(["Ohio", "Texas", "Utah"], n),
            "top_category": rng.choice(["Books", "Games"], n),
        }
    )
    labels = (rng.random(n) < true_churn(frame)).astype(int)
    return frame, labels


def true_churn(frame: pd.DataFrame) -> np.ndarray:
    return 1 / (1 + np.exp(-(frame["recency_days"].to_numpy() - 60) / 15))


def test_churn_learns_recency_and_is_deterministic():
    frame, labels = synthetic_customers(2000, 1)
    a = churn.churn_probability(churn.train_churn(frame, labels), frame)
    b = churn.churn_probability(churn.train_churn(frame, labels), frame)
    assert np.array_equal(a, b)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(labels, a) > 0.75  # the label is a logistic of recency: easy to learn
    # against the probability the labels were drawn with (no label noise); 2,000 customers fit it to within a
    # few points (measured 0.033)
    assert churn.calibration_gap(a, true_churn(frame)) < 0.05


def test_churn_refuses_labels_of_one_class():
    frame, _ = synthetic_customers(100, 2)
    with pytest.raises(ValueError, match="both churned and retained"):
        churn.train_churn(frame, np.zeros(100))


def test_clusters_are_numbered_by_value_and_named_uniquely():
    frame, _ = synthetic_customers(1500, 3)
    model = clusters.train_clusters(frame, seed=7)
    assigned = clusters.assign_clusters(model, frame)
    profiles = clusters.cluster_profiles(frame, assigned)
    assert 3 <= len(model.names) <= 8
    assert len(set(model.names)) == len(model.names)
    assert profiles["size"].sum() == len(frame)
    means = frame.groupby(assigned["cluster"].to_numpy())["monetary"].mean()
    assert means.is_monotonic_decreasing  # relabelled at training on the same customers: 0 = most valuable


def test_artifacts_are_byte_identical_and_refused_when_corrupted(tmp_path):
    frame, labels = synthetic_customers(800, 4)
    for name in ("a", "b"):
        model = churn.train_churn(frame, labels)
        artifacts.write_artifact(
            tmp_path / name, {"model": model}, {"auc": 0.5, "as_of": D}, {"name": "churn"}
        )
    for file in (artifacts.MODEL_FILE, artifacts.METRICS_FILE, artifacts.MANIFEST_FILE):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    model, metrics, _ = artifacts.load_artifact(tmp_path / "a")
    assert np.array_equal(
        churn.churn_probability(model["model"], frame),
        churn.churn_probability(churn.train_churn(frame, labels), frame),
    )
    assert metrics == {"as_of": "2025-10-31", "auc": 0.5}
    payload = bytearray((tmp_path / "a" / artifacts.MODEL_FILE).read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    (tmp_path / "a" / artifacts.MODEL_FILE).write_bytes(bytes(payload))
    with pytest.raises(artifacts.ArtifactCorrupted, match="does not match the SHA-256"):
        artifacts.load_artifact(tmp_path / "a")
    version = artifacts.version_of(D, "abc", {"seed": 1})
    assert version.startswith("2025-10-31-") and version == artifacts.version_of(D, "abc", {"seed": 1})
    assert version != artifacts.version_of(D, "abc", {"seed": 2})


def test_ecom_train_refuses_an_empty_or_short_lake_and_writes_nothing(tmp_path):
    proc = ecom("train", data_dir=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "ecom: the lake holds no orders: generate days first (`ecom generate --start ... --end ...`)"
    ]
    ecom("generate", "--scale", "tiny", "--start", "2025-09-01", "--end", "2025-09-03", data_dir=tmp_path)
    proc = ecom("train", "--model", "churn", data_dir=tmp_path, check=False)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "training needs 118 days of history up to 2025-09-03" in proc.stderr
    assert "the lake holds 3 from 2025-09-01" in proc.stderr
    assert not (tmp_path / "models").exists()


def test_a_model_whose_predictions_are_not_numbers_never_wins_the_value_backtest():
    from predict import clv

    nan = float("nan")
    assert (
        clv.choose_winner({"bgnbd": {"spend_decile_error": nan}, "ml": {"spend_decile_error": 0.9}}) == "ml"
    )
    assert (
        clv.choose_winner({"bgnbd": {"spend_decile_error": 0.2}, "ml": {"spend_decile_error": nan}})
        == "bgnbd"
    )
    assert (
        clv.choose_winner({"bgnbd": {"spend_decile_error": 0.3}, "ml": {"spend_decile_error": 0.2}}) == "ml"
    )


def test_metrics_are_strict_json():
    """metrics.json and the training DAG's XCom: a metric that is not a number is null (Airflow refuses NaN)."""
    import json

    text = artifacts.json_text({"a": float("nan"), "b": [np.float64("inf"), 1.5], "c": np.float32(2.0)})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in {text}")) == {
        "a": None,
        "b": [None, 1.5],
        "c": 2.0,
    }
