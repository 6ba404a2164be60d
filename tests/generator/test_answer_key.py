"""The answer key tells the truth about the data beside it, and the data has the shape an analyst expects."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from generator.config import GeneratorConfig
from generator.model import PERSONA_MIX_USERS
from generator.plan import persona_of
from generator.run import date_range, generate_window

CFG = GeneratorConfig(scale="small", seed=3)
DAYS = date_range(dt.date(2025, 10, 6), dt.date(2025, 10, 12))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    generate_window(CFG, lake, DAYS, echo=lambda _: None)
    con = duckdb.connect()
    for table in ("users", "products", "orders", "order_items", "user_events", "answer_key"):
        con.execute(
            f"create view {table} as select * from read_parquet('{lake}/{table}/dt=*/*.parquet', "
            "hive_partitioning = true)"
        )
    con.execute(
        """
        create table sessions as
        select dt, session_id, any_value(traffic_source) as channel, any_value(device) as device,
            count(*) filter (where event_type = 'product_view') as views,
            count(*) filter (where event_type = 'add_to_cart') as adds,
            count(*) filter (where event_type = 'checkout') as checkouts,
            count(*) filter (where event_type = 'purchase') as purchases
        from user_events group by all
        """
    )
    yield con
    con.close()


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_sessions_per_channel_and_device_match_the_events(con):
    mismatched = rows(
        con,
        """
        select * from answer_key k
        full join (select dt, channel, device, count(*) as n from sessions group by all) s
            using (dt, channel, device)
        where k.sessions is distinct from coalesce(s.n, 0)
        """,
    )
    assert mismatched == []
    assert rows(con, "select count(*) from answer_key")[0][0] == 18 * len(DAYS)


def test_realized_funnel_is_within_binomial_tolerance_of_the_key(con):
    """Per channel x device over the week: orders and stage counts within 4 sigma of what the key expects."""
    cells = rows(
        con,
        """
        with realized as (
            select channel, device, count(*) as n, count(*) filter (where views > 0) as viewed,
                count(*) filter (where purchases > 0) as bought
            from sessions group by all),
        expected as (
            select channel, device, sum(sessions * expected_view_rate) as viewed,
                sum(expected_orders) as bought
            from answer_key group by all)
        select r.channel, r.device, r.n, r.viewed, e.viewed, r.bought, e.bought
        from realized r join expected e using (channel, device)
        """,
    )
    assert len(cells) == 18
    for channel, device, n, viewed, exp_viewed, bought, exp_bought in cells:
        for got, want in ((viewed, exp_viewed), (bought, exp_bought)):
            sigma = np.sqrt(max(want * (1 - want / n), 1.0))
            assert abs(got - want) <= 4 * sigma + 1, (channel, device, got, want)
    orders = rows(con, "select count(*) from orders")[0][0]
    expected = rows(con, "select sum(expected_orders) from answer_key")[0][0]
    assert abs(orders - expected) <= 4 * np.sqrt(expected)


def test_day_level_truth_is_constant_per_day(con):
    varying = rows(
        con,
        """
        select dt from answer_key group by dt
        having count(distinct seasonality) > 1 or count(distinct promo_period) > 1
            or count(distinct expected_sessions) > 1
        """,
    )
    assert varying == []


def test_funnel_shares_are_plausible(con):
    bounce, cart_abandon, checkout_abandon = rows(
        con,
        """
        select avg((views = 0)::int),
            sum((adds > 0 and purchases = 0)::int) / sum((adds > 0)::int),
            sum((checkouts > 0 and purchases = 0)::int) / sum((checkouts > 0)::int)
        from sessions
        """,
    )[0]
    assert 0.25 < bounce < 0.5
    assert 0.55 < cart_abandon < 0.8
    assert 0.1 < checkout_abandon < 0.35


def test_price_and_conversion_differ_by_device_and_channel(con):
    aov = dict(
        rows(
            con, "select device, avg(order_total) from orders o join sessions s using (session_id) group by 1"
        )
    )
    assert aov["desktop"] > 1.15 * aov["mobile"]
    conversion = dict(rows(con, "select channel, avg((purchases > 0)::int) from sessions group by 1"))
    assert conversion["email"] > 2 * conversion["social"]


def test_personas_drive_repeat_purchases(con):
    per_user = rows(con, "select user_id, count(*) from orders group by 1")
    users = np.array([u for u, _ in per_user])
    counts = np.array([k for _, k in per_user])
    persona = persona_of(CFG, users)
    power, standard = counts[persona == 0].mean(), counts[persona == 1].mean()
    assert power > 1.2 * standard  # orders per buyer within one week: power buyers come back for more
    # 8% of users, yet a large share of the orders
    assert counts[persona == 0].sum() / counts.sum() > 3 * PERSONA_MIX_USERS[0]


def test_views_cluster_on_the_category_the_session_shops(con):
    """Most product views of a session are of one category (its intent, which an order's first line is of)."""
    share = rows(
        con,
        """
        with views as (
            select e.session_id, p.category, count(*) as n
            from user_events e join products p on p.product_id = e.product_id and p.dt = e.dt
            where e.event_type = 'product_view' group by all),
        per_session as (select session_id, max(n) / sum(n) as top_share, sum(n) as total from views group by 1)
        select avg(top_share) from per_session where total >= 4
        """,
    )[0][0]
    assert share > 0.6
