"""Customers who live and leave: every user's latent traits, a pure function of (seed, user id).

A user who signed up on day c (their *cohort*) has, for the rest of their life:

* a **visit rate** `lambda` (returning visits per day at calendar multiplier 1): Gamma(r, mean) across users;
* a **lifetime** `tau` in days: exponential with a Gamma(s, beta)-distributed dropout rate, so Lomax(s, beta)
  across users (the Pareto/NBD model). From age `ceil(tau)` on they never come back;
* a **purchase propensity** (multiplies their chance to add to the cart; Gamma, mean 1) and a **spend level**
  (scales how many units a cart line holds; Gamma, mean 1).

The day's cost must not grow with the user base, so whom a day draws among the earlier users is computed per
cohort, never per user. Two stratifications make the alive visit-rate mass of a cohort at any age exact and
cheap:

* lifetimes are stratified within a cohort: the user of *lifetime rank* k (a hashed affine permutation of the
  index within the cohort) has the (k + 1/2)/n survival quantile of the Lomax law, so the users alive at age a
  are exactly ranks 0 .. n_alive(a) - 1, with n_alive a closed form (checked against the ranks' lifetimes);
* visit rates are stratified within blocks of `VISIT_RATE_LEVELS` consecutive ranks: each block holds every
  level of a fixed grid of Gamma quantiles once (a hashed permutation per block), so a full block's mass is a
  constant and only the one partial block of a cohort is summed user by user.

Returning visits of a day are then drawn exactly, in O(sessions) work: their number is Poisson with the alive
mass (times the day's multiplier) as its mean, and each goes to an alive user with probability proportional to
their visit rate, so every alive user visits Poisson(lambda * multiplier) times, independently of the others.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from generator import behaviour as m
from generator.streams import splitmix64

SALT_LIFETIME_RANK = 0x5EED_0101
SALT_VISIT_BLOCK = 0x5EED_0102
SALT_PROPENSITY = 0x5EED_0103
SALT_SPEND = 0x5EED_0104
VISIT_LEVEL_STEP = 77  # odd: `pos * STEP + offset (mod LEVELS)` is a permutation of a block's levels


def _hash(seed: int, salt: int, values: np.ndarray) -> np.ndarray:
    key = splitmix64(np.array([seed ^ salt], dtype=np.uint64))
    return splitmix64(np.asarray(values, dtype=np.uint64) ^ key)


def _uniform(seed: int, salt: int, values: np.ndarray) -> np.ndarray:
    return (_hash(seed, salt, values) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


@functools.cache
def gamma_quantile_table(shape: float) -> tuple[np.ndarray, np.ndarray]:
    """(cdf, x) of the unit-scale Gamma(shape) on a dense grid, for quantiles by interpolation.

    The regularized lower incomplete gamma by its power series (exact to float precision on this range).
    """
    x = np.geomspace(1e-14, 80.0, 40_000)
    term = np.ones_like(x)
    total = np.ones_like(x)
    for n in range(1, 400):
        term = term * x / (shape + n)
        total += term
        if term.max() < 1e-17 * total.min():
            break
    log_front = shape * np.log(x) - x - math.lgamma(shape + 1.0)
    cdf = np.minimum(np.exp(log_front) * total, 1.0)
    cdf = np.maximum.accumulate(cdf)
    return cdf, x


QUANTILE_STEPS = 1 << 14


@functools.cache
def _quantile_grid(shape: float) -> np.ndarray:
    cdf, x = gamma_quantile_table(shape)
    return np.interp(np.linspace(0.0, 1.0, QUANTILE_STEPS + 1), cdf, x)


def gamma_quantile(shape: float, mean: float, q: np.ndarray) -> np.ndarray:
    """Quantiles of Gamma(shape) with the given mean, by linear interpolation on a fine grid of probabilities."""
    grid = _quantile_grid(shape)
    pos = np.asarray(q, dtype=np.float64) * QUANTILE_STEPS
    i = np.minimum(pos.astype(np.int64), QUANTILE_STEPS - 1)
    return (grid[i] + (pos - i) * (grid[i + 1] - grid[i])) * (mean / shape)


@functools.cache
def visit_rate_levels() -> np.ndarray:
    """The grid of visit rates: Gamma quantiles at the middle of `VISIT_RATE_LEVELS` equal strata."""
    q = (np.arange(m.VISIT_RATE_LEVELS) + 0.5) / m.VISIT_RATE_LEVELS
    levels = gamma_quantile(m.VISIT_RATE_SHAPE, m.VISIT_RATE_MEAN, q)
    levels.flags.writeable = False
    return levels


def mean_visit_rate() -> float:
    return float(visit_rate_levels().mean())


def max_visit_rate() -> float:
    return float(visit_rate_levels()[-1])


# --------------------------------------------------------------------------------------------------------
# Lifetimes: stratified Lomax quantiles by lifetime rank.


def lifetime_of_rank(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Lifetime in days of the user of lifetime rank k in a cohort of n (rank 0 lives longest)."""
    u = (np.asarray(k, dtype=np.float64) + 0.5) / np.asarray(n, dtype=np.float64)
    return m.LIFETIME_SCALE_DAYS * (u ** (-1.0 / m.LIFETIME_SHAPE) - 1.0)


def survival(age: np.ndarray) -> np.ndarray:
    """Share of a cohort still alive `age` days after signup: (beta / (beta + age)) ** s."""
    return (
        m.LIFETIME_SCALE_DAYS / (m.LIFETIME_SCALE_DAYS + np.asarray(age, dtype=np.float64))
    ) ** m.LIFETIME_SHAPE


def alive_counts(n: np.ndarray, age: np.ndarray) -> np.ndarray:
    """How many of a cohort of n are alive at `age` (ranks 0 .. count - 1): #{k : lifetime(k) > age}."""
    n = np.asarray(n, dtype=np.int64)
    age = np.asarray(age, dtype=np.float64)
    count = np.clip(np.ceil(n * survival(age) - 0.5), 0, n).astype(np.int64)
    for _ in range(2):  # the closed form can be one off at a boundary: settle it on the ranks' lifetimes
        up = (count < n) & (lifetime_of_rank(np.minimum(count, n - 1), np.maximum(n, 1)) > age)
        count = count + up
        down = (count > 0) & (lifetime_of_rank(np.maximum(count - 1, 0), np.maximum(n, 1)) <= age)
        count = count - down
    return count


def lapse_age(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The first age (days after signup, >= 1) at which the user of rank k is no longer alive."""
    return np.maximum(np.ceil(lifetime_of_rank(k, n)), 1.0).astype(np.int64)


@functools.lru_cache(maxsize=8192)
def rank_permutation(seed: int, cohort: int, n: int) -> tuple[int, int, int]:
    """(a, a_inverse, b): lifetime rank k = (a * index + b) mod n, for the users of one cohort."""
    if n <= 1:
        return 1, 1, 0
    h = int(_hash(seed, SALT_LIFETIME_RANK, np.array([cohort]))[0])
    a = 1 + (h >> 20) % (n - 1)
    while math.gcd(a, n) != 1:
        a += 1
    return a, pow(a, -1, n), (h & 0xFFFFF) % n


def _affine(seed: int, cohorts: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    params = np.array([rank_permutation(seed, int(c), int(k)) for c, k in zip(cohorts, n, strict=True)])
    params = params.reshape(-1, 3).astype(np.int64)
    return params[:, 0], params[:, 1], params[:, 2]


def visit_rate_of_rank(seed: int, cohort: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The visit rate of the user of lifetime rank k in `cohort` (an ordinal day number)."""
    k = np.asarray(k, dtype=np.int64)
    levels = m.VISIT_RATE_LEVELS
    block = k // levels
    offset = _hash(seed, SALT_VISIT_BLOCK, np.asarray(cohort, dtype=np.int64) * 1_000_003 + block)
    level = ((k % levels) * VISIT_LEVEL_STEP + (offset % np.uint64(levels)).astype(np.int64)) % levels
    return visit_rate_levels()[level]


def alive_mass(seed: int, cohort: np.ndarray, n: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Sum of the visit rates of each cohort's alive users (ranks 0 .. alive - 1), exactly."""
    levels = m.VISIT_RATE_LEVELS
    full = alive // levels
    mass = full * float(visit_rate_levels().sum())
    rest = alive - full * levels
    if rest.sum():
        which = np.repeat(np.arange(len(alive)), rest)
        first = np.repeat(full * levels, rest)
        k = first + np.arange(len(which)) - np.repeat(np.cumsum(rest) - rest, rest)
        mass = mass + np.bincount(
            which, weights=visit_rate_of_rank(seed, cohort[which], k), minlength=len(alive)
        )
    return mass


@dataclass(frozen=True)
class Cohorts:
    """The signup cohorts before a day: ordinal day, size, first id - 1 and age on that day."""

    ordinal: np.ndarray
    size: np.ndarray
    offset: np.ndarray
    age: np.ndarray


def returning_mass(seed: int, cohorts: Cohorts) -> tuple[np.ndarray, np.ndarray]:
    """(alive users, alive visit-rate mass) per cohort."""
    alive = alive_counts(cohorts.size, cohorts.age)
    return alive, alive_mass(seed, cohorts.ordinal, cohorts.size, alive)


def sample_returning(
    seed: int,
    rng: np.random.Generator,
    cohorts: Cohorts,
    alive: np.ndarray,
    mass: np.ndarray,
    multiplier: float,
) -> np.ndarray:
    """User ids of the day's returning visits: Poisson(multiplier x mass) visits, each to an alive user with
    probability proportional to their visit rate (so every alive user visits Poisson(rate x multiplier) times).

    A visit falls in a cohort's full blocks or in its one partial block in proportion to their mass. In full
    blocks every level appears once per block: draw the level by its rate, the cohort by its number of full
    blocks, the block uniformly, and the rank holding that level follows. Partial blocks are drawn user by user.
    """
    levels = visit_rate_levels()
    n_levels = m.VISIT_RATE_LEVELS
    full = alive // n_levels
    full_mass = float(full.sum()) * float(levels.sum())
    total = float(mass.sum())
    if total <= 0.0:
        return np.zeros(0, dtype=np.int64)
    n_visits = int(rng.poisson(multiplier * total))
    in_full = rng.random(n_visits) * total < full_mass
    n_full = int(in_full.sum())
    # full blocks: level by rate, cohort by full blocks, block uniformly
    level = np.searchsorted(np.cumsum(levels), rng.random(n_full) * levels.sum(), side="right").clip(
        0, n_levels - 1
    )
    cum_full = np.cumsum(full)
    which_f = np.searchsorted(cum_full, rng.random(n_full) * max(int(cum_full[-1]), 1), side="right")
    which_f = which_f.clip(0, len(alive) - 1)
    block = np.minimum(
        (rng.random(n_full) * full[which_f]).astype(np.int64), np.maximum(full[which_f] - 1, 0)
    )
    offset = _hash(seed, SALT_VISIT_BLOCK, cohorts.ordinal[which_f] * 1_000_003 + block)
    offset = (offset % np.uint64(n_levels)).astype(np.int64)
    pos = ((level - offset) % n_levels) * pow(VISIT_LEVEL_STEP, -1, n_levels) % n_levels
    rank_f = block * n_levels + pos
    # partial blocks: every user of them by rate
    rest = alive - full * n_levels
    which_p, rank_p = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    n_partial = n_visits - n_full
    if n_partial:
        owner = np.repeat(np.arange(len(alive)), rest)
        k = np.repeat(full * n_levels, rest) + np.arange(len(owner)) - np.repeat(np.cumsum(rest) - rest, rest)
        cum = np.cumsum(visit_rate_of_rank(seed, cohorts.ordinal[owner], k))
        pick = np.searchsorted(cum, rng.random(n_partial) * cum[-1], side="right").clip(0, len(cum) - 1)
        which_p, rank_p = owner[pick], k[pick]
    which = np.concatenate([which_f, which_p])
    rank = np.concatenate([rank_f, rank_p])
    n = cohorts.size[which]
    _, a_inv, b = _affine(seed, cohorts.ordinal, cohorts.size)
    index = ((rank - b[which]) % n) * a_inv[which] % n
    return cohorts.offset[which] + 1 + index


# --------------------------------------------------------------------------------------------------------
# Per-user traits


def propensity(seed: int, user_ids: np.ndarray) -> np.ndarray:
    u = _uniform(seed, SALT_PROPENSITY, user_ids)
    return gamma_quantile(m.PURCHASE_PROPENSITY_SHAPE, 1.0, u)


def spend_level(seed: int, user_ids: np.ndarray) -> np.ndarray:
    u = _uniform(seed, SALT_SPEND, user_ids)
    return gamma_quantile(m.SPEND_LEVEL_SHAPE, 1.0, u)


def persona(visit_rate: np.ndarray, purchase_propensity: np.ndarray) -> np.ndarray:
    """Coarse groups over the traits: 0 power_buyer, 1 standard, 2 browser (see behaviour.PERSONAS)."""
    score = visit_rate / mean_visit_rate() * purchase_propensity
    return np.where(
        score >= m.POWER_BUYER_SCORE, 0, np.where(purchase_propensity < m.BROWSER_PROPENSITY, 2, 1)
    ).astype(np.int8)


@dataclass(frozen=True)
class Traits:
    user_id: np.ndarray
    visit_rate: np.ndarray
    purchase_propensity: np.ndarray
    spend_level: np.ndarray
    lifetime_days: np.ndarray
    lapse_age: np.ndarray  # days after signup from which the user never comes back
    persona: np.ndarray


def cohort_traits(seed: int, cohort: int, n: int, offset: int) -> Traits:
    """Traits of the n users of one cohort (ids offset + 1 .. offset + n)."""
    index = np.arange(n, dtype=np.int64)
    a, _, b = rank_permutation(seed, cohort, n)
    rank = (a * index + b) % max(n, 1)
    sizes = np.full(n, n, dtype=np.int64)
    ids = offset + 1 + index
    rate = visit_rate_of_rank(seed, np.full(n, cohort, dtype=np.int64), rank)
    prop = propensity(seed, ids)
    return Traits(
        user_id=ids,
        visit_rate=rate,
        purchase_propensity=prop,
        spend_level=spend_level(seed, ids),
        lifetime_days=lifetime_of_rank(rank, sizes),
        lapse_age=lapse_age(rank, sizes),
        persona=persona(rate, prop),
    )
