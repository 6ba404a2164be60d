"""Who visits: users over the calendar and the session plan of a day.

Signup counts per day give dense user ids 1..N without any state. The session plan (who visits, from which
channel and device, how far down the funnel they get) is cheap, so the late status changes of day D can
re-derive the order ids of the days before D.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np

from generator import behaviour as m
from generator import experiments
from generator.calendar import DayShape, category_seasonality, day_shape
from generator.config import GeneratorConfig
from generator.customers import Cohorts, returning_mass, sample_returning, spend_level
from generator.customers import propensity as customer_propensity
from generator.streams import SESSION_ID_STRIDE, STREAM_ASSIGN, STREAM_PLAN, STREAM_SIGNUPS, day_key, stream

STAGE_BOUNCE, STAGE_VIEW, STAGE_CART, STAGE_CHECKOUT, STAGE_PURCHASE = range(5)


# --------------------------------------------------------------------------------------------------------
# Users over the calendar: signup counts per day give dense user ids 1..N without any state.


@functools.cache
def signups_on(cfg: GeneratorConfig, day: dt.date) -> int:
    if day < cfg.opening_date:
        return 0
    expected = m.NEW_USER_SHARE * expected_sessions(cfg, day_shape(day, cfg.opening_date, cfg.market))
    return int(stream(cfg, day, STREAM_SIGNUPS).poisson(expected))


def expected_sessions(cfg: GeneratorConfig, shape: DayShape) -> float:
    return cfg.volumes.sessions_per_day * shape.traffic_multiplier


@functools.lru_cache(maxsize=4096)
def users_before(cfg: GeneratorConfig, day: dt.date) -> int:
    """How many users signed up before `day` (so day D's new users get ids users_before(D) + 1 ...)."""
    if day <= cfg.opening_date:
        return 0
    previous = day - dt.timedelta(days=1)
    return users_before(cfg, previous) + signups_on(cfg, previous)


def warm_user_counts(cfg: GeneratorConfig, day: dt.date) -> None:
    """Fill the signup caches in calendar order (keeps the recursion in `users_before` shallow)."""
    d = cfg.opening_date
    while d <= day:
        users_before(cfg, d)
        d += dt.timedelta(days=1)


def cohorts_before(cfg: GeneratorConfig, day: dt.date) -> Cohorts:
    """The signup cohorts before `day` (one per day since the opening), with their age on `day`."""
    days = [cfg.opening_date + dt.timedelta(days=i) for i in range(max((day - cfg.opening_date).days, 0))]
    return Cohorts(
        ordinal=np.array([d.toordinal() for d in days], dtype=np.int64),
        size=np.array([signups_on(cfg, d) for d in days], dtype=np.int64),
        offset=np.array([users_before(cfg, d) for d in days], dtype=np.int64),
        age=np.array([(day - d).days for d in days], dtype=np.int64),
    )


def visit_multiplier(shape: DayShape) -> float:
    """How busy the day is for customers who already signed up: the calendar without the shop's growth."""
    return shape.traffic_multiplier / shape.growth


# --------------------------------------------------------------------------------------------------------
# The session plan: cheap, so other days can re-derive it.


@dataclass(frozen=True)
class SessionPlan:
    day: dt.date
    shape: DayShape
    session_type: np.ndarray  # int8 index into SESSION_TYPES
    channel: np.ndarray  # int8 index into CHANNELS
    device: np.ndarray  # int8 index into DEVICES
    user_id: np.ndarray  # 0 for anonymous visitors
    propensity: np.ndarray  # the user's purchase propensity (1 for anonymous visitors)
    spend_level: np.ndarray  # the user's spend level (1 for anonymous visitors)
    intent: np.ndarray  # int8 index into CATEGORIES: the category the session shops
    stage: np.ndarray  # furthest stage reached, STAGE_*
    probabilities: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    expected_sessions: float  # the Poisson mean of the day's sessions: anonymous + new + returning
    users_before: int
    expected_returning: float  # the Poisson mean of the returning visits: the alive customers' visit rates
    expected_anonymous: float
    expected_new: float

    @property
    def n(self) -> int:
        return len(self.stage)

    @property
    def n_orders(self) -> int:
        return int((self.stage == STAGE_PURCHASE).sum())

    @property
    def n_new_users(self) -> int:
        return int((self.session_type == 1).sum())


# A large day's plan holds tens of MB: keep only the few a worker is using. The late status changes of a day
# need only the small `order_summary` of the 30 days before it, which has its own, longer cache.
@functools.lru_cache(maxsize=2)
def session_plan(cfg: GeneratorConfig, day: dt.date) -> SessionPlan:
    warm_user_counts(cfg, day)
    shape = day_shape(day, cfg.opening_date, cfg.market)
    rng = stream(cfg, day, STREAM_PLAN)
    calendar = expected_sessions(cfg, shape)
    known = users_before(cfg, day)
    cohorts = cohorts_before(cfg, day)
    alive, mass = returning_mass(cfg.seed, cohorts)
    multiplier = visit_multiplier(shape)
    expected_returning = multiplier * float(mass.sum())
    expected_new = m.NEW_USER_SHARE * calendar
    expected_anonymous = max(calendar - expected_new - expected_returning, m.ANONYMOUS_FLOOR_SHARE * calendar)
    n_anon = int(rng.poisson(expected_anonymous))
    n_new = signups_on(cfg, day)
    returning_ids = sample_returning(
        cfg.seed, stream(cfg, day, STREAM_ASSIGN), cohorts, alive, mass, multiplier
    )
    n_ret = len(returning_ids)
    n = n_anon + n_new + n_ret
    # shuffled: session ids say nothing about the visitor (they are not in time order either, see localtime.py)
    session_type = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_anon, n_new, n_ret])
    user_id = np.concatenate(
        [np.zeros(n_anon, dtype=np.int64), known + 1 + np.arange(n_new, dtype=np.int64), returning_ids]
    )
    shuffle = rng.permutation(n)
    session_type, user_id = session_type[shuffle], user_id[shuffle]
    user_id[session_type == 1] = known + 1 + np.arange(n_new, dtype=np.int64)  # ids in signup (plan) order

    returning = session_type == 2
    channel = np.where(
        returning,
        rng.choice(len(m.CHANNELS), size=n, p=m.CHANNEL_MIX_RETURNING),
        rng.choice(len(m.CHANNELS), size=n, p=m.CHANNEL_MIX_NEW),
    ).astype(np.int8)
    device = rng.choice(len(m.DEVICES), size=n, p=m.DEVICE_MIX).astype(np.int8)
    names = tuple(c[1] for c in m.CATEGORIES)
    season = category_seasonality(day, names, cfg.market)  # outdoor in summer, gifts before the holidays
    intent_cum = np.array(
        [
            [
                np.cumsum(m.intent_weights(d, c) * season) / (m.intent_weights(d, c) @ season)
                for c in range(len(m.CHANNELS))
            ]
            for d in range(len(m.DEVICES))
        ]
    )
    # the intent is the number of the (device, channel) row's cumulative shares at or below a uniform draw
    u, row = rng.random(n), device.astype(np.intp) * len(m.CHANNELS) + channel
    cum = intent_cum.reshape(len(m.DEVICES) * len(m.CHANNELS), -1)
    intent = np.zeros(n, dtype=np.int8)
    for j in range(cum.shape[1] - 1):
        intent += u >= cum[:, j][row]

    # Start times come later, from each session's time zone (generator/localtime.py): sessions stay in plan order.
    signed_in = user_id > 0
    propensity = np.ones(n)
    propensity[signed_in] = customer_propensity(cfg.seed, user_id[signed_in])
    spend = np.ones(n)
    spend[signed_in] = spend_level(cfg.seed, user_id[signed_in])

    probs = m.stage_probabilities(
        channel, device, session_type, propensity, intent, shape.conversion_multiplier
    )
    session_ids = day_key(day) * SESSION_ID_STRIDE + 1 + np.arange(n, dtype=np.int64)
    checkout = probs[2] * experiments.checkout_multiplier(cfg.seed, day, session_ids, user_id)  # A/B effects
    probs = (probs[0], probs[1], checkout, probs[3])
    draws = rng.random((4, n))
    stage = np.zeros(n, dtype=np.int8)
    alive = np.ones(n, dtype=bool)
    for k, p in enumerate(probs):
        alive &= draws[k] < p
        stage[alive] = k + 1
    return SessionPlan(
        day,
        shape,
        session_type,
        channel,
        device,
        user_id,
        propensity,
        spend,
        intent,
        stage,
        probs,
        expected_anonymous + expected_new + expected_returning,
        known,
        expected_returning,
        expected_anonymous,
        expected_new,
    )


@functools.lru_cache(maxsize=2 * m.LATE_CHANGE_HORIZON_DAYS + 4)
def order_summary(cfg: GeneratorConfig, day: dt.date) -> np.ndarray:
    """The intent category of each order placed on `day`, in order-id order (its length is the order count).

    An order's first line is always a product of its session's intent category, so this is the category of
    the order's first line: what its return probability depends on.
    """
    plan = session_plan(cfg, day)
    summary = plan.intent[plan.stage == STAGE_PURCHASE].copy()
    summary.flags.writeable = False
    return summary
