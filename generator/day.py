"""One day of the shop: a pure function of (seed, config, day).

The day is built in stages, each with its own random stream (see `streams.py`):

1. the *session plan* (who visits, from which channel and device, how far down the funnel they get) is cheap,
   so the late status changes of day D can re-derive the order ids of the days before D without state;
2. the *events* expand the plan into a clickstream, the *orders* price the carts that were bought;
3. the *users* who signed up and the *catalog* of the day are derived from the calendar alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from generator.answer_key import build_answer_key
from generator.catalog import build_products, catalog, prices_on, products_on
from generator.config import GeneratorConfig
from generator.events import build_events
from generator.experiments import build_experiments
from generator.localtime import session_places_and_starts
from generator.orders import build_orders, build_status_changes
from generator.plan import SessionPlan, order_summary, session_plan
from generator.product_truth import build_complement_truth, build_product_truth
from generator.truth import build_user_truth
from generator.users import build_users


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
    user_ids = plan.user_id
    place, start_second = session_places_and_starts(cfg, day, user_ids)
    clicks, carts = build_events(cfg, plan, cat, user_ids, place, start_second)
    orders, items = build_orders(cfg, plan, carts, prices, user_ids)
    tables = {
        "users": build_users(cfg, plan, carts.start_second),
        "products": build_products(cfg, day, cat, prices),
        "orders": orders,
        "order_items": items,
        "user_events": clicks.events,
        "order_status_changes": build_status_changes(cfg, day),
        "answer_key": build_answer_key(cfg, plan),
        "user_truth": build_user_truth(cfg, day),
        "experiment_exposures": clicks.exposures,
        "experiments": build_experiments(day),
        "event_truth": clicks.truth,
        "product_truth": build_product_truth(cfg, plan),
        "complement_truth": build_complement_truth(cfg, plan),
    }
    return Day(tables=tables, plan=plan)
