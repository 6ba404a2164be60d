"""The per-user truth (`user_truth`) tells what each customer does: they never come back after their lapse day,
and their orders and spend over the following days scatter around the truth's expectations.

Tolerances: given a user's latent state their orders are Poisson (visits are Poisson, each ends in an order
independently), so a group's total lies within 4 standard deviations, sqrt(expected), of the truth (a false alarm
about 1 in 15,000 per check). Spend is a compound Poisson sum: its standard deviation is sqrt(sum of squared order
values), and the expected order value is an estimator (behaviour.UNIT_BASKET_CENTS, the shop's mean basket), so spend
is also allowed the estimator's documented 8% error.
"""

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

pytestmark = pytest.mark.slow

CFG = GeneratorConfig(scale="small", seed=5)
START, END = dt.date(2025, 9, 1), dt.date(2025, 10, 20)
SPEND_ESTIMATOR_ERROR = 0.08


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    lake = tmp_path_factory.mktemp("lake")
    generate_window(CFG, lake, date_range(START, END), workers=2, echo=lambda _: None)
    con = duckdb.connect()
    lake_views(con, lake, ("users", "orders", "user_events", "user_truth"))
    yield con
    con.close()


def test_every_user_has_one_truth_row_in_their_signup_partition(con):
    missing = con.execute(
        """
        select count(*) from users u full join user_truth t using (user_id)
        where u.dt is distinct from t.dt or t.as_of_date is distinct from u.signup_at::date
        """
    ).fetchone()[0]
    assert missing == 0
    assert set(r[0] for r in con.execute("select distinct persona from user_truth").fetchall()) == set(
        PERSONAS
    )


def test_nobody_comes_back_on_or_after_their_lapse_day(con):
    late, visits = con.execute(
        """
        select count(*) filter (where e.event_at::date >= t.lapse_date), count(*)
        from user_events e join user_truth t using (user_id)
        where e.event_at::date > t.as_of_date
        """
    ).fetchone()
    assert visits > 10_000  # returning visitors are there ...
    assert late == 0  # ... but none after they lapsed


def _realized(con, first: dt.date, last: dt.date, horizon: int):
    """Per user signed up in first..last: orders and spend in the `horizon` days after signup."""
    return con.execute(
        f"""
        select t.user_id, t.persona, t.expected_orders_{horizon}d, t.expected_spend_{horizon}d,
            count(o.order_id) as orders, coalesce(sum(o.order_total), 0)::double as spend,
            coalesce(sum(o.order_total::double ^ 2), 0) as spend_sq
        from user_truth t left join orders o on o.user_id = t.user_id
            and o.created_at::date > t.as_of_date and o.created_at::date <= t.as_of_date + {horizon}
        where t.as_of_date between '{first}' and '{last}'
        group by all
        """
    ).fetchnumpy()


def test_orders_and_spend_in_the_30_days_after_signup_match_the_truth(con):
    r = _realized(con, START, END - dt.timedelta(days=30), 30)
    expected_orders, expected_spend = r["expected_orders_30d"], r["expected_spend_30d"]
    orders, spend, spend_sq = r["orders"], r["spend"], r["spend_sq"]
    for persona in PERSONAS:
        sel = r["persona"] == persona
        want = expected_orders[sel].sum()
        assert abs(orders[sel].sum() - want) <= 4 * np.sqrt(want) + 1, (persona, orders[sel].sum(), want)
    want = expected_spend.sum()
    tolerance = 4 * np.sqrt(spend_sq.sum()) + SPEND_ESTIMATOR_ERROR * want
    assert abs(spend.sum() - want) <= tolerance, (spend.sum(), want, tolerance)


def test_expectations_from_any_as_of_date_match_the_orders_that_follow(con):
    as_of, horizon = dt.date(2025, 9, 25), (END - dt.date(2025, 9, 25)).days
    ids = np.array([r[0] for r in con.execute(f"select user_id from users where dt <= '{as_of}'").fetchall()])
    traits, signup = traits_of(CFG, ids)
    expected = expected_from(CFG, traits, signup, as_of, horizon).orders
    per_user = dict(
        con.execute(
            f"select user_id, count(*) from orders where created_at::date > '{as_of}' group by 1"
        ).fetchall()
    )
    got = np.array([per_user.get(int(u), 0) for u in ids])
    lapsed = signup + traits.lapse_age <= as_of.toordinal() + 1
    assert lapsed.sum() > 1000  # many have lapsed by then (median lifetime: 33 days) ...
    assert got[lapsed].sum() == 0 and expected[lapsed].sum() == 0  # ... and they never buy again
    for persona in range(len(PERSONAS)):
        sel = traits.persona == persona
        want = expected[sel].sum()
        assert abs(got[sel].sum() - want) <= 4 * np.sqrt(want) + 1, (PERSONAS[persona], got[sel].sum(), want)
