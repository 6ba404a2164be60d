"""The clickstream of a day: the session plan expanded into events, and the carts that were bought."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import model as m
from generator.arrow import SECONDS_PER_DAY, dictionary, nullable_int, timestamps
from generator.catalog import Catalog
from generator.config import GeneratorConfig
from generator.plan import STAGE_CART, STAGE_CHECKOUT, STAGE_PURCHASE, STAGE_VIEW, SessionPlan
from generator.streams import (
    EVENT_ID_STRIDE,
    ORDER_ID_STRIDE,
    SESSION_ID_STRIDE,
    STREAM_EVENTS,
    day_key,
    stream,
)

EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "remove_from_cart", "checkout", "purchase")
PV, PRODUCT_VIEW, ADD, REMOVE, CHECKOUT, PURCHASE = range(6)


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

    n_extra = np.where(viewed, rng.poisson(m.MEAN_EXTRA_PAGES, size=n), 0)
    n_views = np.where(
        viewed, rng.geometric(1.0 / m.MEAN_PRODUCT_VIEWS, size=n).clip(1, m.MAX_PRODUCT_VIEWS), 0
    )

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
    v_quantity = np.where(v_added, rng.choice(m.QUANTITIES, size=len(v_session), p=m.QUANTITY_MIX), 0)

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
    gaps = rng.exponential(m.MEAN_EVENT_GAP_SECONDS, size=total) + m.MIN_EVENT_GAP_SECONDS
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
