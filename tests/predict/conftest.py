"""One `small` lake that knows its future, shared by the truth tests of the customer models.

The lake runs from the opening day to D + 90 (D = 2026-03-31). Models see only the days up to D (the frames are
cut there); the 90 days after D are what really happened, and generator/truth.py gives what each customer was
expected to do (days are pure functions of seed and date, so generating the future changes nothing before D).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.config import DEFAULT_OPENING_DATE, GeneratorConfig
from generator.run import date_range, generate_window
from generator.truth import expected_over, traits_of

AS_OF = dt.date(2026, 3, 31)
HORIZON = 90
TEST_SHARE = 0.3  # customers held out of every fit, by user id


@dataclass(frozen=True)
class FutureLake:
    cfg: GeneratorConfig
    lake: Path
    full: object  # CustomerFrames up to AS_OF + HORIZON
    seen: object  # CustomerFrames up to AS_OF
    held_out: np.ndarray  # bool by user_id


@pytest.fixture(scope="session")
def future_lake(tmp_path_factory) -> FutureLake:
    from pipeline.train.data import read_customer_frames
    from pipeline.train.models import frames_until

    lake = tmp_path_factory.mktemp("future-lake") / "lake"
    cfg = GeneratorConfig(scale="small", seed=42)
    days = date_range(DEFAULT_OPENING_DATE, AS_OF + dt.timedelta(days=HORIZON))
    generate_window(cfg, lake, days, workers=2, echo=lambda line: None)
    full = read_customer_frames(lake)
    held_out = np.random.default_rng(5).random(int(full.users["user_id"].max()) + 1) < TEST_SHARE
    return FutureLake(cfg, lake, full, frames_until(full, AS_OF), held_out)


@dataclass(frozen=True)
class Scored:
    """Held-out customers as of AS_OF: features, what happened in the next 90 days and what the truth expected."""

    features: pd.DataFrame
    churned: np.ndarray
    orders: np.ndarray
    spend: np.ndarray
    expected_orders: np.ndarray
    expected_spend: np.ndarray
    true_churn: np.ndarray  # P(no order in 90 days | traits) = exp(-expected orders): orders are Poisson
    lapse_age_at_as_of: np.ndarray  # days from AS_OF to the true lapse day


@pytest.fixture(scope="session")
def held_out(future_lake) -> Scored:
    from predict.features import churn_labels, customer_features, future_orders

    seen, full = future_lake.seen, future_lake.full
    now = customer_features(seen.users, seen.orders, seen.sessions, AS_OF)
    test = now[future_lake.held_out[now["user_id"].to_numpy()]].reset_index(drop=True)
    future = future_orders(full.orders, test["user_id"], AS_OF, HORIZON)
    traits, signup = traits_of(future_lake.cfg, test["user_id"].to_numpy())
    expected = expected_over(future_lake.cfg, traits, signup, AS_OF, (HORIZON,))[HORIZON]
    return Scored(
        features=test,
        churned=churn_labels(full.orders, test["user_id"], AS_OF, HORIZON),
        orders=future["orders"].to_numpy(float),
        spend=future["spend"].to_numpy(float),
        expected_orders=expected.orders,
        expected_spend=expected.spend_cents / 100.0,
        true_churn=np.exp(-expected.orders),
        lapse_age_at_as_of=(signup + traits.lapse_age - AS_OF.toordinal()).astype(float),
    )


@pytest.fixture(scope="session")
def training(future_lake):
    """Features as of AS_OF - 90 of the customers not held out, with what the 90 days up to AS_OF observed."""
    from predict.features import churn_labels, customer_features, future_orders

    seen = future_lake.seen
    then = AS_OF - dt.timedelta(days=HORIZON)
    feats = customer_features(seen.users, seen.orders, seen.sessions, then)
    feats = feats[~future_lake.held_out[feats["user_id"].to_numpy()]].reset_index(drop=True)
    future = future_orders(seen.orders, feats["user_id"], then, HORIZON)
    return (
        feats,
        churn_labels(seen.orders, feats["user_id"], then, HORIZON),
        future["orders"].to_numpy(float),
        future["spend"].to_numpy(float),
    )


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """scikit-learn on one OpenMP thread, as pipeline/train runs it: a pool per core spins on a loaded 2-core
    machine (CI) and made these fits several times slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
