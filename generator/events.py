"""The clickstream of a day: the session plan expanded into events, and the carts that were bought."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import behaviour as m
from generator import experiments
from generator import preferences as pf
from generator.arrow import SECONDS_PER_DAY, array, dictionary, nullable_int, string_scalar, timestamps
from generator.catalog import Catalog
from generator.config import GeneratorConfig
from generator.places import coded, market_places
from generator.plan import STAGE_CART, STAGE_CHECKOUT, STAGE_PURCHASE, STAGE_VIEW, SessionPlan
from generator.streams import (
    EVENT_ID_STRIDE,
    ORDER_ID_STRIDE,
    SESSION_ID_STRIDE,
    STREAM_EVENTS,
    day_key,
    stream,
)

EVENT_TYPES = (
    "page_view", "product_view", "add_to_cart", "remove_from_cart", "checkout", "purchase", "click", "scroll",
)  # fmt: skip
PV, PRODUCT_VIEW, ADD, REMOVE, CHECKOUT, PURCHASE, CLICK, SCROLL = range(8)
# Like real trackers, the tile click that opens a product page and the scrolls on a product page carry no
# product id (the click's target is only known from the product view that follows it, a scroll's from its
# page); their true product is in the `event_truth` table.
CLICK_SHARE = 0.15  # product views reached through a tracked tile click on the page before
SCROLL_SHARE = 0.1  # product views followed by a tracked scroll of the product page
# The referrer of a session's landing page, by traffic source (email clients and typed URLs send none).
EXTERNAL_REFERRERS = {
    "organic_search": "https://www.google.com/",
    "paid_search": "https://www.google.com/",
    "social": "https://www.instagram.com/",
    "referral": "https://blog.example.org/",
}


@dataclass(frozen=True)
class Carts:
    """What each purchasing session bought: one row per order line, in session order."""

    session: np.ndarray
    product_id: np.ndarray
    quantity: np.ndarray
    purchase_second: np.ndarray  # per session (NaN where no purchase)
    start_second: np.ndarray  # per session: when its first event happened


@dataclass(frozen=True)
class Clickstream:
    events: pa.Table
    truth: pa.Table  # event_truth: the real product of the events that carry none
    exposures: pa.Table  # experiment_exposures


def build_events(
    cfg: GeneratorConfig,
    plan: SessionPlan,
    cat: Catalog,
    user_ids: np.ndarray,
    place: np.ndarray,
    start_second: np.ndarray,
) -> tuple[Clickstream, Carts]:
    """The day's events; `place` and `start_second` per session come from `localtime.py`."""
    rng = stream(cfg, plan.day, STREAM_EVENTS)
    n = plan.n
    key = day_key(plan.day)
    session_ids = key * SESSION_ID_STRIDE + 1 + np.arange(n, dtype=np.int64)
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
    # Each view follows one component of the shopper's preferences (preferences.py): the base popularity, or
    # their gender's, age band's or region's; anonymous visitors follow the base popularity.
    n_products = len(cat.category)
    model = pf.product_model(cfg, n_products)
    signed_in = user_ids > 0
    gender, band = np.zeros(n, np.int64), np.zeros(n, np.int64)
    gender[signed_in] = pf.user_gender(cfg.seed, user_ids[signed_in])
    band[signed_in] = pf.age_band_of(pf.user_age_years(cfg.seed, user_ids[signed_in]))
    tables = pf.session_tables(cfg.market, gender, band, pf.regions(cfg.market)[1][place])
    component = np.searchsorted(np.cumsum(pf.COMPONENT_SHARE)[:-1], rng.random(len(v_session)), side="right")
    v_table = tables[v_session, np.where(signed_in[v_session], component, 0)]
    weights = pf.day_weights(cfg, n_products, plan.day)
    v_product_idx = _pick_products(
        weights, cat.category, rng, v_table, plan.intent[v_session].astype(np.int64), in_intent
    )

    # Cart adds: the first product viewed is added first (an order's first line is of its intent category),
    # further adds are weighted by category affinity; a session adds 1 + Binomial(views - 1).
    n_add = np.where(carted, 1 + rng.binomial(np.maximum(n_views - 1, 0), m.EXTRA_ADD_PROBABILITY), 0)
    # A view's rank among its session's views by a weighted random key (weighted sampling without replacement);
    # the first view ranks first. Only carts of two or more lines need the order of the other views.
    rank = _add_ranks(rng.random(len(v_session)), n_add, v_session, v_first, cat.category[v_product_idx])
    v_added = rank < n_add[v_session]
    # quantity per line: 1 + Poisson(the user's spend level x rate); in an order-value experiment's treatment
    # the mean is multiplied by (1 + effect) for every user (experiments.py), so the effect on order value is exact
    assignments = experiments.assign(cfg.seed, plan.day, session_ids, user_ids)
    extra_units = plan.spend_level[v_session] * m.EXTRA_UNIT_RATE
    effect = experiments.order_value_effect(assignments)  # empty when no experiment runs that day
    effect = effect[v_session] if len(effect) else np.zeros(len(v_session))
    extra_units = extra_units + effect * (1.0 + extra_units)
    v_quantity = np.where(v_added, 1 + rng.poisson(extra_units), 0)
    v_click = rng.random(len(v_session)) < CLICK_SHARE
    v_scroll = rng.random(len(v_session)) < SCROLL_SHARE

    # Removals: a cart with two or more lines may lose one; an abandoned single-line cart may be emptied.
    may_remove = carted & ((n_add >= 2) | (stage == STAGE_CART))
    removes = may_remove & (rng.random(n) < m.REMOVE_PROBABILITY)
    add_rank = np.where(v_added, rank, -1)
    # never the first line of a cart that goes on to be bought, so an order's first line keeps its category
    remove_pick = np.where(n_add >= 2, 1 + (rng.random(n) * (n_add - 1)).astype(np.int64), 0)
    v_removed = v_added & removes[v_session] & (add_rank == remove_pick[v_session])
    n_remove = removes.astype(np.int64)

    # Complements (preferences.py): a view of an anchor may be followed by a view of its complement, which
    # joins the cart (with its own units) when the anchor stays in it.
    partner = model.partner[v_product_idx]
    companion = np.flatnonzero((partner > 0) & (rng.random(len(v_session)) < pf.COMPANION_VIEW))
    if len(companion):
        joins = v_added[companion] & ~v_removed[companion] & (rng.random(len(companion)) < pf.COMPANION_ADD)
        units = np.where(joins, 1 + rng.poisson(extra_units[companion]), 0)
        after = companion + 1
        v_session = np.insert(v_session, after, v_session[companion])
        v_product_idx = np.insert(v_product_idx, after, partner[companion] - 1)
        v_added = np.insert(v_added, after, joins)
        v_removed = np.insert(v_removed, after, False)
        v_quantity = np.insert(v_quantity, after, units)
        v_click = np.insert(v_click, after, rng.random(len(companion)) < CLICK_SHARE)
        v_scroll = np.insert(v_scroll, after, rng.random(len(companion)) < SCROLL_SHARE)
        n_views = np.bincount(v_session, minlength=n)
        v_first = np.concatenate([[0], np.cumsum(n_views)[:-1]]) if n else np.zeros(0, np.int64)
        first_view = v_first[has_views]

    checkout = (stage >= STAGE_CHECKOUT).astype(np.int64)
    purchase = (stage == STAGE_PURCHASE).astype(np.int64)

    # Event layout per session: landing page, extra pages, [click? product_view scroll? add?]..., removes,
    # checkout, purchase.
    v_width = 1 + v_added.astype(np.int64) + v_click + v_scroll
    views_width = np.bincount(v_session, weights=v_width, minlength=n).astype(np.int64)
    n_events = 1 + n_extra + views_width + n_remove + checkout + purchase
    s_first = np.concatenate([[0], np.cumsum(n_events)[:-1]]).astype(np.int64)
    total = int(n_events.sum())

    etype = np.full(total, PV, dtype=np.int8)
    esession = np.repeat(np.arange(n), n_events)
    eproduct = np.zeros(total, dtype=np.int64)  # the true product of product events (clicks, scrolls too)
    equantity = np.zeros(total, dtype=np.int64)

    # product views and adds
    v_cum = np.cumsum(v_width) - v_width
    v_pos = s_first[v_session] + 1 + n_extra[v_session] + (v_cum - v_cum[v_first[v_session]]) + v_click
    v_product_id = v_product_idx + 1
    etype[v_pos] = PRODUCT_VIEW
    eproduct[v_pos] = v_product_id
    click_pos = v_pos[v_click] - 1
    etype[click_pos] = CLICK
    eproduct[click_pos] = v_product_id[v_click]
    scroll_pos = v_pos[v_scroll] + 1
    etype[scroll_pos] = SCROLL
    eproduct[scroll_pos] = v_product_id[v_scroll]
    a_pos = v_pos[v_added] + 1 + v_scroll[v_added]
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
    start = np.minimum(start_second + rng.random(n), SECONDS_PER_DAY - 1 - duration).clip(0)
    seconds = start[esession] + offset

    # Orders: numbered in session order; the purchase event carries the order id.
    order_number = np.cumsum(purchase) * purchase
    eorder = np.zeros(total, dtype=np.int64)
    purchase_pos = p_pos[purchase == 1]
    eorder[purchase_pos] = key * ORDER_ID_STRIDE + order_number[purchase == 1]

    sequence = np.arange(total) - s_first[esession] + 1
    untagged = (etype == CLICK) | (etype == SCROLL)
    is_product = (eproduct > 0) & ~untagged
    pages, code = _page_codes(rng, plan, etype, eproduct, plan.intent[esession], len(cat.category))
    referrer = _referrers(pages, code, s_first, plan.channel)
    euser = user_ids[esession]
    places = market_places(cfg.market)
    region_values, region_codes = coded(places.region)
    event_at = timestamps(plan.day, seconds)

    events = pa.table(
        {
            "event_id": array(key * EVENT_ID_STRIDE + 1 + np.arange(total, dtype=np.int64)),
            "session_id": array(session_ids[esession]),
            "user_id": nullable_int(euser, euser > 0),
            "event_type": dictionary(EVENT_TYPES, etype),
            "product_id": nullable_int(eproduct, is_product),
            "quantity": array(equantity.astype(np.int32), pa.int32(), mask=equantity == 0),
            "order_id": nullable_int(eorder, eorder > 0),
            "event_at": event_at,
            "sequence_number": array(sequence.astype(np.int32)),
            "device": dictionary(m.DEVICES, plan.device[esession]),
            "traffic_source": dictionary(m.CHANNELS, plan.channel[esession]),
            "page": dictionary(pages, code),
            "referrer": referrer,
            "region": dictionary(region_values, region_codes[place][esession]),
            "time_zone": dictionary(places.zones, places.zone[place][esession]),
        }
    )
    truth_rows = np.flatnonzero(untagged)
    truth = pa.table(
        {
            "event_id": array(key * EVENT_ID_STRIDE + 1 + truth_rows.astype(np.int64)),
            "session_id": array(session_ids[esession[truth_rows]]),
            "event_type": dictionary(EVENT_TYPES, etype[truth_rows]),
            "product_id": array(eproduct[truth_rows]),
        }
    )
    # where each session first saw each experiment surface: landing page, first product page, first cart add
    first_view_pos, first_add_pos = s_first.copy(), s_first.copy()
    first_view_pos[has_views] = v_pos[first_view]
    add_sessions = v_session[v_added]  # ascending, like a_pos
    first_add = np.flatnonzero(np.diff(add_sessions, prepend=-1) != 0)
    first_add_pos[add_sessions[first_add]] = a_pos[first_add]
    surface_at = {
        "landing": event_at.take(array(s_first)),
        "product": event_at.take(array(first_view_pos)),
        "cart": event_at.take(array(first_add_pos)),
    }
    exposures = experiments.build_exposures(assignments, session_ids, user_ids, stage, surface_at)
    kept = v_added & ~v_removed & (stage[v_session] == STAGE_PURCHASE)
    purchase_second = np.full(n, np.nan)
    purchase_second[purchase == 1] = seconds[purchase_pos]
    carts = Carts(v_session[kept], v_product_id[kept], v_quantity[kept], purchase_second, start)
    return Clickstream(events, truth, exposures), carts


def _add_ranks(
    draw: np.ndarray, n_add: np.ndarray, v_session: np.ndarray, v_first: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """Each view's rank among the views of its session (0 = added first): the first view, then the others by
    `draw ** (1 / category affinity)`, descending (ties in view order).

    A cart of one line holds the first view whatever the others' ranks, so only the views of the sessions that
    add two or more lines are sorted; the other views get rank 1 (0 for a first view).
    """
    rank = np.ones(len(v_session), dtype=np.int64)
    rank[v_first[n_add > 0]] = 0
    many = np.flatnonzero(n_add[v_session] >= 2)
    if len(many):
        session = v_session[many]  # ascending: each session's views are consecutive
        key = draw[many] ** (1.0 / m.CATEGORY_CART[category[many]])
        key[many == v_first[session]] = 2.0
        order = np.lexsort((-key, session))
        start = np.searchsorted(session, session, side="left")  # where each view's session starts
        sub = np.empty(len(many), dtype=np.int64)
        sub[order] = np.arange(len(many)) - start[order]
        rank[many] = sub
    return rank


def _pick_products(
    weights: np.ndarray,
    category_of: np.ndarray,
    rng: np.random.Generator,
    table: np.ndarray,
    category: np.ndarray,
    in_category: np.ndarray,
) -> np.ndarray:
    """Product index per view, drawn from its component `table` of `weights` (preferences.py): within
    `category` where `in_category`, else across the whole catalog. One searchsorted over every table's
    per-category cumulative weights laid end to end (row t spans [t, t + 1])."""
    n_tables, n_products = weights.shape
    by_category = np.argsort(category_of, kind="stable")
    w = weights[:, by_category]
    w = w / w.sum(axis=1, keepdims=True)
    cum = np.cumsum(w, axis=1)
    cum[:, -1] = 1.0
    cum += np.arange(n_tables)[:, None]
    flat = cum.ravel()
    bounds = np.searchsorted(category_of[by_category], np.arange(len(m.CATEGORIES) + 1), side="left")
    edges = np.concatenate([np.arange(n_tables)[:, None], cum], axis=1)  # [t, k]: weight before position k
    lo_cat, hi_cat = edges[:, bounds[:-1]], edges[:, bounds[1:]]
    lo_c, hi_c = lo_cat[table, category], hi_cat[table, category]
    usable = in_category & (hi_c > lo_c)  # a category with nothing on sale: any
    lo = np.where(usable, lo_c, table.astype(np.float64))
    hi = np.where(usable, hi_c, table + 1.0)
    u = np.minimum(lo + rng.random(len(category)) * (hi - lo), np.nextafter(hi, lo))
    pos = np.searchsorted(flat, u, side="right").clip(0, len(flat) - 1)
    return by_category[pos % n_products]


def _page_codes(
    rng, plan: SessionPlan, etype, eproduct, eintent, n_products: int
) -> tuple[pa.Array, np.ndarray]:
    """The page of each event, as (every page of the day, code per event): a product page, the cart or
    checkout, else a landing page that is often the category the session shops. A click happens on the page
    before the product it opens."""
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
    clicks = np.flatnonzero(etype == CLICK)  # never a session's first event: the landing page comes first
    code[clicks] = code[clicks - 1]
    product_pages = pc.binary_join_element_wise(
        string_scalar("/product/"),
        pc.cast(array(np.arange(1, n_products + 1)), pa.string()),
        string_scalar(""),
    )
    return pa.concat_arrays([array(other, pa.string()), product_pages]), code


def _referrers(pages: pa.Array, code: np.ndarray, s_first: np.ndarray, channel: np.ndarray) -> pa.Array:
    """The page each event's page was reached from: the previous page of the session when the page changed,
    else the referrer of the event before (same page); a landing page's is the traffic source's site, or none.
    Internal referrers are paths like `page`, external ones full URLs."""
    total = len(code)
    external = tuple(dict.fromkeys(EXTERNAL_REFERRERS.values()))
    channel_ref = np.array(
        [external.index(EXTERNAL_REFERRERS[c]) if c in EXTERNAL_REFERRERS else -1 for c in m.CHANNELS]
    )
    n_pages = len(pages)
    code = code.astype(np.int32)
    changed = np.empty(total, dtype=bool)
    changed[1:] = code[1:] != code[:-1]
    changed[s_first] = True
    at = np.flatnonzero(changed)  # where the page changes; each such event's referrer holds until the next
    value = code[np.maximum(at - 1, 0)]  # the previous page
    landing_ref = channel_ref[channel]
    value[np.searchsorted(at, s_first)] = np.where(landing_ref >= 0, n_pages + landing_ref, -1)
    ref = np.repeat(value, np.diff(np.append(at, total)))
    values = pa.concat_arrays([pages, array(external, pa.string())])
    return pa.DictionaryArray.from_arrays(array(np.maximum(ref, 0), pa.int32(), mask=ref < 0), values)
