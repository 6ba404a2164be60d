"""The dashboard's page functions without a browser: the headlines a page computes against the marts of a
published run, queried here independently with DuckDB, and the pure functions behind ranges, periods, definitions
and time zones. (tests/serving/test_dashboard.py checks what the browser shows.)"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from dashboard.definitions import describe
from dashboard.filters import Filters, default_range, resolve_range
from dashboard.marts import date_bounds
from dashboard.periods import by_period, partial_note, period_chart, shown_of
from dashboard.views import categories, cohorts, funnel, kpis, traffic
from generator.markets import market
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


# ------------------------------------------------------------------------ pure functions, no published run


def test_relative_ranges_follow_the_newest_day_and_default_to_a_comparable_period():
    first, last = dt.date(2025, 11, 4), dt.date(2025, 12, 31)
    assert resolve_range("last-7", first, last) == (dt.date(2025, 12, 25), last)
    assert resolve_range("last-30", first, last) == (dt.date(2025, 12, 2), last)
    assert resolve_range("month-to-date", first, last) == (dt.date(2025, 12, 1), last)
    assert resolve_range("all", first, last) == (first, last)
    # A day published later moves the range with it; a range never starts before the data.
    assert resolve_range("last-7", first, last + dt.timedelta(days=1)) == (
        dt.date(2025, 12, 26),
        dt.date(2026, 1, 1),
    )
    assert resolve_range("last-30", first, dt.date(2025, 11, 10)) == (first, dt.date(2025, 11, 10))
    assert default_range(first, first + dt.timedelta(days=59)) == "last-30"  # 60 days
    assert default_range(first, last) == "last-7"  # 58 days
    assert default_range(first, first + dt.timedelta(days=12)) == "all"  # 13 days
    # The default's previous period lies inside the data, so its headlines show a change.
    for held in (14, 59, 60, 400):
        end = first + dt.timedelta(days=held - 1)
        start, end = resolve_range(default_range(first, end), first, end)
        if default_range(first, end) != "all":
            assert Filters(start, end).previous().start >= first, held


def test_partial_weeks_and_months_are_counted_against_the_days_shown():
    days = pd.DataFrame({"day": pd.date_range("2025-11-04", "2025-12-31"), "revenue": 1.0})
    weeks = by_period(days, "Week", ["revenue"], (dt.date(2025, 11, 4), dt.date(2025, 12, 31)))
    assert weeks.period.iloc[0] == pd.Timestamp("2025-11-03")  # weeks start on Monday
    assert weeks[["days", "period_days", "partial"]].iloc[0].tolist() == [6, 7, True]
    assert weeks[["days", "period_days", "partial"]].iloc[-1].tolist() == [3, 7, True]
    assert not weeks.partial.iloc[1:-1].any() and (weeks.revenue == weeks.days).all()
    months = by_period(days, "Month", ["revenue"], (dt.date(2025, 11, 4), dt.date(2025, 12, 31)))
    assert months[["days", "period_days", "partial"]].values.tolist() == [[27, 30, True], [31, 31, False]]
    note = partial_note(weeks, "Week")
    assert "week of 03 Nov 2025 (6 of 7 days)" in note and "week of 29 Dec 2025 (3 of 7 days)" in note
    assert (
        partial_note(
            by_period(days, "Day", ["revenue"], (dt.date(2025, 11, 4), dt.date(2025, 12, 31))), "Day"
        )
        is None
    )


def test_one_or_two_periods_draw_bars_from_zero_with_one_tick_each():
    days = pd.DataFrame({"day": pd.date_range("2025-11-04", "2025-12-31"), "revenue": 163_493.0})
    months = by_period(days, "Month", ["revenue"], (dt.date(2025, 11, 4), dt.date(2025, 12, 31)))
    fig, few = period_chart(months, "Month", "revenue")
    assert few and fig.data[0].type == "bar" and list(fig.data[0].x) == ["Nov 2025", "Dec 2025"]
    assert fig.layout.yaxis.rangemode == "tozero" and fig.layout.xaxis.type == "category"
    assert list(fig.data[0].marker.opacity) == [0.45, 1.0]  # November is partial: a lighter bar
    assert list(fig.data[0].text) == ["partial: 27 of 30 days", ""]
    weeks = by_period(days, "Week", ["revenue"], (dt.date(2025, 11, 4), dt.date(2025, 12, 31)))
    fig, few = period_chart(weeks, "Week", "revenue")
    assert not few and fig.data[0].mode == "lines+markers"
    assert [pd.Timestamp(t) for t in fig.layout.xaxis.tickvals] == list(weeks.period)  # ticks on the points
    symbols = list(fig.data[0].marker.symbol)
    assert symbols[0] == symbols[-1] == "circle-open" and set(symbols[1:-1]) == {"circle"}


def test_a_window_cut_by_the_data_or_the_dates_says_so():
    first, last = dt.date(2025, 11, 4), dt.date(2025, 12, 31)
    year_end = (dt.date(2025, 12, 26), dt.date(2025, 12, 31))
    assert shown_of(*year_end, Filters(first, last), first, last) == "all 6 days"
    assert shown_of(*year_end, Filters(first, dt.date(2025, 12, 28)), first, dt.date(2025, 12, 28)) == (
        "3 of 6 days: the data ends on 28 Dec 2025"
    )
    assert shown_of(*year_end, Filters(first, dt.date(2025, 12, 27)), first, last) == (
        "2 of 6 days: the selected dates end on 27 Dec 2025"
    )
    assert shown_of(dt.date(2025, 11, 1), dt.date(2025, 11, 7), Filters(first, last), first, last) == (
        "4 of 7 days: the data starts on 04 Nov 2025"
    )
    assert funnel.around_notes(*year_end, Filters(first, last), first, last) == [
        "No week after to compare: the data ends on 31 Dec 2025."
    ]
    assert funnel.around_notes(
        *year_end, Filters(first, dt.date(2026, 1, 3)), first, dt.date(2026, 1, 3)
    ) == ["The week after: 3 of 7 days: the data ends on 03 Jan 2026."]


def test_the_cohort_page_says_what_a_short_history_lacks():
    four_weeks = cohorts.history_notes(dt.date(2025, 9, 1), dt.date(2025, 9, 28), has_month_1=False)
    assert four_weeks[0].startswith("Month-1 retention needs a cohort with a month after it in the data: the data "
                                    "holds 28 days (01 Sep 2025 to 28 Sep 2025)")  # fmt: skip
    assert four_weeks[1] == (
        "Sep 2025, the newest month, is partial: the data holds 28 days (01 Sep 2025 to 28 Sep 2025), so its "
        "activity covers 28 of its 30 days."
    )
    assert cohorts.history_notes(dt.date(2025, 9, 1), dt.date(2025, 10, 31), has_month_1=True) == []
    # four months of data, but the dates picked hold only the newest month's cohort
    picked = cohorts.history_notes(dt.date(2025, 9, 1), dt.date(2025, 12, 31), has_month_1=False)
    assert picked == [
        "Month-1 retention needs a cohort with a month after it: the selected dates hold only Dec 2025, the newest "
        "month, which has none yet. Pick dates that start in an earlier month (Whole history shows every cohort)."
    ]


def test_hours_move_to_the_shops_time_zone_with_each_days_offset():
    """One session a day at 02:00 UTC on Sundays: 21:00 on Saturday in New York in winter (UTC-5), 22:00 under
    summer time (UTC-4); across the change, split by the share of Sundays under each offset."""
    hourly = pd.DataFrame(
        [(7, "Sunday", h, 1.0 if h == 2 else 0.0, 1.0 if h == 2 else 0.0) for h in range(24)],
        columns=["weekday", "weekday_name", "hour", "sessions", "average_sessions_per_day"],
    )
    winter = traffic.local_hours(hourly, "America/New_York", dt.date(2025, 11, 10), dt.date(2025, 12, 7))
    busiest = winter.loc[winter.average_sessions_per_day.idxmax()]
    assert (busiest.weekday_name, busiest.hour, busiest.average_sessions_per_day) == ("Saturday", 21, 1.0)
    # Sundays 19 and 26 Oct and 2 Nov (summer time ends at 06:00 UTC that day) under summer time, 9 Nov not.
    across = traffic.local_hours(hourly, "America/New_York", dt.date(2025, 10, 13), dt.date(2025, 11, 9))
    shares = across[across.average_sessions_per_day > 0].set_index("hour").average_sessions_per_day.to_dict()
    assert shares == pytest.approx({21: 0.25, 22: 0.75})
    assert traffic.local_hours(hourly, "Asia/Seoul", dt.date(2025, 11, 10), dt.date(2025, 12, 7)).query(
        "average_sessions_per_day > 0"
    )[["weekday_name", "hour"]].values.tolist() == [["Sunday", 11]]
    assert market("us").time_zone == "America/New_York" and market("kr").time_zone == "Asia/Seoul"


def test_every_headline_is_defined_by_the_dbt_docs_or_the_page():
    """Each headline's help opens with what it counts: its mart column's dbt description (read from the YAML) or
    the page's own words for a number the page computes."""
    for module in (kpis, categories, funnel, traffic, cohorts):
        for h in module.HEADLINES:
            assert h.meaning or describe(h.source), (module.__name__, h.label, h.source)
            assert h.definition().startswith(f"**{h.label}**: "), h.label
    conversion = next(h for h in kpis.HEADLINES if h.key == "conversion_rate")
    assert "Share of the day's sessions that placed an order." in conversion.definition()
    assert describe("dm_kpi_daily.cart_abandonment_rate").startswith(
        "Share of the day's sessions with a cart add"
    )
