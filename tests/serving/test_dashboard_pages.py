"""The dashboard's page functions over a published run, without a browser: the headlines a page computes against
the marts, queried here independently with DuckDB. (tests/serving/test_dashboard.py checks what the browser shows.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dashboard.filters import Filters
from dashboard.marts import date_bounds
from dashboard.views import categories
from pipeline.read import published_duckdb
from pipeline.settings import Settings


@pytest.fixture(scope="module")
def settings(tiny_run):
    return Settings.load(data_dir=tiny_run)


def shown_change(text: str | None) -> tuple[float, str]:
    """A change as a headline writes it ("+173.2%", "-1.25 pp"): its number and unit."""
    assert text is not None, "no change shown"
    match = re.fullmatch(r"([+-][\d.]+) ?(%|pp)", text)
    assert match, text
    return float(match.group(1)), match.group(2)


def category_sums(con, category: str, start: dt.date, end: dt.date) -> dict:
    revenue, net, units, rate = con.execute(
        "select sum(revenue), sum(net_revenue), sum(units), sum(purchases) / sum(product_views) "
        "from marts.dm_category_performance where category = ? and performance_date between ? and ?",
        [category, start, end],
    ).fetchone()
    return {
        "Category revenue": float(revenue),
        "Net revenue": float(net),
        "Units sold": float(units),
        "View to purchase": rate,
    }


def test_a_picked_categorys_changes_compare_it_with_itself(settings):
    """With a category picked, every Categories headline's change is that category's own change in the marts
    (its previous period is of the same category, not of the whole shop)."""
    first, last = date_bounds(settings)
    f = Filters(first + dt.timedelta(days=7), min(last, first + dt.timedelta(days=13)))
    p = f.previous()
    assert p.start >= first, "the previous period must lie inside the data"
    days = categories.category_days(settings, f)
    with published_duckdb(settings) as con:
        names = [
            c
            for (c,) in con.execute(
                "select category from marts.dm_category_performance where performance_date between ? and ? "
                "group by category having sum(revenue) > 0 and sum(net_revenue) > 0 and sum(units) > 0 "
                "and sum(product_views) > 0 order by category",
                [p.start, p.end],
            ).fetchall()
        ]
        expected = {
            c: (category_sums(con, c, f.start, f.end), category_sums(con, c, p.start, p.end)) for c in names
        }
    assert len(names) >= 3, names
    for category, (now_marts, before_marts) in expected.items():
        current, previous = categories.category_rows(days, f, first, category)
        now, before = categories.category_headlines(current), categories.category_headlines(previous)
        for h in categories.HEADLINES:
            number, unit = shown_change(h.change(now, before))
            cur, prev = now_marts[h.label], before_marts[h.label]
            if h.rate:
                assert unit == "pp", (category, h.label)
                want, tolerance = (cur - prev) * 100, 0.005
            else:
                assert unit == "%", (category, h.label)
                want, tolerance = (cur / prev - 1) * 100, 0.05
            assert abs(number - want) <= tolerance + 1e-9, (
                f"{category} {h.label}: change {number:+}{unit}, the marts say {want:+.3f}"
            )
