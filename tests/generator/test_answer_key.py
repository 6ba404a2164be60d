"""The answer key tells the truth about the data beside it, and the data has the shape an analyst expects."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from generator.behaviour import PERSONAS
from generator.config import GeneratorConfig
from generator.lake import lake_views
from generator.run import date_range, generate_window
from generator.truth import expected_from, traits_of

CFG = GeneratorConfig(scale="small", seed=3)
DAYS = date_range(dt.date(2025, 10, 6), dt.date(2025, 10, 12))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    generate_window(CFG, lake, DAYS, echo=lambda _: None)
    con = duckdb.connect()
    lake_views(con, lake, ("users", "products", "orders", "order_items", "user_events", "answer_key"))
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


def test_sessions_are_poisson_around_the_expected_sessions(con):
    """The day's session count is Poisson with the key's `expected_sessions` as its mean (anonymous + new +
    returning), so each day lies within 4 standard deviations of it."""
    days = rows(
        con,
        """
        select dt, sum(sessions), any_value(expected_sessions), any_value(expected_returning_sessions)
        from answer_key group by dt
        """,
    )
    for day, sessions, expected, returning in days:
        assert 0 < returning < expected
        assert abs(sessions - expected) <= 4 * np.sqrt(expected), (day, sessions, expected)


def test_funnel_shares_match_the_key(con):
    """Bounce and cart abandonment as the key's probabilities say, within 4 standard errors."""
    bounce, carts, abandoned = rows(
        con,
        "select avg((views = 0)::int), sum((adds > 0)::int), sum((adds > 0 and purchases = 0)::int) from sessions",
    )[0]
    n = rows(con, "select count(*) from sessions")[0][0]
    expected_bounce, expected_orders = rows(
        con,
        "select 1 - sum(sessions * expected_view_rate) / sum(sessions), sum(expected_orders) from answer_key",
    )[0]
    assert abs(bounce - expected_bounce) <= 4 * np.sqrt(expected_bounce * (1 - expected_bounce) / n)
    # the carts that were not abandoned are the orders: abandoned = carts - orders, orders about Poisson
    assert abs(abandoned - (carts - expected_orders)) <= 4 * np.sqrt(expected_orders) + 1


def test_conversion_differs_by_channel_as_the_key_says(con):
    observed = dict(rows(con, "select channel, avg((purchases > 0)::int) from sessions group by 1"))
    expected = dict(
        rows(con, "select channel, sum(expected_orders) / sum(sessions) from answer_key group by 1")
    )
    counts = dict(rows(con, "select channel, count(*) from sessions group by 1"))
    for channel, p in expected.items():
        assert abs(observed[channel] - p) <= 4 * np.sqrt(p * (1 - p) / counts[channel]) + 1e-9, channel
    best, worst = max(expected, key=expected.get), min(expected, key=expected.get)
    assert observed[best] > observed[worst]


def test_desktops_buy_electronics_and_phones_fashion(con):
    """Desktops shop electronics and furniture, phones fashion and beauty (behaviour.DEVICE_DEPARTMENT): the category
    of an order's first line (its session's intent) shows it. The model's ratios are 2x and more, far outside the
    noise of a week's orders."""
    share = dict(
        rows(
            con,
            """
            with first_line as (select order_id, arg_min(product_id, order_item_id) as product_id
                                from order_items group by 1)
            select s.device, avg((p.department = 'Electronics')::int) - avg((p.department = 'Fashion')::int)
            from orders o join sessions s using (session_id) join first_line f using (order_id)
            join (select distinct product_id, department from products) p using (product_id)
            group by 1
            """,
        )
    )
    assert share["desktop"] > share["mobile"]


def test_customers_buy_as_their_truth_says(con):
    """Orders per persona over the week against the per-user truth: given the latent state a user's orders are
    Poisson, so each persona's total lies within 4 standard deviations of the truth's expectation."""
    per_user = dict(rows(con, "select user_id, count(*) from orders where user_id > 0 group by 1"))
    last_id = rows(con, "select max(user_id) from users")[0][0]
    ids = np.arange(1, last_id + 1)
    traits, signup = traits_of(CFG, ids)
    as_of = DAYS[0] - dt.timedelta(days=1)
    before = signup <= as_of.toordinal()  # signed up before the week: their week is returning visits only
    expected = expected_from(CFG, traits, signup, as_of, len(DAYS)).orders
    got = np.array([per_user.get(int(u), 0) for u in ids])
    for persona in range(len(PERSONAS)):
        sel = before & (traits.persona == persona)
        want = expected[sel].sum()
        assert abs(got[sel].sum() - want) <= 4 * np.sqrt(want) + 1, (PERSONAS[persona], got[sel].sum(), want)
    power, standard = before & (traits.persona == 0), before & (traits.persona == 1)
    assert got[power].mean() > 2 * got[standard].mean()  # by definition they visit and buy 3x the average


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
