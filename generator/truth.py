"""The truth about every customer: traits, lapse day, and what they are expected to buy from any as-of date.

Given a user's latent state (traits and lapse day, see `customers.py`), the expected number of orders over the
days after an as-of date t is a closed form, a sum over the calendar:

    E[orders in t+1 .. t+T] = sum over days d in t+1 .. t+T with signup < d < lapse day of
                              visit_rate x visit_multiplier(d) x conversion(propensity, d)

where `visit_multiplier(d)` is the calendar without the shop's growth (seasonality x weekday x sale traffic) and
`conversion(propensity, d)` is the exact probability that one returning visit ends in an order: the funnel's
stage probabilities (with the day's sale uplift) averaged over the returning visits' device, channel and intent
mix. The expected spend multiplies each day's expected orders by the user's expected order value:

    UNIT_BASKET x (1 + spend_level x EXTRA_UNIT_RATE) x (1 - expected discount of day d)

`UNIT_BASKET` (the mean order subtotal at one unit per line, see model.py) is the one estimated constant: the
product mix of an order is the shop's, not the user's, so it is the same for everyone. Spend is the order total
after discounts and before shipping, as placed (later cancellations and returns are not subtracted).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator import experiments
from generator import model as m
from generator.arrow import dictionary
from generator.calendar import category_seasonality, day_shape
from generator.config import GeneratorConfig
from generator.customers import Traits, cohort_traits
from generator.plan import cohorts_before, signups_on, users_before, visit_multiplier, warm_user_counts

HORIZONS = (30, 90, 365)
RETURNING = m.SESSION_TYPES.index("returning")


def traits_of(cfg: GeneratorConfig, user_ids: np.ndarray) -> tuple[Traits, np.ndarray]:
    """(traits, signup day ordinal) of any users, in the order given."""
    user_ids = np.asarray(user_ids, dtype=np.int64)
    if len(user_ids) == 0:
        return cohort_traits(cfg.seed, 0, 0, 0), np.zeros(0, dtype=np.int64)
    last = cfg.opening_date
    while users_before(cfg, last) + signups_on(cfg, last) < user_ids.max():
        last += dt.timedelta(days=1)
    warm_user_counts(cfg, last)
    cohorts = cohorts_before(cfg, last + dt.timedelta(days=1))
    which = np.searchsorted(cohorts.offset, user_ids, side="left") - 1
    parts = [
        cohort_traits(cfg.seed, int(cohorts.ordinal[c]), int(cohorts.size[c]), int(cohorts.offset[c]))
        for c in np.unique(which)
    ]
    fields = Traits.__dataclass_fields__
    every = Traits(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})
    position = np.searchsorted(every.user_id, user_ids)
    return Traits(**{f: getattr(every, f)[position] for f in fields}), cohorts.ordinal[which]


def _visit_mix(season: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (device, channel, intent) a returning visit can have, with its probability on a day whose category
    seasonality is `season` (as the session plan draws them)."""
    d, c, i = np.meshgrid(
        np.arange(len(m.DEVICES)), np.arange(len(m.CHANNELS)), np.arange(len(m.CATEGORIES)), indexing="ij"
    )
    d, c, i = d.ravel(), c.ravel(), i.ravel()
    intent = np.array(
        [
            [
                m.intent_weights(a, b) * season / (m.intent_weights(a, b) @ season)
                for b in range(len(m.CHANNELS))
            ]
            for a in range(len(m.DEVICES))
        ]
    )
    weight = m.DEVICE_MIX[d] * m.CHANNEL_MIX_RETURNING[c] * intent[d, c, i]
    return d, c, i, weight


@dataclass(frozen=True)
class DayTerms:
    """What a calendar day contributes to every user's expectation."""

    visit_multiplier: float
    discount: float  # expected discount of an order (sale rate, or the coupons' average)
    knee: np.ndarray  # conversion(p) is piecewise linear in the propensity p: the knees, in increasing order,
    slope: np.ndarray  # and the slope and constant after each
    constant: np.ndarray
    checkout: tuple[tuple[experiments.Experiment, float], ...]  # running checkout tests and their effect
    quantity: tuple[experiments.Experiment, ...]  # running quantity experiments


@functools.lru_cache(maxsize=1024)
def day_terms(opening: dt.date, market: str, day: dt.date) -> DayTerms:
    shape = day_shape(day, opening, market)
    season = category_seasonality(day, tuple(c[1] for c in m.CATEGORIES), market)
    d, c, i, weight = _visit_mix(season)
    tiny = 1e-6  # far from the cap, so p_cart / tiny is the uncapped add-to-cart factor
    probs = m.stage_probabilities(
        c, d, np.full(len(d), RETURNING), np.full(len(d), tiny), i, shape.conversion_multiplier
    )
    cart = probs[1] / tiny
    others = weight * probs[0] * probs[2] * probs[3]
    knee = m.MAX_STAGE_PROBABILITY / cart
    order = np.argsort(knee)
    knee, cart, others = knee[order], cart[order], others[order]
    slope = (others * cart).sum() - np.concatenate([[0.0], np.cumsum(others * cart)])
    constant = m.MAX_STAGE_PROBABILITY * np.concatenate([[0.0], np.cumsum(others)])
    running = experiments.running(day)
    return DayTerms(
        visit_multiplier=visit_multiplier(shape),
        discount=shape.discount_rate if shape.sale else m.COUPON_SHARE * m.COUPON_RATE,
        knee=knee,
        slope=slope,
        constant=constant,
        checkout=tuple((e, e.true_relative_effect) for e in running if e.lever == "checkout"),
        quantity=tuple(e for e in running if e.lever == "quantity"),
    )


def visit_conversion(terms: DayTerms, propensity: np.ndarray) -> np.ndarray:
    """Probability that one returning visit of a user with this propensity ends in an order (no experiments)."""
    propensity = np.asarray(propensity, dtype=np.float64)
    k = np.searchsorted(terms.knee, propensity, side="right")
    return terms.slope[k] * propensity + terms.constant[k]


@dataclass(frozen=True)
class Expectation:
    orders: np.ndarray
    spend_cents: np.ndarray


def expected_from(
    cfg: GeneratorConfig, traits: Traits, signup: np.ndarray, as_of: dt.date, horizon: int
) -> Expectation:
    """Expected orders and spend of each user over the `horizon` days after `as_of` (as-of day excluded).

    A day counts for a user when it is after their signup and before their lapse day. The running experiments
    count too: a session-level checkout test raises every visit's conversion by effect x allocation in
    expectation, a user-level one by the effect for treated users; a quantity test raises the units per line.
    """
    signup = np.asarray(signup, dtype=np.int64)
    lo = np.maximum(signup + 1, as_of.toordinal() + 1)  # first day that counts
    hi = np.minimum(signup + traits.lapse_age - 1, as_of.toordinal() + horizon)  # last day that counts
    orders = np.zeros(len(signup))
    spend = np.zeros(len(signup))
    rate = m.EXTRA_UNIT_RATE * traits.spend_level
    treated_cache: dict[str, np.ndarray] = {}

    def treated(e: experiments.Experiment) -> np.ndarray:
        if e.experiment_id not in treated_cache:
            treated_cache[e.experiment_id] = experiments.treated(cfg.seed, e, traits.user_id)
        return treated_cache[e.experiment_id]

    for k in range(1, horizon + 1):
        day = as_of + dt.timedelta(days=k)
        counts = (lo <= day.toordinal()) & (day.toordinal() <= hi)
        if not counts.any():
            continue
        terms = day_terms(cfg.opening_date, cfg.market, day)
        idx = np.flatnonzero(counts)
        per_day = (
            traits.visit_rate[idx]
            * terms.visit_multiplier
            * visit_conversion(terms, traits.purchase_propensity[idx])
        )
        for e, effect in terms.checkout:
            if e.unit == "user":
                per_day = per_day * (1.0 + effect * treated(e)[idx])
            else:
                per_day = per_day * (1.0 + effect * e.allocation)
        units = (
            1.0 + rate[idx]
        )  # a treatment multiplies the mean units by (1 + effect); assignments independent
        for e in terms.quantity:
            share = treated(e)[idx] if e.unit == "user" else e.allocation
            units = units * (1.0 + e.true_relative_effect * share)
        orders[idx] += per_day
        spend[idx] += per_day * units * (1.0 - terms.discount)
    return Expectation(orders=orders, spend_cents=spend * m.UNIT_BASKET_CENTS)


def build_user_truth(cfg: GeneratorConfig, day: dt.date) -> pa.Table:
    """The users who signed up on `day`: their traits, lapse day and expectations as of their signup day."""
    n = signups_on(cfg, day)
    traits = cohort_traits(cfg.seed, day.toordinal(), n, users_before(cfg, day))
    signup = np.full(n, day.toordinal(), dtype=np.int64)
    epoch = dt.date(1970, 1, 1).toordinal()
    columns = {
        "user_id": pa.array(traits.user_id),
        "persona": dictionary(m.PERSONAS, traits.persona),
        "visit_rate": pa.array(traits.visit_rate),
        "purchase_propensity": pa.array(traits.purchase_propensity),
        "spend_level": pa.array(traits.spend_level),
        "lifetime_days": pa.array(traits.lifetime_days),
        "lapse_date": pa.array((signup + traits.lapse_age - epoch).astype(np.int32), pa.date32()),
        "as_of_date": pa.array((signup - epoch).astype(np.int32), pa.date32()),
    }
    expectations = {h: expected_from(cfg, traits, signup, day, h) for h in HORIZONS}
    for h, e in expectations.items():
        columns[f"expected_orders_{h}d"] = pa.array(e.orders)
    for h, e in expectations.items():
        columns[f"expected_spend_{h}d"] = pa.array(np.round(e.spend_cents) / 100.0)
    return pa.table(columns)
