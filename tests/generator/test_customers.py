"""Customers live and leave: the per-cohort shortcuts agree with the users they stand for, and visits follow rates.

These check the generator's own bookkeeping exactly (alive counts and masses against a user-by-user count), and
the visit sampler statistically: per visit-rate level, the visits of many days are Poisson counts, so observed
counts must lie within 4.5 standard errors of the rates' promise (a false alarm under 1 in 10^4 per cell).
"""

from __future__ import annotations

import numpy as np
import pytest

from generator import behaviour as m
from generator import customers as c

SEED = 11


def cohorts(sizes, ages) -> c.Cohorts:
    sizes = np.asarray(sizes, dtype=np.int64)
    return c.Cohorts(
        ordinal=738_000 + np.arange(len(sizes), dtype=np.int64),
        size=sizes,
        offset=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        age=np.asarray(ages, dtype=np.int64),
    )


@pytest.mark.parametrize("n", [1, 2, 127, 128, 129, 1000, 4321])
def test_alive_counts_and_mass_match_the_users_one_by_one(n):
    for age in (1, 2, 7, 30, 90, 365, 2000):
        k = np.arange(n)
        lifetimes = c.lifetime_of_rank(k, np.full(n, n))
        alive = c.alive_counts(np.array([n]), np.array([age]))[0]
        assert alive == int((lifetimes > age).sum())
        assert np.all(lifetimes[:alive] > age) and np.all(lifetimes[alive:] <= age)  # alive = the first ranks
        assert np.all(c.lapse_age(k[:alive], np.full(alive, n)) > age)
        rates = c.visit_rate_of_rank(SEED, np.full(n, 738_000), k)
        mass = c.alive_mass(SEED, np.array([738_000]), np.array([n]), np.array([alive]))[0]
        assert mass == pytest.approx(rates[:alive].sum(), rel=1e-12, abs=1e-12)


def test_each_block_of_ranks_holds_every_visit_rate_level_once():
    levels = m.VISIT_RATE_LEVELS
    rates = c.visit_rate_of_rank(SEED, np.full(10 * levels, 738_005), np.arange(10 * levels))
    for block in rates.reshape(10, levels):
        assert np.array_equal(np.sort(block), np.sort(c.visit_rate_levels()))


def test_lifetime_ranks_are_a_permutation_of_the_cohort():
    for n in (1, 2, 10, 1000, 1024, 4099):
        a, a_inv, b = c.rank_permutation(SEED, 738_001, n)
        index = np.arange(n)
        rank = (a * index + b) % n
        assert np.array_equal(np.sort(rank), index)
        assert np.array_equal((rank - b) % n * a_inv % n, index)


def test_cohort_lifetimes_follow_the_lomax_law():
    """The survival curve of a cohort is the model's (beta / (beta + t)) ** s, to within one user."""
    n = 10_000
    traits = c.cohort_traits(SEED, 738_002, n, 0)
    for t in (1, 10, 30, 100, 365):
        assert abs((traits.lifetime_days > t).mean() - c.survival(t)) <= 1 / n


def test_returning_visits_come_from_alive_users_in_proportion_to_their_rates():
    co = cohorts([900, 2500, 40, 1300], [3, 25, 60, 200])
    alive, mass = c.returning_mass(SEED, co)
    users = [
        c.cohort_traits(SEED, int(o), int(s), int(f))
        for o, s, f in zip(co.ordinal, co.size, co.offset, strict=True)
    ]
    rate = np.concatenate([u.visit_rate for u in users])
    lapse = np.concatenate([u.lapse_age for u in users])
    age = np.repeat(co.age, co.size)
    is_alive = age < lapse
    assert np.isclose(rate[is_alive].sum(), mass.sum())

    rng = np.random.default_rng(5)
    multiplier, days = 3.0, 40
    visits = np.concatenate([c.sample_returning(SEED, rng, co, alive, mass, multiplier) for _ in range(days)])
    counts = np.bincount(visits - 1, minlength=len(rate))
    assert counts[~is_alive].sum() == 0  # nobody comes back after their lapse
    # total: Poisson with mean days x multiplier x mass
    expected_total = days * multiplier * mass.sum()
    assert abs(len(visits) - expected_total) <= 4.5 * np.sqrt(expected_total)
    # per visit-rate level: Poisson counts with mean days x multiplier x rate x alive users at that level
    levels = np.searchsorted(c.visit_rate_levels(), rate[is_alive])
    want = np.bincount(levels, weights=days * multiplier * rate[is_alive])
    got = np.bincount(levels, weights=counts[is_alive], minlength=len(want))
    cells = want > 20
    assert cells.sum() > 50
    z = (got[cells] - want[cells]) / np.sqrt(want[cells])
    assert np.abs(z).max() < 4.5, z


def test_traits_are_pure_functions_of_the_user():
    a = c.cohort_traits(SEED, 738_003, 500, 1000)
    b = c.cohort_traits(SEED, 738_003, 500, 1000)
    other = c.cohort_traits(SEED + 1, 738_003, 500, 1000)
    for field in c.Traits.__dataclass_fields__:
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.purchase_propensity, other.purchase_propensity)
    assert abs(c.propensity(SEED, np.arange(1, 200_001)).mean() - 1.0) < 0.01  # mean 1 by construction
