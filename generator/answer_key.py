"""The answer key: the true parameters of a day, per channel and device (documented in generator/README.md)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from generator import behaviour as m
from generator.arrow import array
from generator.calendar import is_gift_order, return_probability
from generator.config import GeneratorConfig
from generator.plan import SessionPlan


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
    gift = is_gift_order(np.array([plan.day], dtype="datetime64[D]"), cfg.market)[0]
    return_given_order = (1.0 - m.CANCEL_PROBABILITY) * return_probability(
        m.CATEGORY_RETURN[plan.intent], gift
    )
    # The sessions of each (channel, device) cell, made contiguous by one stable sort: a cell's slice holds
    # the same values in the same order as a boolean selection would, so its sums are the same floats.
    cell = plan.channel.astype(np.intp) * len(m.DEVICES) + plan.device
    order = np.argsort(cell, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=len(m.CHANNELS) * len(m.DEVICES)))])
    by_cell = [x[order] for x in (reach_view, reach_cart, reach_checkout, reach_purchase)]
    returns_by_cell = (reach_purchase * return_given_order)[order]
    for ci, channel in enumerate(m.CHANNELS):
        for di, device in enumerate(m.DEVICES):
            k = ci * len(m.DEVICES) + di
            sel = slice(bounds[k], bounds[k + 1])
            s = int(bounds[k + 1] - bounds[k])
            rows["channel"].append(channel)
            rows["device"].append(device)
            rows["sessions"].append(s)
            sums = [float(x[sel].sum()) for x in by_cell]
            prev = [float(s), *sums[:-1]]
            rates = [a / b if b > 0 else None for a, b in zip(sums, prev, strict=True)]
            for name, rate in zip(("view", "cart", "checkout", "purchase"), rates, strict=True):
                rows[f"expected_{name}_rate"].append(rate)
            rows["expected_conversion_rate"].append(sums[3] / s if s else None)
            late["expected_orders"].append(sums[3])
            late["expected_cancel_rate"].append(m.CANCEL_PROBABILITY)
            returns = float(returns_by_cell[sel].sum())
            late["expected_return_rate"].append(returns / sums[3] if sums[3] > 0 else None)
    n = len(rows["channel"])
    table = pa.table({name: array(values) for name, values in rows.items()})
    day_columns = {
        "seasonality": shape.seasonality,
        "growth": shape.growth,
        "weekday_multiplier": shape.weekday,
        "traffic_multiplier": shape.traffic_multiplier,
        "conversion_multiplier": shape.conversion_multiplier,
        "discount_rate": shape.discount_rate,
        "expected_sessions": plan.expected_sessions,
        "expected_new_users": plan.expected_new,
    }
    for name, value in day_columns.items():
        table = table.append_column(name, array([float(value)] * n))
    table = table.append_column("is_sale_day", array([shape.sale is not None] * n))
    table = table.append_column(
        "sale_name", array([shape.sale.name if shape.sale else None] * n, pa.string())
    )
    table = table.append_column("promo_period", array([shape.promo_period] * n))
    table = table.append_column("injected_faults", array([",".join(cfg.inject)] * n))
    for name, values in late.items():
        table = table.append_column(name, array(values, pa.float64()))
    for name, value in (
        ("expected_returning_sessions", plan.expected_returning),
        ("expected_anonymous_sessions", plan.expected_anonymous),
    ):
        table = table.append_column(name, array([float(value)] * n))
    return table
