"""Orders and order items of a day, and the late status changes (cancellations, returns) of earlier orders."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from generator import behaviour as m
from generator.arrow import array, decimal_from_cents, dictionary, timestamps
from generator.calendar import gift_return_earliest, is_gift_order, return_probability
from generator.config import GeneratorConfig
from generator.events import Carts
from generator.plan import STAGE_PURCHASE, SessionPlan, order_summary
from generator.streams import (
    ORDER_ID_STRIDE,
    ORDER_ITEM_ID_STRIDE,
    SALT_CANCEL,
    SALT_DELAY,
    SALT_RETURN,
    SALT_TIME,
    SESSION_ID_STRIDE,
    STREAM_ORDERS,
    day_key,
    hash_uniform,
    stream,
)


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
            "order_id": array(order_ids),
            "user_id": array(user_ids[buyers]),
            "session_id": array(key * SESSION_ID_STRIDE + 1 + buyers.astype(np.int64)),
            "status": dictionary(("placed",), np.zeros(n_orders, dtype=np.int32)),
            "payment_method": dictionary(
                m.PAYMENT_METHODS, rng.choice(len(m.PAYMENT_METHODS), size=n_orders, p=m.PAYMENT_MIX)
            ),
            "shipping_method": dictionary(m.SHIPPING_METHODS, shipping),
            "item_count": array(items_per_order),
            "subtotal_amount": decimal_from_cents(subtotal),
            "discount_amount": decimal_from_cents(discount),
            "order_total": decimal_from_cents(subtotal - discount),
            "shipping_cost": decimal_from_cents(ship_cost),
            "created_at": timestamps(plan.day, carts.purchase_second[buyers]),
        }
    )
    items = pa.table(
        {
            "order_item_id": array(
                key * ORDER_ITEM_ID_STRIDE + 1 + np.arange(len(line_order), dtype=np.int64)
            ),
            "order_id": array(order_ids[line_order]),
            "product_id": array(carts.product_id.astype(np.int64)),
            "quantity": array(carts.quantity.astype(np.int32)),
            "unit_price": decimal_from_cents(unit),
            "line_total": decimal_from_cents(line_total),
        }
    )
    return orders, items


def gift_terms(cfg: GeneratorConfig, order_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is a gift order, the earliest return delay in days) per order, from the day in its id (calendar.py's
    gift season; decided once per distinct day)."""
    keys, inverse = np.unique(np.asarray(order_ids, dtype=np.int64) // ORDER_ID_STRIDE, return_inverse=True)
    months = (keys // 10_000 - 1970) * 12 + (keys // 100 % 100 - 1)
    placed = months.astype("datetime64[M]").astype("datetime64[D]") + (keys % 100 - 1)
    gift = is_gift_order(placed, cfg.market)
    earliest = np.where(gift, (gift_return_earliest(placed) - placed).astype(np.int64), 0)
    inverse = inverse.ravel()
    return gift[inverse], earliest[inverse]


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
    # gifts bought before the holidays come back more, and only after them (calendar.py)
    gift, earliest = gift_terms(cfg, order_ids)
    returned = ~cancelled & (u_return < return_probability(m.CATEGORY_RETURN[category], gift))
    lo_c, hi_c = m.CANCEL_DELAY_DAYS
    lo_r, hi_r = m.RETURN_DELAY_DAYS
    lo_r = np.maximum(lo_r, earliest)
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
    start, end = m.STATUS_CHANGE_HOURS
    second = start * 3600 + hash_uniform(order_ids, cfg.seed, SALT_TIME) * (end - start) * 3600
    return pa.table(
        {
            "order_id": array(order_ids),
            "status": dictionary(("placed", "cancelled", "returned"), status),
            "changed_at": timestamps(day, np.floor(second)),
        }
    )
