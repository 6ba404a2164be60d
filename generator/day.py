"""One day of the shop: a pure function of (seed, config, day).

The day is built in stages, each with its own random stream derived with `SeedSequence`:

1. the *session plan* (who visits, from which channel and device, how far down the funnel they get) is cheap,
   so the late status changes of day D can re-derive the order ids of the days before D without state;
2. the *events* expand the plan into a clickstream, the *orders* price the carts that were bought;
3. the *users* who signed up and the *catalog* of the day are derived from the calendar alone.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import model as m
from generator.calendar import DayShape, day_shape
from generator.config import GeneratorConfig
from generator.vocab import ADJECTIVES, EMAIL_DOMAINS, vocabulary

STREAM_SIGNUPS, STREAM_PLAN, STREAM_ASSIGN, STREAM_EVENTS, STREAM_ORDERS, STREAM_USERS, STREAM_CATALOG = (
    range(1, 8)
)
SALT_PERSONA, SALT_CANCEL, SALT_RETURN, SALT_DELAY, SALT_TIME, SALT_PRICE, SALT_RANK = (
    0x5EED_0001,
    0x5EED_0002,
    0x5EED_0003,
    0x5EED_0004,
    0x5EED_0005,
    0x5EED_0006,
    0x5EED_0007,
)
SECONDS_PER_DAY = 86_400
US_PER_SECOND = 1_000_000
CATALOG_BLOCK = 1024
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "remove_from_cart", "checkout", "purchase")
PV, PRODUCT_VIEW, ADD, REMOVE, CHECKOUT, PURCHASE = range(6)
STAGE_BOUNCE, STAGE_VIEW, STAGE_CART, STAGE_CHECKOUT, STAGE_PURCHASE = range(5)

# Id spaces: ids are unique across days because the day is part of the id (yyyymmdd * stride + n).
SESSION_ID_STRIDE = 10_000_000
EVENT_ID_STRIDE = 100_000_000
ORDER_ID_STRIDE = 1_000_000
ORDER_ITEM_ID_STRIDE = 10_000_000


def day_key(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def stream(cfg: GeneratorConfig, day: dt.date, stream_id: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([cfg.seed, stream_id, day.toordinal()]))


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A stateless 64-bit mixer: per-entity randomness that needs no stream (e.g. an order's fate)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hash_uniform(ids: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A uniform [0, 1) number per id, a pure function of (seed, salt, id)."""
    key = splitmix64(np.asarray(ids, dtype=np.uint64) ^ splitmix64(np.array([seed ^ salt], dtype=np.uint64)))
    return (key >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


# --------------------------------------------------------------------------------------------------------
# Users over the calendar: signup counts per day give dense user ids 1..N without any state.


@functools.cache
def signups_on(cfg: GeneratorConfig, day: dt.date) -> int:
    if day < cfg.opening_date:
        return 0
    expected = m.NEW_USER_SHARE * expected_sessions(cfg, day_shape(day, cfg.opening_date))
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
    start_second: np.ndarray  # planned start, seconds after midnight UTC
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
    shape = day_shape(day, cfg.opening_date)
    rng = stream(cfg, day, STREAM_PLAN)
    expected = expected_sessions(cfg, shape)
    known = users_before(cfg, day)
    n_anon = int(rng.poisson(m.ANONYMOUS_SHARE * expected))
    n_new = signups_on(cfg, day)
    n_ret = int(rng.poisson(min(m.RETURNING_SHARE * expected, m.RETURNING_VISITS_PER_USER_DAY * known)))
    n = n_anon + n_new + n_ret
    session_type = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_anon, n_new, n_ret])

    returning = session_type == 2
    channel = np.where(
        returning,
        rng.choice(len(m.CHANNELS), size=n, p=m.CHANNEL_MIX_RETURNING),
        rng.choice(len(m.CHANNELS), size=n, p=m.CHANNEL_MIX_NEW),
    ).astype(np.int8)
    device = rng.choice(len(m.DEVICES), size=n, p=m.DEVICE_MIX).astype(np.int8)
    persona = np.where(returning, rng.choice(3, size=n, p=m.PERSONA_MIX_VISITS), -1).astype(np.int8)
    intent_cum = np.array(
        [[np.cumsum(m.intent_weights(d, c)) for c in range(len(m.CHANNELS))] for d in range(len(m.DEVICES))]
    )
    row = intent_cum[device, channel]
    intent = (rng.random(n)[:, None] >= row[:, :-1]).sum(axis=1).astype(np.int8)

    from generator.calendar import HOUR_WEIGHTS

    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS)
    start = hour * 3600 + rng.integers(0, 3600, size=n)
    order = np.argsort(start, kind="stable")
    session_type, channel, device, persona, intent, start = (
        a[order] for a in (session_type, channel, device, persona, intent, start)
    )

    probs = m.stage_probabilities(channel, device, session_type, persona, intent, shape.conversion_multiplier)
    draws = rng.random((4, n))
    stage = np.zeros(n, dtype=np.int8)
    alive = np.ones(n, dtype=bool)
    for k, p in enumerate(probs):
        alive &= draws[k] < p
        stage[alive] = k + 1
    return SessionPlan(
        day, shape, session_type, channel, device, persona, intent, start, stage, probs, expected, known
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


# --------------------------------------------------------------------------------------------------------
# The catalog: product attributes are a function of the product id; prices move weekly.


@dataclass(frozen=True)
class Catalog:
    category: np.ndarray  # int index into CATEGORIES
    brand: np.ndarray  # int index into the category's brand pool
    noun: np.ndarray  # int index into the category's nouns
    adjective: np.ndarray
    base_price_cents: np.ndarray
    cost_cents: np.ndarray
    launch_offset_days: np.ndarray  # launch date relative to the opening date
    popularity: np.ndarray


def products_on(cfg: GeneratorConfig, day: dt.date) -> int:
    v = cfg.volumes
    return v.initial_products + int(v.products_per_day * (day - cfg.opening_date).days)


@functools.lru_cache(maxsize=64)
def _catalog_block(cfg: GeneratorConfig, block: int) -> Catalog:
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM_CATALOG, block]))
    n = CATALOG_BLOCK
    ids = np.arange(block * n + 1, (block + 1) * n + 1)
    category = rng.choice(len(m.CATEGORIES), size=n, p=m.CATEGORY_SHARE)
    medians = np.array([c[2] for c in m.CATEGORIES], dtype=float)[category]
    price = medians * np.exp(rng.normal(0.0, m.PRICE_SIGMA, size=n))
    cents = np.where(price >= 5, np.floor(price) * 100 + 99, np.round(price * 100)).astype(np.int64)
    cost = np.round(cents * rng.uniform(*m.MARGIN_RANGE, size=n)).astype(np.int64)
    noun_counts = np.array([len(c[5]) for c in m.CATEGORIES])[category]
    v = cfg.volumes
    launch = np.where(
        ids <= v.initial_products,
        -rng.integers(1, 366, size=n),
        np.ceil((ids - v.initial_products) / v.products_per_day).astype(np.int64),
    )
    # Zipf-like popularity from a hashed rank: a few products sell a lot, most sell a little.
    popularity = 1.0 / (1.0 + hash_uniform(ids, cfg.seed, SALT_RANK) * 200.0) ** 0.9
    return Catalog(
        category=category,
        brand=rng.integers(0, 1 << 30, size=n),
        noun=(rng.random(n) * noun_counts).astype(np.int64),
        adjective=rng.integers(0, 1 << 30, size=n),
        base_price_cents=cents,
        cost_cents=cost,
        launch_offset_days=launch,
        popularity=popularity,
    )


def catalog(cfg: GeneratorConfig, n_products: int) -> Catalog:
    blocks = [_catalog_block(cfg, b) for b in range((n_products + CATALOG_BLOCK - 1) // CATALOG_BLOCK)]
    fields = Catalog.__dataclass_fields__
    return Catalog(**{f: np.concatenate([getattr(b, f) for b in blocks])[:n_products] for f in fields})


def prices_on(cfg: GeneratorConfig, day: dt.date, cat: Catalog) -> np.ndarray:
    """Retail price of every product on `day`, in cents: the launch price moved by a weekly factor."""
    week = (day - cfg.opening_date).days // 7
    ids = np.arange(1, len(cat.base_price_cents) + 1, dtype=np.uint64)
    u = hash_uniform(ids * np.uint64(100_003) + np.uint64(week + 10_000), cfg.seed, SALT_PRICE)
    price = cat.base_price_cents * (1.0 + m.WEEKLY_PRICE_CHANGE * (2.0 * u - 1.0))
    return np.where(price >= 500, np.floor(price / 100) * 100 + 99, np.round(price)).astype(np.int64)


# --------------------------------------------------------------------------------------------------------
# Arrow helpers


def decimal_from_cents(cents: np.ndarray, precision: int = 12) -> pa.Array:
    """Exact decimal(precision, 2) from integer cents, without going through floats."""
    cents = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(
        pa.decimal128(precision, 2), len(cents), [None, pa.py_buffer(words.tobytes())]
    )


def timestamps(day: dt.date, seconds: np.ndarray) -> pa.Array:
    """Naive UTC timestamps (microsecond type) with millisecond precision, like a real clickstream's."""
    ms = np.round((_epoch_seconds(day) + np.asarray(seconds, dtype=np.float64)) * 1000).astype(np.int64)
    return pa.array(ms * (US_PER_SECOND // 1000), pa.timestamp("us"))


def _epoch_seconds(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * SECONDS_PER_DAY


def dictionary(values: tuple[str, ...] | pa.Array, codes: np.ndarray) -> pa.Array:
    """A dictionary-encoded string column. The lake stores it as a plain Parquet string column (the writer
    does not embed the Arrow schema), so every reader sees `string`/`VARCHAR`; skipping the decode to dense
    strings saves a large share of the events' build time. The values must be distinct: Parquet writers do not
    encode a dictionary with repeated values reproducibly."""
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string()))


def nullable_int(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    """int64 array with nulls where `mask` is False."""
    return pa.array(values.astype(np.int64), pa.int64(), mask=~mask)


# --------------------------------------------------------------------------------------------------------
# The day


@dataclass(frozen=True)
class Day:
    tables: dict[str, pa.Table]
    plan: SessionPlan


def generate_day(cfg: GeneratorConfig, day: dt.date) -> Day:
    cfg.check_day(day)
    plan = session_plan(cfg, day)
    order_summary(cfg, day)  # remembered for the late status changes of the days after this one
    n_products = products_on(cfg, day)
    cat = catalog(cfg, n_products)
    prices = prices_on(cfg, day, cat)
    user_ids = assign_users(cfg, plan)
    events, carts = build_events(cfg, plan, cat, user_ids)
    orders, items = build_orders(cfg, plan, carts, prices, user_ids)
    tables = {
        "users": build_users(cfg, plan, carts.start_second),
        "products": build_products(cfg, day, cat, prices),
        "orders": orders,
        "order_items": items,
        "user_events": events,
        "order_status_changes": build_status_changes(cfg, day),
        "answer_key": build_answer_key(cfg, plan),
    }
    return Day(tables=tables, plan=plan)


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
    weights = counts * (0.35 + np.exp(-age / 45.0))
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


@dataclass(frozen=True)
class Carts:
    """What each purchasing session bought: one row per order line, in session order."""

    session: np.ndarray
    product_id: np.ndarray
    quantity: np.ndarray
    purchase_second: np.ndarray  # per session (NaN where no purchase)
    start_second: np.ndarray  # per session: when its first event happened


def build_events(
    cfg: GeneratorConfig, plan: SessionPlan, cat: Catalog, user_ids: np.ndarray
) -> tuple[pa.Table, Carts]:
    rng = stream(cfg, plan.day, STREAM_EVENTS)
    n = plan.n
    stage = plan.stage
    viewed = stage >= STAGE_VIEW
    carted = stage >= STAGE_CART

    n_extra = np.where(viewed, rng.poisson(1.2, size=n), 0)
    n_views = np.where(viewed, rng.geometric(1.0 / m.MEAN_PRODUCT_VIEWS, size=n).clip(1, 20), 0)

    # View rows: one per product view, grouped by session.
    v_session = np.repeat(np.arange(n), n_views)
    v_first = np.concatenate([[0], np.cumsum(n_views)[:-1]]) if n else np.zeros(0, np.int64)
    # The first product a session views is of its intent category, later ones mostly are too.
    has_views = n_views > 0
    first_view = v_first[has_views]
    in_intent = rng.random(len(v_session)) < m.INTENT_VIEW_SHARE
    in_intent[first_view] = True
    v_product_idx = _pick_products(cfg, plan, cat, rng, plan.intent[v_session], in_intent)

    # Cart adds: the first product viewed is added first (an order's first line is of its intent category),
    # further adds are weighted by category affinity; a session adds 1 + Binomial(views - 1).
    n_add = np.where(carted, 1 + rng.binomial(np.maximum(n_views - 1, 0), m.EXTRA_ADD_PROBABILITY), 0)
    affinity = m.CATEGORY_CART[cat.category[v_product_idx]]
    key = rng.random(len(v_session)) ** (1.0 / affinity)  # weighted sampling without replacement
    key[first_view] = 2.0
    order = np.lexsort((-key, v_session))
    rank = np.empty(len(v_session), dtype=np.int64)
    rank[order] = np.arange(len(v_session)) - v_first[v_session[order]]
    v_added = rank < n_add[v_session]
    v_quantity = np.where(v_added, rng.choice([1, 2, 3], size=len(v_session), p=[0.82, 0.14, 0.04]), 0)

    # Removals: a cart with two or more lines may lose one; an abandoned single-line cart may be emptied.
    may_remove = carted & ((n_add >= 2) | (stage == STAGE_CART))
    removes = may_remove & (rng.random(n) < m.REMOVE_PROBABILITY)
    add_rank = np.where(v_added, rank, -1)
    # never the first line of a cart that goes on to be bought, so an order's first line keeps its category
    remove_pick = np.where(n_add >= 2, 1 + (rng.random(n) * (n_add - 1)).astype(np.int64), 0)
    v_removed = v_added & removes[v_session] & (add_rank == remove_pick[v_session])
    n_remove = removes.astype(np.int64)

    checkout = (stage >= STAGE_CHECKOUT).astype(np.int64)
    purchase = (stage == STAGE_PURCHASE).astype(np.int64)

    # Event layout per session: landing page, extra pages, [product_view, add?]..., removes, checkout, purchase.
    v_width = 1 + v_added.astype(np.int64)
    views_width = np.bincount(v_session, weights=v_width, minlength=n).astype(np.int64)
    n_events = 1 + n_extra + views_width + n_remove + checkout + purchase
    s_first = np.concatenate([[0], np.cumsum(n_events)[:-1]]).astype(np.int64)
    total = int(n_events.sum())

    etype = np.full(total, PV, dtype=np.int8)
    esession = np.repeat(np.arange(n), n_events)
    eproduct = np.zeros(total, dtype=np.int64)
    equantity = np.zeros(total, dtype=np.int64)

    # product views and adds
    v_cum = np.cumsum(v_width) - v_width
    v_pos = s_first[v_session] + 1 + n_extra[v_session] + (v_cum - v_cum[v_first[v_session]])
    v_product_id = v_product_idx + 1
    etype[v_pos] = PRODUCT_VIEW
    eproduct[v_pos] = v_product_id
    a_pos = v_pos[v_added] + 1
    etype[a_pos] = ADD
    eproduct[a_pos] = v_product_id[v_added]
    equantity[a_pos] = v_quantity[v_added]
    # removals, checkout, purchase
    tail = s_first + 1 + n_extra + views_width
    r_sessions = np.flatnonzero(removes)
    r_view = np.flatnonzero(v_removed)
    r_pos = tail[v_session[r_view]]
    etype[r_pos] = REMOVE
    eproduct[r_pos] = v_product_id[r_view]
    equantity[r_pos] = v_quantity[r_view]
    c_pos = tail + n_remove
    etype[c_pos[checkout == 1]] = CHECKOUT
    p_pos = c_pos + checkout
    etype[p_pos[purchase == 1]] = PURCHASE
    assert len(r_sessions) == len(r_view)

    # Times: exponential gaps; the session is shifted so that it ends before midnight.
    gaps = rng.exponential(m.MEAN_EVENT_GAP_SECONDS, size=total) + 2.0
    gaps[s_first] = 0.0
    offset = np.cumsum(gaps)
    offset -= offset[s_first][esession]
    duration = offset[s_first + n_events - 1]
    start = np.minimum(plan.start_second + rng.random(n), SECONDS_PER_DAY - 1 - duration).clip(0)
    seconds = start[esession] + offset

    # Orders: numbered in session order; the purchase event carries the order id.
    order_number = np.cumsum(purchase) * purchase
    key = day_key(plan.day)
    eorder = np.zeros(total, dtype=np.int64)
    purchase_pos = p_pos[purchase == 1]
    eorder[purchase_pos] = key * ORDER_ID_STRIDE + order_number[purchase == 1]

    sequence = np.arange(total) - s_first[esession] + 1
    is_product = eproduct > 0
    page = _pages(rng, plan, etype, eproduct, plan.intent[esession], len(cat.category))
    euser = user_ids[esession]
    session_ids = key * SESSION_ID_STRIDE + 1 + np.arange(n, dtype=np.int64)

    events = pa.table(
        {
            "event_id": pa.array(key * EVENT_ID_STRIDE + 1 + np.arange(total, dtype=np.int64)),
            "session_id": pa.array(session_ids[esession]),
            "user_id": nullable_int(euser, euser > 0),
            "event_type": dictionary(EVENT_TYPES, etype),
            "product_id": nullable_int(eproduct, is_product),
            "quantity": pa.array(equantity.astype(np.int32), pa.int32(), mask=equantity == 0),
            "order_id": nullable_int(eorder, eorder > 0),
            "event_at": timestamps(plan.day, seconds),
            "sequence_number": pa.array(sequence.astype(np.int32)),
            "device": dictionary(m.DEVICES, plan.device[esession]),
            "traffic_source": dictionary(m.CHANNELS, plan.channel[esession]),
            "page": page,
        }
    )
    kept = v_added & ~v_removed & (stage[v_session] == STAGE_PURCHASE)
    purchase_second = np.full(n, np.nan)
    purchase_second[purchase == 1] = seconds[purchase_pos]
    carts = Carts(v_session[kept], v_product_id[kept], v_quantity[kept], purchase_second, start)
    return events, carts


def _pick_products(
    cfg: GeneratorConfig,
    plan: SessionPlan,
    cat: Catalog,
    rng: np.random.Generator,
    category: np.ndarray,
    in_category: np.ndarray,
) -> np.ndarray:
    """Product index per view, by popularity among the products on sale: within `category` where
    `in_category`, else across the whole catalog (one searchsorted over per-category cumulative weights)."""
    available = cat.launch_offset_days <= (plan.day - cfg.opening_date).days
    by_category = np.argsort(cat.category, kind="stable")
    weight = np.where(available, cat.popularity, 0.0)[by_category]
    cum = np.cumsum(weight)
    bounds = np.searchsorted(cat.category[by_category], np.arange(len(m.CATEGORIES) + 1), side="left")
    cum0 = np.concatenate([[0.0], cum])
    lo_cat, hi_cat = cum0[bounds[:-1]], cum0[bounds[1:]]
    usable = in_category & (hi_cat[category] > lo_cat[category])  # a category with nothing on sale: any
    lo = np.where(usable, lo_cat[category], 0.0)
    hi = np.where(usable, hi_cat[category], cum[-1])
    u = np.minimum(lo + rng.random(len(category)) * (hi - lo), np.nextafter(hi, lo))
    return by_category[np.searchsorted(cum, u, side="right").clip(0, len(cum) - 1)]


def _pages(rng, plan: SessionPlan, etype, eproduct, eintent, n_products: int) -> pa.Array:
    """The page of each event: a product page, the cart or checkout, else a landing page that is often the
    category the session shops (one dictionary over every page of the day, indexed with numpy)."""
    slugs = tuple(f"/category/{c[1].lower()}" for c in m.CATEGORIES)
    landing = ("/", "/search", "/deals", *slugs)
    if plan.shape.sale:
        landing = (*landing, f"/promo/{plan.shape.sale.name.replace('_', '-')}")
    other = (*landing, "/cart", "/checkout", "/checkout/confirmation")
    code = rng.integers(0, len(landing), size=len(etype))
    code = np.where(rng.random(len(etype)) < m.INTENT_LANDING_SHARE, 3 + eintent, code)
    code = np.where(etype == REMOVE, len(landing), code)
    code = np.where(etype == CHECKOUT, len(landing) + 1, code)
    code = np.where(etype == PURCHASE, len(landing) + 2, code)
    code = np.where(eproduct > 0, len(other) - 1 + eproduct, code)
    product_pages = pc.binary_join_element_wise(
        "/product/", pc.cast(pa.array(np.arange(1, n_products + 1)), pa.string()), ""
    )
    return dictionary(pa.concat_arrays([pa.array(other, pa.string()), product_pages]), code)


def build_orders(
    cfg: GeneratorConfig, plan: SessionPlan, carts: Carts, prices: np.ndarray, user_ids: np.ndarray
) -> tuple[pa.Table, pa.Table]:
    rng = stream(cfg, plan.day, STREAM_ORDERS)
    key = day_key(plan.day)
    buyers = np.flatnonzero(plan.stage == STAGE_PURCHASE)
    n_orders = len(buyers)
    order_index = np.full(plan.n, -1, dtype=np.int64)
    order_index[buyers] = np.arange(n_orders)
    order_ids = key * ORDER_ID_STRIDE + 1 + np.arange(n_orders, dtype=np.int64)

    line_order = order_index[carts.session]
    unit = prices[carts.product_id - 1]
    line_total = unit * carts.quantity
    subtotal = np.bincount(line_order, weights=line_total, minlength=n_orders).astype(np.int64)
    if plan.shape.sale:
        rate = np.full(n_orders, plan.shape.discount_rate)
    else:
        rate = np.where(rng.random(n_orders) < m.COUPON_SHARE, m.COUPON_RATE, 0.0)
    discount = np.round(subtotal * rate).astype(np.int64)
    shipping = rng.choice(len(m.SHIPPING_METHODS), size=n_orders, p=m.SHIPPING_MIX)
    ship_cost = np.array([m.SHIPPING_COST_CENTS[s] for s in m.SHIPPING_METHODS])[shipping]
    ship_cost = np.where(subtotal - discount >= m.FREE_SHIPPING_FROM_CENTS, 0, ship_cost)
    items_per_order = np.bincount(line_order, weights=carts.quantity, minlength=n_orders).astype(np.int32)

    orders = pa.table(
        {
            "order_id": pa.array(order_ids),
            "user_id": pa.array(user_ids[buyers]),
            "session_id": pa.array(key * SESSION_ID_STRIDE + 1 + buyers.astype(np.int64)),
            "status": dictionary(("placed",), np.zeros(n_orders, dtype=np.int32)),
            "payment_method": dictionary(
                m.PAYMENT_METHODS, rng.choice(len(m.PAYMENT_METHODS), size=n_orders, p=m.PAYMENT_MIX)
            ),
            "shipping_method": dictionary(m.SHIPPING_METHODS, shipping),
            "item_count": pa.array(items_per_order),
            "subtotal_amount": decimal_from_cents(subtotal),
            "discount_amount": decimal_from_cents(discount),
            "order_total": decimal_from_cents(subtotal - discount),
            "shipping_cost": decimal_from_cents(ship_cost),
            "created_at": timestamps(plan.day, carts.purchase_second[buyers]),
        }
    )
    items = pa.table(
        {
            "order_item_id": pa.array(
                key * ORDER_ITEM_ID_STRIDE + 1 + np.arange(len(line_order), dtype=np.int64)
            ),
            "order_id": pa.array(order_ids[line_order]),
            "product_id": pa.array(carts.product_id.astype(np.int64)),
            "quantity": pa.array(carts.quantity.astype(np.int32)),
            "unit_price": decimal_from_cents(unit),
            "line_total": decimal_from_cents(line_total),
        }
    )
    return orders, items


def order_fates(
    cfg: GeneratorConfig, order_ids: np.ndarray, category: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(status code, delay in days) per order: 0 kept, 1 cancelled, 2 returned.

    A function of the order id and the category of its first line (`order_summary`), so any later day can
    re-derive it without state.
    """
    u_cancel = hash_uniform(order_ids, cfg.seed, SALT_CANCEL)
    u_return = hash_uniform(order_ids, cfg.seed, SALT_RETURN)
    u_delay = hash_uniform(order_ids, cfg.seed, SALT_DELAY)
    cancelled = u_cancel < m.CANCEL_PROBABILITY
    returned = ~cancelled & (u_return < m.CATEGORY_RETURN[category])
    lo_c, hi_c = m.CANCEL_DELAY_DAYS
    lo_r, hi_r = m.RETURN_DELAY_DAYS
    delay = np.where(
        cancelled,
        lo_c + (u_delay * (hi_c - lo_c + 1)).astype(np.int64),
        lo_r + (u_delay * (hi_r - lo_r + 1)).astype(np.int64),
    )
    status = np.where(cancelled, 1, np.where(returned, 2, 0))
    return status, delay


def build_status_changes(cfg: GeneratorConfig, day: dt.date) -> pa.Table:
    """Cancellations and returns that happen on `day`, for orders placed on earlier days."""
    ids, categories, backs = [], [], []
    for back in range(1, m.LATE_CHANGE_HORIZON_DAYS + 1):
        placed = day - dt.timedelta(days=back)
        if placed < cfg.opening_date:
            break
        category = order_summary(cfg, placed)
        ids.append(day_key(placed) * ORDER_ID_STRIDE + 1 + np.arange(len(category), dtype=np.int64))
        categories.append(category)
        backs.append(np.full(len(category), back, dtype=np.int64))
    if ids:  # one vectorized pass over the orders of the whole look-back
        order_ids, category, back = (np.concatenate(a) for a in (ids, categories, backs))
    else:
        order_ids, category, back = np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, np.int64)
    status, delay = order_fates(cfg, order_ids, category)
    hit = (status > 0) & (delay == back)
    order_ids, status = order_ids[hit], status[hit]
    order = np.argsort(order_ids, kind="stable")
    order_ids, status = order_ids[order], status[order]
    second = 8 * 3600 + hash_uniform(order_ids, cfg.seed, SALT_TIME) * 14 * 3600
    return pa.table(
        {
            "order_id": pa.array(order_ids),
            "status": dictionary(("placed", "cancelled", "returned"), status),
            "changed_at": timestamps(day, np.floor(second)),
        }
    )


def build_users(cfg: GeneratorConfig, plan: SessionPlan, session_start: np.ndarray) -> pa.Table:
    """The users who signed up on the plan's day: every column is an index draw into a Faker-built pool."""
    rng = stream(cfg, plan.day, STREAM_USERS)
    vocab = vocabulary(cfg.seed, cfg.locale)
    new = np.flatnonzero(plan.session_type == 1)
    n = len(new)
    ids = plan.users_before + 1 + np.arange(n, dtype=np.int64)
    gender = rng.choice(3, size=n, p=[0.49, 0.49, 0.02])
    female_pick = vocab.female[rng.integers(0, len(vocab.female), size=n)]
    male_pick = vocab.male[rng.integers(0, len(vocab.male), size=n)]
    use_female = (gender == 0) | ((gender == 2) & (rng.random(n) < 0.5))
    first_pick = np.where(use_female, female_pick, male_pick)
    last_pick = rng.integers(0, len(vocab.last_names), size=n)
    # first.last<user id>@domain: the id keeps every address unique
    domain = pa.array(EMAIL_DOMAINS, pa.string()).take(rng.integers(0, len(EMAIL_DOMAINS), size=n))
    last_id = pc.binary_join_element_wise(
        vocab.last_email.take(last_pick), pc.cast(pa.array(ids), pa.string()), ""
    )
    local = pc.binary_join_element_wise(vocab.first_email.take(first_pick), last_id, ".")
    email = pc.binary_join_element_wise(local, domain, "@")
    age_years = np.clip(rng.gamma(6.0, 6.0, size=n) + 16, 18, 85)
    birth_days = (plan.day - dt.date(1970, 1, 1)).days - np.round(age_years * 365.25).astype(np.int64)
    place = rng.integers(0, vocab.n_places, size=n)
    signup_second = np.floor(session_start[new])  # they sign up as the session lands
    return pa.table(
        {
            "user_id": pa.array(ids),
            "first_name": dictionary(vocab.first_names, first_pick),
            "last_name": dictionary(vocab.last_names, last_pick),
            "email": email,
            "gender": dictionary(("female", "male", "nonbinary"), gender),
            "birth_date": pa.array(birth_days.astype(np.int32), pa.date32()),
            "city": dictionary(vocab.cities.values, vocab.cities.codes[place]),
            "region": dictionary(vocab.regions.values, vocab.regions.codes[place]),
            "country": dictionary(vocab.countries.values, vocab.countries.codes[place]),
            "latitude": pa.array(np.round(vocab.latitudes[place], 4)),
            "longitude": pa.array(np.round(vocab.longitudes[place], 4)),
            "device": dictionary(m.DEVICES, plan.device[new]),
            "acquisition_channel": dictionary(m.CHANNELS, plan.channel[new]),
            "signup_at": timestamps(plan.day, signup_second),
        }
    )


def build_products(cfg: GeneratorConfig, day: dt.date, cat: Catalog, prices: np.ndarray) -> pa.Table:
    vocab = vocabulary(cfg.seed, cfg.locale)
    available = np.flatnonzero(cat.launch_offset_days <= (day - cfg.opening_date).days)
    c = cat.category[available]
    brand = vocab.brands.take(vocab.brand_offset[c] + cat.brand[available] % vocab.brand_count[c])
    nouns = pa.array([noun for x in m.CATEGORIES for noun in x[5]], pa.string())
    noun_offset = np.cumsum([0] + [len(x[5]) for x in m.CATEGORIES])[:-1]
    adjective = pa.array(ADJECTIVES, pa.string()).take(cat.adjective[available] % len(ADJECTIVES))
    name = pc.binary_join_element_wise(
        brand, adjective, nouns.take(noun_offset[c] + cat.noun[available]), " "
    )
    launch = (cfg.opening_date - dt.date(1970, 1, 1)).days + cat.launch_offset_days[available]
    return pa.table(
        {
            "product_id": pa.array(available.astype(np.int64) + 1),
            "product_name": name,
            "brand": brand,
            "category": dictionary(tuple(x[1] for x in m.CATEGORIES), c),
            "department": dictionary(m.DEPARTMENTS, m.CATEGORY_DEPARTMENT[c]),
            "cost": decimal_from_cents(cat.cost_cents[available]),
            "retail_price": decimal_from_cents(prices[available]),
            "launch_date": pa.array(launch.astype(np.int32), pa.date32()),
        }
    )


def build_answer_key(cfg: GeneratorConfig, plan: SessionPlan) -> pa.Table:
    """The true parameters of the day, per channel and device (see docs in generator/README.md)."""
    p_view, p_cart, p_checkout, p_purchase = plan.probabilities
    reach_view = p_view
    reach_cart = reach_view * p_cart
    reach_checkout = reach_cart * p_checkout
    reach_purchase = reach_checkout * p_purchase
    shape = plan.shape
    rows: dict[str, list] = {k: [] for k in (
        "channel", "device", "sessions", "expected_view_rate", "expected_cart_rate",
        "expected_checkout_rate", "expected_purchase_rate", "expected_conversion_rate",
    )}  # fmt: skip
    # added later, so they go after the day-level columns (older readers select the first ones by position)
    late: dict[str, list] = {"expected_orders": [], "expected_cancel_rate": [], "expected_return_rate": []}
    return_given_order = (1.0 - m.CANCEL_PROBABILITY) * m.CATEGORY_RETURN[plan.intent]
    for ci, channel in enumerate(m.CHANNELS):
        for di, device in enumerate(m.DEVICES):
            sel = (plan.channel == ci) & (plan.device == di)
            s = int(sel.sum())
            rows["channel"].append(channel)
            rows["device"].append(device)
            rows["sessions"].append(s)
            sums = [float(x[sel].sum()) for x in (reach_view, reach_cart, reach_checkout, reach_purchase)]
            prev = [float(s), *sums[:-1]]
            rates = [a / b if b > 0 else None for a, b in zip(sums, prev, strict=True)]
            for name, rate in zip(("view", "cart", "checkout", "purchase"), rates, strict=True):
                rows[f"expected_{name}_rate"].append(rate)
            rows["expected_conversion_rate"].append(sums[3] / s if s else None)
            late["expected_orders"].append(sums[3])
            late["expected_cancel_rate"].append(m.CANCEL_PROBABILITY)
            returns = float((reach_purchase[sel] * return_given_order[sel]).sum())
            late["expected_return_rate"].append(returns / sums[3] if sums[3] > 0 else None)
    n = len(rows["channel"])
    table = pa.table(rows)
    day_columns = {
        "seasonality": shape.seasonality,
        "growth": shape.growth,
        "weekday_multiplier": shape.weekday,
        "traffic_multiplier": shape.traffic_multiplier,
        "conversion_multiplier": shape.conversion_multiplier,
        "discount_rate": shape.discount_rate,
        "expected_sessions": plan.expected_sessions,
        "expected_new_users": m.NEW_USER_SHARE * plan.expected_sessions,
    }
    for name, value in day_columns.items():
        table = table.append_column(name, pa.array([float(value)] * n))
    table = table.append_column("is_sale_day", pa.array([shape.sale is not None] * n))
    table = table.append_column(
        "sale_name", pa.array([shape.sale.name if shape.sale else None] * n, pa.string())
    )
    table = table.append_column("promo_period", pa.array([shape.promo_period] * n))
    table = table.append_column("injected_faults", pa.array([",".join(cfg.inject)] * n))
    for name, values in late.items():
        table = table.append_column(name, pa.array(values, pa.float64()))
    return table
