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

from generator import model as m
from generator.arrow import dictionary
from generator.calendar import day_shape
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


@functools.cache
def _visit_mix() -> tuple[np.ndarray, ...]:
    """Every (device, channel, intent) a returning visit can have, with its probability."""
    d, c, i = np.meshgrid(
        np.arange(len(m.DEVICES)), np.arange(len(m.CHANNELS)), np.arange(len(m.CATEGORIES)), indexing="ij"
    )
    d, c, i = d.ravel(), c.ravel(), i.ravel()
    weight = np.array(
        [
            m.DEVICE_MIX[a] * m.CHANNEL_MIX_RETURNING[b] * m.intent_weights(a, b)[k]
            for a, b, k in zip(d, c, i, strict=True)
        ]
    )
    return d, c, i, weight


@functools.lru_cache(maxsize=16)
def _conversion_curve(conversion_multiplier: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """conversion(p) = sum over the mix of weight x reach(others) x min(cart x p, MAX): piecewise linear in p.

    Returns the propensities at which each (device, channel, intent) starts to clip, in increasing order, and
    the slope and the constant of the curve after each of them.
    """
    d, c, i, weight = _visit_mix()
    tiny = 1e-6  # far from the clip, so p_cart / tiny is the unclipped add-to-cart factor
    probs = m.stage_probabilities(
        c, d, np.full(len(d), RETURNING), np.full(len(d), tiny), i, conversion_multiplier
    )
    cart = probs[1] / tiny
    others = weight * probs[0] * probs[2] * probs[3]
    knee = m.MAX_STAGE_PROBABILITY / cart
    order = np.argsort(knee)
    knee, cart, others = knee[order], cart[order], others[order]
    slope = (others * cart).sum() - np.concatenate([[0.0], np.cumsum(others * cart)])
    constant = m.MAX_STAGE_PROBABILITY * np.concatenate([[0.0], np.cumsum(others)])
    return knee, slope, constant


def visit_conversion(propensity: np.ndarray, conversion_multiplier: float) -> np.ndarray:
    """Probability that one returning visit of a user with this propensity ends in an order."""
    knee, slope, constant = _conversion_curve(float(conversion_multiplier))
    propensity = np.asarray(propensity, dtype=np.float64)
    k = np.searchsorted(knee, propensity, side="right")
    return slope[k] * propensity + constant[k]


@functools.lru_cache(maxsize=2048)
def _shape(opening: dt.date, day: dt.date):
    return day_shape(day, opening)


@dataclass(frozen=True)
class Expectation:
    orders: np.ndarray
    spend_cents: np.ndarray


def expected_from(
    cfg: GeneratorConfig, traits: Traits, signup: np.ndarray, as_of: dt.date, horizon: int
) -> Expectation:
    """Expected orders and spend of each user over the `horizon` days after `as_of` (as-of day excluded)."""
    first = as_of + dt.timedelta(days=1)
    days = [first + dt.timedelta(days=k) for k in range(horizon)]
    shapes = [_shape(cfg.opening_date, d) for d in days]
    mult = np.array([visit_multiplier(s) for s in shapes])
    conv = np.array([s.conversion_multiplier for s in shapes])
    discount = np.array(
        [s.discount_rate if s.sale else m.COUPON_SHARE * m.COUPON_RATE for s in shapes], dtype=np.float64
    )
    ordinal = np.array([d.toordinal() for d in days], dtype=np.int64)
    # each user's days: after signup and as-of, before the lapse day
    lo = np.maximum(signup + 1, first.toordinal())
    hi = np.minimum(signup + traits.lapse_age - 1, ordinal[-1])  # inclusive
    lo_idx = np.clip(lo - ordinal[0], 0, horizon)
    hi_idx = np.clip(hi - ordinal[0] + 1, 0, horizon)
    hi_idx = np.maximum(hi_idx, lo_idx)
    orders = np.zeros(len(signup))
    spend_factor = np.zeros(len(signup))
    for cm in np.unique(conv):
        in_group = conv == cm
        prefix = np.concatenate([[0.0], np.cumsum(np.where(in_group, mult, 0.0))])
        prefix_paid = np.concatenate([[0.0], np.cumsum(np.where(in_group, mult * (1.0 - discount), 0.0))])
        per_visit = traits.visit_rate * visit_conversion(traits.purchase_propensity, float(cm))
        orders += per_visit * (prefix[hi_idx] - prefix[lo_idx])
        spend_factor += per_visit * (prefix_paid[hi_idx] - prefix_paid[lo_idx])
    order_value = m.UNIT_BASKET_CENTS * (1.0 + traits.spend_level * m.EXTRA_UNIT_RATE)
    return Expectation(orders=orders, spend_cents=spend_factor * order_value)


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
