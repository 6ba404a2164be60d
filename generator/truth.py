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

`UNIT_BASKET` (the mean order subtotal at one unit per line, see behaviour.py) is the one estimated constant: the
product mix of an order is the shop's, not the user's, so it is the same for everyone. Spend is the order total
after discounts and before shipping, as placed (later cancellations and returns are not subtracted).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator import behaviour as m
from generator import experiments
from generator.arrow import array, dictionary
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


@functools.cache
def _intent_weights() -> np.ndarray:
    """(device, channel, category) intent probabilities before the day's category seasons."""
    return np.array([[m.intent_weights(a, b) for b in range(len(m.CHANNELS))] for a in range(len(m.DEVICES))])


@functools.cache
def _visit_cells() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (device, channel, intent) a returning visit can have, and the share of its (device, channel)."""
    d, c, i = np.meshgrid(
        np.arange(len(m.DEVICES)), np.arange(len(m.CHANNELS)), np.arange(len(m.CATEGORIES)), indexing="ij"
    )
    d, c, i = d.ravel(), c.ravel(), i.ravel()
    return d, c, i, m.DEVICE_MIX[d] * m.CHANNEL_MIX_RETURNING[c]


def _visit_mix(season: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (device, channel, intent) a returning visit can have, with its probability on a day whose category
    seasonality is `season` (as the session plan draws them)."""
    d, c, i, device_channel = _visit_cells()
    base = _intent_weights()
    intent = base * season / (base @ season)[:, :, None]
    weight = device_channel * intent[d, c, i]
    return d, c, i, weight


@dataclass(frozen=True)
class _Funnel:
    """The part of a day's terms that depends on its conversion multiplier alone, over the visit cells sorted
    by their knee (see `day_terms`)."""

    order: np.ndarray
    knee: np.ndarray
    cart: np.ndarray
    view: np.ndarray
    checkout: np.ndarray
    purchase: np.ndarray


@functools.lru_cache(maxsize=64)
def _funnel(conversion_multiplier: float) -> _Funnel:
    d, c, i, _ = _visit_cells()
    tiny = 1e-6  # far from the cap, so p_cart / tiny is the uncapped add-to-cart factor
    probs = m.stage_probabilities(
        c, d, np.full(len(d), RETURNING), np.full(len(d), tiny), i, conversion_multiplier
    )
    cart = probs[1] / tiny
    knee = m.MAX_STAGE_PROBABILITY / cart
    order = np.argsort(knee)
    funnel = _Funnel(order, knee[order], cart[order], probs[0][order], probs[2][order], probs[3][order])
    for a in (funnel.order, funnel.knee, funnel.cart, funnel.view, funnel.checkout, funnel.purchase):
        a.flags.writeable = False
    return funnel


@dataclass(frozen=True)
class DayTerms:
    """What a calendar day contributes to every user's expectation."""

    visit_multiplier: float
    discount: float  # expected discount of an order (sale rate, or the coupons' average)
    knee: np.ndarray  # conversion(p) is piecewise linear in the propensity p: the knees, in increasing order,
    slope: np.ndarray  # and the slope and constant after each
    constant: np.ndarray
    running: frozenset[str]  # ids of the experiments running that day
    conversion_multiplier: float

    def runs(self, e: experiments.Experiment) -> bool:
        return e.experiment_id in self.running


@functools.lru_cache(maxsize=1024)
def day_terms(opening: dt.date, market: str, day: dt.date) -> DayTerms:
    shape = day_shape(day, opening, market)
    season = category_seasonality(day, tuple(c[1] for c in m.CATEGORIES), market)
    _, _, _, weight = _visit_mix(season)
    f = _funnel(shape.conversion_multiplier)  # the funnel of a returning visit of each cell, sorted by knee
    knee, cart = f.knee, f.cart
    others = weight[f.order] * f.view * f.checkout * f.purchase  # each cell's share x the stages but the cart
    slope = (others * cart).sum() - np.concatenate([[0.0], np.cumsum(others * cart)])
    constant = m.MAX_STAGE_PROBABILITY * np.concatenate([[0.0], np.cumsum(others)])
    return DayTerms(
        visit_multiplier=visit_multiplier(shape),
        discount=shape.discount_rate if shape.sale else m.COUPON_SHARE * m.COUPON_RATE,
        knee=knee,
        slope=slope,
        constant=constant,
        running=frozenset(e.experiment_id for e in experiments.running(day)),
        conversion_multiplier=shape.conversion_multiplier,
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
    return expected_over(cfg, traits, signup, as_of, (horizon,))[horizon]


def expected_over(
    cfg: GeneratorConfig, traits: Traits, signup: np.ndarray, as_of: dt.date, horizons: tuple[int, ...]
) -> dict[int, Expectation]:
    """`expected_from` for several horizons at once, in O(users + days) work.

    Within the days of one conversion multiplier the knees of the conversion curve are the same (only the
    intent mix moves with the seasons), so sum over days of multiplier x conversion(p) is, for the users' knee
    index k(p), p x S[k] + C[k] with S and C prefix sums over the days: each user needs two look-ups per group.
    User-level experiments split the users into a few profiles (treated or not), each with its own sums.
    """
    signup = np.asarray(signup, dtype=np.int64)
    longest = max(horizons)
    first = as_of.toordinal() + 1
    lo = np.maximum(signup + 1, first) - first  # first day that counts, 0 = the day after as_of
    end = np.minimum(signup + traits.lapse_age - 1, first + longest - 1) - first  # last day that counts
    terms = [
        day_terms(cfg.opening_date, cfg.market, as_of + dt.timedelta(days=k + 1)) for k in range(longest)
    ]
    visit_mult = np.array([t.visit_multiplier for t in terms])
    paid_share = 1.0 - np.array([t.discount for t in terms])
    user_level = [e for e in experiments.EXPERIMENTS if e.unit == "user" and e.lever != "none"]
    user_level = [e for e in user_level if any(t.runs(e) for t in terms)]
    flags = [experiments.treated(cfg.seed, e, traits.user_id) for e in user_level]
    profile = np.zeros(len(signup), dtype=np.int64)
    for b, f in enumerate(flags):
        profile |= f.astype(np.int64) << b
    p = traits.purchase_propensity
    units0 = 1.0 + m.EXTRA_UNIT_RATE * traits.spend_level
    conv_mult = np.array([t.conversion_multiplier for t in terms])
    out = {h: (np.zeros(len(signup)), np.zeros(len(signup))) for h in horizons}
    runs = {e.experiment_id: np.array([t.runs(e) for t in terms]) for e in experiments.EXPERIMENTS}
    # per conversion multiplier: its days, their curves, and each user's knee index and first and last day
    groups = []
    for cm in np.unique(conv_mult):
        days = np.flatnonzero(conv_mult == cm)
        before = np.concatenate([[0], np.cumsum(conv_mult == cm)])  # the group's days before day d
        knee = terms[int(days[0])].knee
        slope = np.stack([terms[d].slope for d in days])
        constant = np.stack([terms[d].constant for d in days])
        k = np.searchsorted(knee, p, side="right")
        spans = {
            h: (before[np.clip(lo, 0, h)], before[np.clip(np.minimum(end, h - 1) + 1, np.clip(lo, 0, h), h)])
            for h in horizons
        }
        groups.append((days, slope, constant, k, spans))
    sums: dict = {}
    for prof in np.unique(profile):
        order_factor = visit_mult.copy()  # per day: visits x experiments' effect on conversion
        unit_factor = np.ones(longest)  # per day: experiments' effect on units per line
        for e in experiments.EXPERIMENTS:
            if e.lever == "none" or not runs[e.experiment_id].any():
                continue
            share = float((prof >> user_level.index(e)) & 1) if e.unit == "user" else e.allocation
            factor = np.where(runs[e.experiment_id], 1.0 + e.true_relative_effect * share, 1.0)
            if e.lever == "checkout":
                order_factor = order_factor * factor
            elif e.lever == "quantity":
                unit_factor = unit_factor * factor
        users = np.flatnonzero(profile == prof)
        p_users, rate_users = p[users], traits.visit_rate[users]
        for days, slope, constant, k_all, spans in groups:
            k = k_all[users]
            for weight, target in ((order_factor, 0), (order_factor * unit_factor * paid_share, 1)):
                w = weight[days][:, None]
                key = (id(slope), w.tobytes())  # profiles that differ only in the other target share sums
                if key not in sums:
                    sums[key] = (
                        np.vstack([np.zeros(slope.shape[1]), np.cumsum(slope * w, axis=0)]),
                        np.vstack([np.zeros(slope.shape[1]), np.cumsum(constant * w, axis=0)]),
                    )
                s_cum, c_cum = sums[key]
                for h in horizons:
                    a, b = spans[h][0][users], spans[h][1][users]
                    total = p_users * (s_cum[b, k] - s_cum[a, k]) + (c_cum[b, k] - c_cum[a, k])
                    out[h][target][users] += rate_users * total
    return {
        h: Expectation(orders=o, spend_cents=s * units0 * m.UNIT_BASKET_CENTS) for h, (o, s) in out.items()
    }


def build_user_truth(cfg: GeneratorConfig, day: dt.date) -> pa.Table:
    """The users who signed up on `day`: their traits, lapse day and expectations as of their signup day."""
    n = signups_on(cfg, day)
    traits = cohort_traits(cfg.seed, day.toordinal(), n, users_before(cfg, day))
    signup = np.full(n, day.toordinal(), dtype=np.int64)
    epoch = dt.date(1970, 1, 1).toordinal()
    columns = {
        "user_id": array(traits.user_id),
        "persona": dictionary(m.PERSONAS, traits.persona),
        "visit_rate": array(traits.visit_rate),
        "purchase_propensity": array(traits.purchase_propensity),
        "spend_level": array(traits.spend_level),
        "lifetime_days": array(traits.lifetime_days),
        "lapse_date": array((signup + traits.lapse_age - epoch).astype(np.int32), pa.date32()),
        "as_of_date": array((signup - epoch).astype(np.int32), pa.date32()),
    }
    expectations = expected_over(cfg, traits, signup, day, HORIZONS)
    for h, e in expectations.items():
        columns[f"expected_orders_{h}d"] = array(e.orders)
    for h, e in expectations.items():
        columns[f"expected_spend_{h}d"] = array(np.round(e.spend_cents) / 100.0)
    return pa.table(columns)
