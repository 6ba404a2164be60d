"""The lifetimes canary: the pinned library still reproduces the published CDNOW BG/NBD fit, and agrees with the
hand-written numpy fit of tests/support/bgnbd.py, which stays as its independent cross-check."""

from __future__ import annotations

import os

import lifetimes
import numpy as np
import pandas as pd
import pytest

from predict import btyd
from tests.support.bgnbd import fit

# Fader, Hardie and Lee (2005), table 1, and lifetimes' own docs: the CDNOW sample of 2,357 customers, in weeks.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def cdnow() -> pd.DataFrame:
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "cdnow_customers_summary.csv")
    return pd.read_csv(path)


def test_lifetimes_reproduces_the_published_cdnow_fit():
    assert lifetimes.__version__ == btyd.LIFETIMES_VERSION  # an upgrade must come through this test
    data = cdnow()
    fitted = btyd.fit_bgnbd(data["frequency"], data["recency"], data["T"])
    # The paper prints three decimals: a correct maximum likelihood fit lands within half a unit of the last one.
    for name, value in PUBLISHED.items():
        assert fitted[name] == pytest.approx(value, abs=0.0005 + 1e-9), name


def test_the_numpy_fit_cross_checks_lifetimes_on_cdnow():
    data = cdnow()
    ours = fit(data["frequency"].to_numpy(), data["recency"].to_numpy(), data["T"].to_numpy())
    theirs = btyd.fit_bgnbd(data["frequency"], data["recency"], data["T"])
    # Two optimisers on the same likelihood: the flat direction of (a, b) lets them part by up to ~1%.
    for name in PUBLISHED:
        assert getattr(ours, name) == pytest.approx(theirs[name], rel=0.02), name


def _simulate_with_future(rng, n: int, T: float, t: float):
    """BG/NBD customers (CDNOW parameters) observed for T after their first purchase: (x, t_x, and whether they
    buy nothing in (T, T + t]). Dropout can follow each repeat purchase, as in the model."""
    lam = rng.gamma(PUBLISHED["r"], 1.0 / PUBLISHED["alpha"], size=n)
    p = rng.beta(PUBLISHED["a"], PUBLISHED["b"], size=n)
    x, t_x, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    quiet = np.ones(n, dtype=bool)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0 / lam[idx])
        seen = idx[clock[idx] <= T]
        x[seen] += 1
        t_x[seen] = clock[seen]
        later = idx[(clock[idx] > T) & (clock[idx] <= T + t)]
        quiet[later] = False
        active[idx[clock[idx] > T]] = False
        active[seen[rng.random(len(seen)) < p[seen]]] = False
    return x, t_x, quiet


def test_probability_of_no_purchase_matches_simulated_customers():
    """BG/NBD's P(no purchase in the next t), used as the buy-till-you-die churn score, on simulated customers."""
    n, big_t, horizon = 60_000, 39.0, 26.0
    x, t_x, quiet = _simulate_with_future(np.random.default_rng(3), n, big_t, horizon)
    params = btyd.BtydParams(**PUBLISHED, p=6.0, q=4.0, v=15.0)
    predicted = btyd.probability_no_purchase(params, horizon, x, t_x, np.full(n, big_t))
    # Overall and among repeat buyers (where the formula's dropout term matters): the observed share's standard
    # error is at most sqrt(0.25 / 15,000) = 0.004 (>= 15,000 repeat buyers here); 0.015 is > 3.5 SE.
    assert predicted.mean() == pytest.approx(quiet.mean(), abs=0.015)
    repeat = x > 0
    assert repeat.sum() > 15_000
    assert predicted[repeat].mean() == pytest.approx(quiet[repeat].mean(), abs=0.015)
