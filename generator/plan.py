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

from generator import experiments
from generator import model as m
from generator.calendar import DayShape, category_seasonality, day_shape
from generator.config import GeneratorConfig
from generator.streams import (
    SALT_PERSONA,
    SESSION_ID_STRIDE,
    STREAM_ASSIGN,
    STREAM_PLAN,
    STREAM_SIGNUPS,
    day_key,
    hash_uniform,
    stream,
)

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


def persona_of(cfg: GeneratorConfig, user_ids: np.ndarray) -> np.ndarray:
    u = hash_uniform(user_ids, cfg.seed, SALT_PERSONA)
    return np.searchsorted(np.cumsum(m.PERSONA_MIX_USERS), u, side="right").clip(0, 2).astype(np.int8)


# --------------------------------------------------------------------------------------------------------
# The session plan: cheap, so other days can re-derive it.


@dataclass(frozen=True)
class SessionPlan:
    day: dt.date
    shape: DayShape
    session_type: np.ndarray  # int8 index into SESSION_TYPES
    channel: np.ndarray  # int8 index into CHANNELS
    device: np.ndarray  # int8 index into DEVICES
    persona: np.ndarray  # int8 index into PERSONAS, -1 for anonymous and signing-up visitors
    intent: np.ndarray  # int8 index into CATEGORIES: the category the session shops
    stage: np.ndarray  # furthest stage reached, STAGE_*
    probabilities: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    expected_sessions: float
    users_before: int

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
    expected = expected_sessions(cfg, shape)
    known = users_before(cfg, day)
    n_anon = int(rng.poisson(m.ANONYMOUS_SHARE * expected))
    n_new = signups_on(cfg, day)
    n_ret = int(rng.poisson(min(m.RETURNING_SHARE * expected, m.RETURNING_VISITS_PER_USER_DAY * known)))
    n = n_anon + n_new + n_ret
    # shuffled: session ids say nothing about the visitor (they are not in time order either, see localtime.py)
    session_type = rng.permutation(np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_anon, n_new, n_ret]))

    returning = session_type == 2
    channel = np.where(
        returning,
        rng.choice(len(m.CHANNELS), size=n, p=m.CHANNEL_MIX_RETURNING),
        rng.choice(len(m.CHANNELS), size=n, p=m.CHANNEL_MIX_NEW),
    ).astype(np.int8)
    device = rng.choice(len(m.DEVICES), size=n, p=m.DEVICE_MIX).astype(np.int8)
    persona = np.where(returning, rng.choice(3, size=n, p=m.PERSONA_MIX_VISITS), -1).astype(np.int8)
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
    row = intent_cum[device, channel]
    intent = (rng.random(n)[:, None] >= row[:, :-1]).sum(axis=1).astype(np.int8)

    # Start times come later, from each session's time zone (generator/localtime.py): sessions stay in plan order.
    probs = m.stage_probabilities(channel, device, session_type, persona, intent, shape.conversion_multiplier)
    session_ids = day_key(day) * SESSION_ID_STRIDE + 1 + np.arange(n, dtype=np.int64)
    checkout = probs[2] * experiments.checkout_multiplier(cfg.seed, day, session_ids)  # A/B tests' effects
    probs = (probs[0], probs[1], checkout, probs[3])
    draws = rng.random((4, n))
    stage = np.zeros(n, dtype=np.int8)
    alive = np.ones(n, dtype=bool)
    for k, p in enumerate(probs):
        alive &= draws[k] < p
        stage[alive] = k + 1
    return SessionPlan(
        day, shape, session_type, channel, device, persona, intent, stage, probs, expected, known
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


def assign_users(cfg: GeneratorConfig, plan: SessionPlan) -> np.ndarray:
    """User id per session (0 for anonymous): new users get fresh ids, returning ones earlier ids."""
    rng = stream(cfg, plan.day, STREAM_ASSIGN)
    user_ids = np.zeros(plan.n, dtype=np.int64)
    new = plan.session_type == 1
    user_ids[new] = plan.users_before + np.arange(1, int(new.sum()) + 1)

    returning = np.flatnonzero(plan.session_type == 2)
    if len(returning) == 0:
        return user_ids
    days = (plan.day - cfg.opening_date).days
    day_list = [cfg.opening_date + dt.timedelta(days=i) for i in range(days)]
    counts = np.array([signups_on(cfg, d) for d in day_list], dtype=np.int64)
    offsets = np.array([users_before(cfg, d) for d in day_list], dtype=np.int64)
    age = days - np.arange(days)
    # Recent signups come back more often; older users keep a floor of activity.
    weights = counts * (m.RETURNING_FLOOR + np.exp(-age / m.RETURNING_DECAY_DAYS))
    weights = weights / weights.sum()
    wanted = plan.persona[returning]
    todo = np.arange(len(returning))
    for _ in range(64):
        k = max(len(todo) * 4, 64)
        d = rng.choice(days, size=k, p=weights)
        cand = offsets[d] + 1 + (rng.random(k) * counts[d]).astype(np.int64)
        cand_persona = persona_of(cfg, cand)
        for p in range(3):
            need = todo[wanted[todo] == p]
            have = cand[cand_persona == p]
            take = min(len(need), len(have))
            user_ids[returning[need[:take]]] = have[:take]
        todo = todo[user_ids[returning[todo]] == 0]
        if len(todo) == 0:
            break
    if len(todo):  # a persona with no users yet: fall back to any earlier user
        user_ids[returning[todo]] = 1 + (rng.random(len(todo)) * plan.users_before).astype(np.int64)
    return user_ids
