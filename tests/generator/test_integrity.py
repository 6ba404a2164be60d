"""The generated lake holds together: causal funnels, orders that match their events, amounts that add up."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from generator.config import GeneratorConfig
from generator.lake import lake_views
from generator.run import date_range, generate_window

START, END = dt.date(2025, 9, 1), dt.date(2025, 10, 15)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    generate_window(GeneratorConfig(scale="tiny", seed=11), lake, date_range(START, END), echo=lambda _: None)
    con = duckdb.connect()
    lake_views(
        con, lake, ("users", "products", "orders", "order_items", "user_events", "order_status_changes")
    )
    yield con
    con.close()


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_keys_are_unique_across_days(lake):
    for table, key in [("users", "user_id"), ("orders", "order_id"), ("order_items", "order_item_id"),
                       ("user_events", "event_id")]:  # fmt: skip
        assert scalar(lake, f"select count(*) - count(distinct {key}) from {table}") == 0, table
        assert scalar(lake, f"select count(*) from {table} where {key} is null") == 0, table


def test_every_cart_add_follows_a_view_of_that_product(lake):
    orphans = scalar(
        lake,
        """
        select count(*) from user_events a
        where a.event_type = 'add_to_cart' and not exists (
            select 1 from user_events v
            where v.session_id = a.session_id and v.product_id = a.product_id
              and v.event_type = 'product_view' and v.sequence_number < a.sequence_number)
        """,
    )
    assert scalar(lake, "select count(*) from user_events where event_type = 'add_to_cart'") > 0
    assert orphans == 0


def test_purchases_follow_cart_and_checkout(lake):
    bad = scalar(
        lake,
        """
        with s as (
            select session_id,
                min(sequence_number) filter (where event_type = 'add_to_cart') as first_add,
                max(sequence_number) filter (where event_type = 'checkout') as checkout,
                max(sequence_number) filter (where event_type = 'purchase') as purchase
            from user_events group by session_id)
        select count(*) from s
        where purchase is not null and (first_add is null or checkout is null or not first_add < checkout
                                        or not checkout < purchase)
        """,
    )
    assert bad == 0


def test_sequence_numbers_and_times_are_ordered(lake):
    bad = scalar(
        lake,
        """
        select count(*) from (
            select sequence_number, event_at, row_number() over (partition by session_id order by event_at,
                   sequence_number) as rn,
                   lag(event_at) over (partition by session_id order by sequence_number) as prev_at
            from user_events)
        where sequence_number <> rn or prev_at > event_at
        """,
    )
    assert bad == 0


def test_each_purchase_matches_exactly_one_order_with_its_items(lake):
    assert scalar(lake, "select count(*) from user_events where event_type = 'purchase'") == scalar(
        lake, "select count(*) from orders"
    )
    unmatched = scalar(
        lake,
        """
        select count(*) from user_events e
        left join orders o on o.order_id = e.order_id and o.session_id = e.session_id
        where e.event_type = 'purchase' and o.order_id is null
        """,
    )
    assert unmatched == 0
    # the items bought are the cart adds minus the removals of that session
    mismatched = scalar(
        lake,
        """
        with cart as (
            select session_id, product_id,
                sum(case event_type when 'add_to_cart' then quantity else -quantity end) as qty
            from user_events where event_type in ('add_to_cart', 'remove_from_cart')
            group by all having qty > 0),
        bought as (
            select o.session_id, i.product_id, sum(i.quantity) as qty
            from order_items i join orders o using (order_id) group by all)
        select count(*) from bought full join cart using (session_id, product_id)
        where cart.session_id in (select session_id from orders) and bought.qty is distinct from cart.qty
        """,
    )
    assert mismatched == 0


def test_amounts_add_up(lake):
    assert scalar(lake, "select count(*) from order_items where line_total <> quantity * unit_price") == 0
    bad_orders = scalar(
        lake,
        """
        select count(*) from orders o
        join (select order_id, sum(line_total) as lines from order_items group by order_id) i using (order_id)
        where o.subtotal_amount <> i.lines or o.order_total <> o.subtotal_amount - o.discount_amount
           or o.order_total < 0
        """,
    )
    assert bad_orders == 0


def test_sale_uses_the_price_of_its_day(lake):
    bad = scalar(
        lake,
        """
        select count(*) from order_items i join orders o using (order_id)
        join products p on p.product_id = i.product_id and p.dt = o.dt
        where i.unit_price <> p.retail_price
        """,
    )
    assert bad == 0


def test_returning_users_signed_up_before_and_products_exist(lake):
    assert (
        scalar(
            lake,
            """
        select count(*) from user_events e join users u using (user_id)
        where u.dt > e.dt or u.signup_at > e.event_at
        """,
        )
        == 0
    )
    assert scalar(lake, "select count(*) from orders o anti join users u using (user_id)") == 0
    assert (
        scalar(
            lake,
            """
        select count(*) from user_events e
        anti join products p on p.product_id = e.product_id and p.dt = e.dt
        where e.product_id is not null
        """,
        )
        == 0
    )


def test_late_changes_point_to_earlier_orders(lake):
    changes = scalar(lake, "select count(*) from order_status_changes")
    assert changes > 0
    bad = scalar(
        lake,
        """
        select count(*) from order_status_changes c left join orders o using (order_id)
        where o.order_id is null or c.changed_at <= o.created_at or c.dt <= o.dt
        """,
    )
    assert bad == 0
    # a late change arrives in the partition of the day it happens
    assert scalar(lake, "select count(*) from order_status_changes where cast(changed_at as date) <> dt") == 0


def test_new_users_sign_up_every_day(lake):
    per_day = lake.execute("select dt, count(*) from users group by dt").fetchall()
    assert len(per_day) == (END - START).days + 1
    assert all(n > 0 for _, n in per_day)
