"""The realism measures of a generated lake and their target bands, shared by the test and the benchmark.

tests/generator/test_realism.py asserts that every measure lies in its band at `small` scale; bench/realism.py
prints each measure beside its band and source. The bands are the published figures of generator/README.md
(*Calibration*), not our current output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.bgnbd import fit

DEMO_START, DEMO_END = dt.date(2025, 9, 1), dt.date(2025, 12, 31)


@dataclass(frozen=True)
class Target:
    key: str
    measure: str
    low: float
    high: float
    source: str
    percent: bool = True


TARGETS = (
    Target("conversion", "session conversion (sessions with a purchase)", 0.02, 0.035,
           "IRP Commerce / Littledata e-commerce benchmarks: about 2-3% (1-4% by vertical)"),
    Target("conversion_desktop", "desktop conversion", 0.028, 0.05,
           "Smart Insights / Statista, conversion by device: desktop about 3.9%"),
    Target("conversion_mobile", "mobile conversion", 0.012, 0.025,
           "Smart Insights / Statista, conversion by device: mobile about 1.8%"),
    Target("device_gap", "desktop / mobile conversion", 1.6, 3.0,
           "the same sources: 3.9% / 1.8% = 2.2x", percent=False),
    Target("view_to_cart", "product views followed by an add to cart (events)", 0.03, 0.10,
           "Littledata / Dynamic Yield benchmarks 3-10%; REES46 multi-category store 3.1%"),
    Target("bounce", "bounce (one-event sessions)", 0.40, 0.50,
           "Contentsquare digital experience benchmark: e-commerce bounce about 40-50%"),
    Target("cart_abandonment", "cart abandonment (carts not bought in the session)", 0.60, 0.80,
           "Baymard Institute, average of 49 studies: 70.2%"),
    Target("repeat_rate", "buyers with two or more orders in the window", 0.15, 0.40,
           "RJMetrics: 32% of first-time buyers order again within a year (a shorter window sees fewer)"),
    Target("top20_revenue", "revenue share of the top 20% of buyers", 0.70, 0.80,
           "Pareto in retail: the top 20% of customers bring about 70-80% of revenue"),
    Target("never_sold", "products never sold in the window", 0.10, 0.60,
           "long-tail assortments: many SKUs sell rarely or never in a season (the issue: 'a long tail: many')"),
    Target("top20_units", "units sold by the top 20% of products", 0.60, 0.95,
           "Zipf-like popularity (Pareto principle in assortments: about 80/20)"),
    Target("return_rate_fashion", "returned Apparel and Shoes orders (placed 30+ days before the end)", 0.15, 0.30,
           "NRF / Appriss Retail and Coresight: online apparel and shoes returns 15-30%"),
    Target("cohort_decline", "cohort buyers, 60-89 vs 30-59 days after signup", 0.0, 0.95,
           "retention curves decline month after month (e.g. Shopify cohort analysis)", percent=False),
)  # fmt: skip


def connect(lake: Path):
    import duckdb

    from generator.lake import lake_views

    con = duckdb.connect()
    lake_views(
        con, lake, ("users", "products", "orders", "order_items", "user_events", "order_status_changes")
    )
    con.execute(
        """
        create table sessions as
        select session_id, any_value(user_id) as user_id, any_value(device) as device, count(*) as events,
            count(*) filter (where event_type = 'product_view') as views,
            count(*) filter (where event_type = 'add_to_cart') as adds,
            count(*) filter (where event_type = 'purchase') as purchases
        from user_events group by all
        """
    )
    return con


def measure(lake: Path) -> dict[str, float]:
    con = connect(lake)
    one = lambda sql: con.execute(sql).fetchone()  # noqa: E731
    v: dict[str, float] = {}
    v["conversion"], v["bounce"] = one(
        "select avg((purchases > 0)::int), avg((events = 1)::int) from sessions"
    )
    by_device = dict(
        con.execute("select device, avg((purchases > 0)::int) from sessions group by 1").fetchall()
    )
    v["conversion_desktop"], v["conversion_mobile"] = by_device["desktop"], by_device["mobile"]
    v["device_gap"] = by_device["desktop"] / by_device["mobile"]
    (v["view_to_cart"],) = one("select sum(adds) / sum(views) from sessions")
    (v["cart_abandonment"],) = one("select avg((purchases = 0)::int) from sessions where adds > 0")
    (v["repeat_rate"],) = one(
        "select avg((n >= 2)::int) from (select user_id, count(*) n from orders group by 1)"
    )
    (v["top20_revenue"],) = one(
        """
        with spend as (select user_id, sum(order_total) s from orders group by 1),
        ranked as (select s, row_number() over (order by s desc) rn, count(*) over () n from spend)
        select sum(s) filter (where rn <= 0.2 * n) / sum(s) from ranked
        """
    )
    v["never_sold"], v["top20_units"] = one(
        """
        with catalog as (select distinct product_id from products
                         where dt = (select max(dt) from products)),
        units as (select c.product_id, coalesce(sum(i.quantity), 0) u
                  from catalog c left join order_items i using (product_id) group by 1),
        ranked as (select u, row_number() over (order by u desc) rn, count(*) over () n from units)
        select avg((u = 0)::int), sum(u) filter (where rn <= 0.2 * n) / sum(u) from ranked
        """
    )
    (v["return_rate_fashion"],) = one(
        """
        with first_line as (select order_id, arg_min(product_id, order_item_id) product_id
                            from order_items group by 1),
        fashion as (select distinct product_id from products where category in ('Apparel', 'Shoes'))
        select avg((c.order_id is not null)::int)
        from first_line f join fashion using (product_id)
        join orders o on o.order_id = f.order_id
            and o.created_at < (select max(created_at) from orders) - interval 30 day  -- returns all seen
        left join (select order_id from order_status_changes where status = 'returned') c
            on c.order_id = f.order_id
        """
    )
    windows = con.execute(
        """
        with cohort as (select user_id, signup_at::date d from users
                        where signup_at < (select min(signup_at) from users) + interval 30 day),
        bought as (select distinct c.user_id, (o.created_at::date - c.d) // 30 k
                   from cohort c join orders o using (user_id))
        select k, count(*) / (select count(*) from cohort) from bought where k < 3 group by 1 order by 1
        """
    ).fetchall()
    shares = dict(windows)
    v["cohort_window_0"], v["cohort_window_1"], v["cohort_window_2"] = (shares.get(k, 0.0) for k in range(3))
    v["cohort_decline"] = (
        v["cohort_window_2"] / v["cohort_window_1"] if v["cohort_window_1"] else float("nan")
    )
    v.update(bgnbd(con))
    con.close()
    return {k: float(x) for k, x in v.items()}


def bgnbd(con) -> dict[str, float]:
    """BG/NBD on the buyers' order days, in weeks from each buyer's first order to the end of the window."""
    rows = con.execute(
        """
        with days as (select distinct user_id, created_at::date d from orders),
        per as (select user_id, min(d) first, max(d) last, count(*) - 1 x from days group by 1)
        select x, (last - first) / 7.0, ((select max(d) from days) - first) / 7.0 from per
        """
    ).fetchnumpy()
    x, t_x, big_t = (np.asarray(rows[k], dtype=float) for k in rows)
    fitted = fit(x, t_x, big_t)
    return {"bgnbd_r": fitted.r, "bgnbd_alpha": fitted.alpha, "bgnbd_a": fitted.a, "bgnbd_b": fitted.b}


def generate(lake: Path, scale: str, start: dt.date, end: dt.date, workers: int) -> None:
    from generator.config import GeneratorConfig
    from generator.run import date_range, generate_window

    generate_window(GeneratorConfig(scale=scale), lake, date_range(start, end), workers=workers)
