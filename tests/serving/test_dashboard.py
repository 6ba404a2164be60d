"""The dashboard in headless Chromium, as an analyst uses it: every headline on every page is checked against the
marts (queried here independently from the published DuckDB file), with and without filters; filters apply or
say why not; charts are labelled for people; drill-downs, sale events, deep links and CSV exports work."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml

from pipeline.read import published_duckdb
from pipeline.records import BUILD_STATE, read_json, write_json_atomic
from pipeline.settings import Settings
from tests.support.ecom import ecom
from tests.support.launch import launch_chromium, running_dashboard
from tests.support.postgres import reachable_tmp_dir

pytestmark = pytest.mark.integration

# A short US shop whose window holds two sale events (Black Friday-Cyber Monday and year end, with the weeks
# around them).
OPENING, LAST = dt.date(2025, 11, 4), dt.date(2025, 12, 31)
# The filtered view: its previous period of equal length (14 days) lies fully inside the data.
F_START, F_END = dt.date(2025, 11, 19), dt.date(2025, 12, 2)

TITLES = {
    "kpis": "KPI overview",
    "categories": "Category performance",
    "cohorts": "Cohort retention",
    "funnel": "Funnel",
    "traffic": "Traffic",
    "rfm": "RFM segments",
}
RAW_NAMES = re.compile(r"_|^(variable|value|index|period|day)$")
# How a table writes a number: a count with thousands separators, dollars and cents, a percentage to two
# decimals, or an average to one decimal.
HUMAN_NUMBER = re.compile(
    r"-?\d{1,3}(,\d{3})*|-?\$\d{1,3}(,\d{3})*\.\d\d|-?\d+\.\d\d%|-?\d{1,3}(,\d{3})*\.\d"
)
TABLES = {"kpis": 1, "categories": 1, "cohorts": 0, "funnel": 1, "traffic": 0, "rfm": 2}  # fmt: skip


@dataclass(frozen=True)
class View:
    start: dt.date
    end: dt.date
    channel: str | None = None
    device: str | None = None

    @property
    def previous(self) -> View | None:
        days = (self.end - self.start).days + 1
        start = self.start - dt.timedelta(days=days)
        return (
            View(start, self.start - dt.timedelta(days=1), self.channel, self.device)
            if start >= OPENING
            else None
        )

    def query(self) -> str:
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        params |= {k: v for k, v in (("channel", self.channel), ("device", self.device)) if v}
        return "?" + urllib.parse.urlencode(params)

    def segment_sql(self) -> str:
        return "".join(
            f" and {c} = '{v}'" for c, v in (("channel", self.channel), ("device", self.device)) if v
        )


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def marts_dir():
    """A published tiny shop over the two sale events, opened on the window's first day."""
    data_dir = reachable_tmp_dir("ecom-dashboard-")
    ecom("run", "--scale", "tiny", "--start", str(OPENING), "--end", str(LAST), data_dir=data_dir,
         env={"ECOM_OPENING_DATE": str(OPENING)})  # fmt: skip
    yield data_dir
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def settings(marts_dir):
    return Settings.load(data_dir=marts_dir, opening_date=OPENING)


@pytest.fixture(scope="module")
def dashboard(marts_dir):
    with running_dashboard({"ECOM_DATA_DIR": str(marts_dir)}) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p, chromium_path)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield page
    page.close()


@pytest.fixture(scope="module")
def filtered(settings) -> View:
    """The busiest channel and device: a filter that keeps enough sessions to compare."""
    with published_duckdb(settings) as con:
        channel, device = con.execute(
            "select channel, device from marts.dm_funnel_events where stage = 'view' "
            "group by channel, device order by sum(sessions) desc limit 1"
        ).fetchone()
    return View(F_START, F_END, channel, device)


# ------------------------------------------------------------------------------------ reading the page


CHARTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
  const L = el._fullLayout || {};
  const title = a => (L[a] && L[a].title && L[a].title.text) || '';
  const arr = v => v == null ? null : Array.from(v, x => (x != null && typeof x === 'object' && x.length !== undefined)
      ? Array.from(x) : x);
  return {
    title: (L.title && L.title.text) || '', x_title: title('xaxis'), y_title: title('yaxis'),
    legend_title: (L.legend && L.legend.title && L.legend.title.text) || '',
    x_dtick: L.xaxis ? L.xaxis.dtick : null, x_type: L.xaxis ? L.xaxis.type : null,
    x_tickvals: L.xaxis && L.xaxis.tickvals ? arr(L.xaxis.tickvals) : null,
    y_rangemode: L.yaxis ? L.yaxis.rangemode : null,
    color: L.coloraxis ? {cmin: L.coloraxis.cmin, cmax: L.coloraxis.cmax,
                          title: L.coloraxis.colorbar.title.text} : null,
    traces: (el._fullData || []).map(t => ({name: t.name, type: t.type, mode: t.mode || null,
      showlegend: !!t.showlegend, orientation: t.orientation || null,
      yaxis: t.yaxis || null, x: arr(t.x), y: arr(t.y), z: arr(t.z), text: arr(t.text),
      opacity: t.marker && Array.isArray(t.marker.opacity) ? arr(t.marker.opacity) : null,
      symbol: t.marker && Array.isArray(t.marker.symbol) ? arr(t.marker.symbol) : null,
      hover: t.customdata ? arr(t.customdata).map(row => row[0]) : null})),
  };
})"""


def open_page(page, url: str, title: str, charts: int) -> None:
    """Load a page and wait until its title, headlines and `charts` charts have rendered."""
    page.goto(url)
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=180_000)
    wait_charts(page, charts)


def wait_charts(page, charts: int, title_part: str = "") -> None:
    """Wait until `charts` charts have drawn (and one whose title holds `title_part`)."""
    page.locator(".js-plotly-plot svg.main-svg").nth(charts - 1).wait_for(timeout=180_000)
    if title_part:
        page.locator(".js-plotly-plot .gtitle", has_text=title_part).first.wait_for(timeout=180_000)
    # The script may still be writing elements below the last chart (the RFM tables): wait for its run to end.
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=180_000)
    page.wait_for_timeout(500)  # let the last rerun's elements settle
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def headlines(page) -> dict[str, tuple[str, str | None]]:
    """label -> (value, change) of every metric on the page, as shown."""
    shown = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        value = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
        delta = metric.locator('[data-testid="stMetricDelta"]')
        shown[label] = (value, delta.inner_text().strip() if delta.count() else None)
    return shown


def table_rows(table) -> list[dict[str, str]]:
    """The rows of a static table as shown: header -> cell text."""
    header = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    return [
        dict(zip(header, (c.strip() for c in row.locator("td").all_inner_texts()), strict=True))
        for row in table.locator("tbody tr").all()
    ]


def charts(page) -> list[dict]:
    return page.evaluate(CHARTS_JS)


def chart(page, title_part: str) -> dict:
    found = [c for c in charts(page) if title_part in c["title"]]
    assert len(found) == 1, (title_part, [c["title"] for c in charts(page)])
    return found[0]


def parse(text: str) -> tuple[float, float]:
    """A shown number and the half-unit of its last digit (the rounding the display allows)."""
    t = text.replace("$", "").replace(",", "").strip()
    scale = 1.0
    if t.endswith("%"):
        t, scale = t[:-1], 0.01
    elif t[-1] in "KM":
        t, scale = t[:-1], {"K": 1e3, "M": 1e6}[t[-1]]
    decimals = len(t.split(".")[1]) if "." in t else 0
    return float(t) * scale, 0.5 * 10**-decimals * scale + 1e-9


def assert_shows(label: str, shown: str, expected: float) -> None:
    value, tolerance = parse(shown)
    assert abs(value - expected) <= tolerance, f"{label}: page shows {shown}, the marts say {expected}"


def assert_change(label: str, shown: str | None, current: float, previous: float | None, rate: bool) -> None:
    if previous is None:
        assert shown == "no earlier data", f"{label}: change {shown!r} without a previous period in the data"
        return
    assert shown is not None, f"{label}: no change shown"
    match = re.fullmatch(r"([+-−]?[\d.]+) ?(%|pp)", shown.replace("−", "-").strip())
    assert match, f"{label}: change {shown!r}"
    number = float(match.group(1))
    if rate:
        assert match.group(2) == "pp"
        expected = (current - previous) * 100
        tolerance = 0.005
    else:
        expected = (current / previous - 1) * 100
        tolerance = 0.05
    assert abs(number - expected) <= tolerance + 1e-9, (
        f"{label}: change {shown}, the marts say {expected:+.3f}"
    )


# ------------------------------------------------------------------------ the marts, queried independently


def one(con, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()


def expected_kpis(con, v: View) -> dict:
    orders, revenue = one(con, "select sum(orders), sum(revenue) from marts.dm_kpi_daily "
                               "where kpi_date between ? and ?", [v.start, v.end])  # fmt: skip
    sessions, purchasing = one(
        con,
        "select sum(sessions) filter (where stage = 'view'), sum(sessions_reached) filter (where stage = 'purchase') "
        f"from marts.dm_funnel_events where funnel_date between ? and ?{v.segment_sql()}",
        [v.start, v.end],
    )
    return {
        "Revenue": ("money", float(revenue)),
        "Orders": ("count", float(orders)),
        "Average order value": ("money", float(revenue) / orders),
        "Sessions": ("count", float(sessions)),
        "Conversion": ("rate", purchasing / sessions),
    }


def expected_categories(con, v: View) -> dict:
    revenue, net, units, purchases, views = one(
        con,
        "select sum(revenue), sum(net_revenue), sum(units), sum(purchases), sum(product_views) "
        "from marts.dm_category_performance where performance_date between ? and ?",
        [v.start, v.end],
    )
    top = one(con, "select category from marts.dm_category_performance where performance_date between ? and ? "
                   "group by category order by sum(revenue) desc, category limit 1", [v.start, v.end])[0]  # fmt: skip
    return {
        "Category revenue": ("money", float(revenue)),
        "Net revenue": ("money", float(net)),
        "Units sold": ("count", float(units)),
        "View to purchase": ("rate", purchases / views),
        "Top category": ("text", top),
    }


def expected_category(con, v: View, category: str) -> dict:
    """The Categories headlines with one category picked (no "Top category" then)."""
    revenue, net, units, purchases, views = one(
        con,
        "select sum(revenue), sum(net_revenue), sum(units), sum(purchases), sum(product_views) "
        "from marts.dm_category_performance where performance_date between ? and ? and category = ?",
        [v.start, v.end, category],
    )
    return {
        "Category revenue": ("money", float(revenue)),
        "Net revenue": ("money", float(net)),
        "Units sold": ("count", float(units)),
        "View to purchase": ("rate", purchases / views),
    }


def expected_cohorts(con, v: View) -> dict:
    first = v.start.replace(day=1)
    users, cohorts = one(con, "select sum(cohort_users), count(*) from marts.dm_cohort_retention "
                              "where cohort_type = 'signup' and period_number = 0 and cohort_month between ? and ?",
                         [first, v.end])  # fmt: skip
    active, base = one(
        con,
        "select sum(p1.active_users), sum(p0.cohort_users) from marts.dm_cohort_retention as p1 "
        "join marts.dm_cohort_retention as p0 on p0.cohort_type = p1.cohort_type "
        "and p0.cohort_month = p1.cohort_month and p0.period_number = 0 "
        "where p1.cohort_type = 'signup' and p1.period_number = 1 and p1.cohort_month between ? and ?",
        [first, v.end],
    )
    # The previous period of a cohort headline is the cohort months before: never in this shop's data.
    return {
        "Users in these cohorts": ("count", float(users), "no earlier data"),
        "Cohorts": ("count", float(cohorts), "no earlier data"),
        "Month-1 retention": ("rate", active / base if base else None, "no earlier data"),
    }


def expected_funnel(con, v: View) -> dict:
    sessions, cart, purchasing = one(
        con,
        "select sum(sessions) filter (where stage = 'view'), sum(sessions_reached) filter (where stage = 'cart'), "
        "sum(sessions_reached) filter (where stage = 'purchase') "
        f"from marts.dm_funnel_events where funnel_date between ? and ?{v.segment_sql()}",
        [v.start, v.end],
    )
    return {
        "Sessions": ("count", float(sessions)),
        "Purchasing sessions": ("count", float(purchasing)),
        "Session conversion": ("rate", purchasing / sessions),
        "Cart abandonment": ("rate", (cart - purchasing) / cart),
    }


def expected_traffic(con, v: View) -> dict:
    sessions, days = one(con, "select sum(sessions), count(distinct funnel_date) from marts.dm_funnel_events "
                              f"where stage = 'view' and funnel_date between ? and ?{v.segment_sql()}",
                         [v.start, v.end])  # fmt: skip
    weekday, hour = one(con, "select weekday, hour from marts.dm_traffic_hourly "
                             "order by average_sessions_per_day desc, weekday, hour limit 1")  # fmt: skip
    local = in_shop_time(weekday, hour)
    return {
        "Sessions": ("count", float(sessions)),
        "Sessions per day": ("count", float(sessions) / days),
        "Busiest hour (all history)": ("text", f"{local:%a} {local.hour:02d}:00", None),
    }


def in_shop_time(weekday: int, hour: int) -> dt.datetime:
    """A UTC weekday (1 = Monday) and hour of this shop's data in New York time (all of it under UTC-5)."""
    day = next(
        OPENING + dt.timedelta(days=i)
        for i in range(7)
        if (OPENING + dt.timedelta(days=i)).isoweekday() == weekday
    )
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).astimezone(
        ZoneInfo("America/New_York")
    )


def expected_rfm(con, v: View) -> dict:
    customers, segments, revenue, as_of = one(
        con,
        "select count(*), count(distinct segment_name), sum(monetary), max(as_of_date) from marts.dm_rfm_segments",
    )
    return {
        "Customers": ("count", float(customers), None),
        "Segments": ("count", float(segments), None),
        "Net revenue of these customers": ("money", float(revenue), None),
        "Scores as of": ("text", f"{as_of:%d %b %Y}", None),
    }


EXPECTED = {
    "kpis": (expected_kpis, 2),
    "categories": (expected_categories, 2),
    "cohorts": (expected_cohorts, 2),
    "funnel": (expected_funnel, 2),
    "traffic": (expected_traffic, 2),
    "rfm": (expected_rfm, 4),
}


def assert_headlines_fit(page, path: str) -> None:
    """No headline's label, value or change is cut short ("$5,499,48...")."""
    for part in ("stMetricLabel", "stMetricValue", "stMetricDelta"):
        for element in page.get_by_test_id(part).all():
            fits = element.evaluate("e => Array.from(e.querySelectorAll('*')).concat([e])"
                                    ".every(x => x.scrollWidth <= x.clientWidth + 1)")  # fmt: skip
            assert fits, (path, part, element.inner_text(), "truncated")


def check_headlines(page, path: str, con, view: View) -> None:
    """Every headline of the page against the marts, with its change against the previous period when the
    data holds that period in full."""
    expect, _ = EXPECTED[path]
    now = expect(con, view)
    before = expect(con, view.previous) if view.previous else {}
    shown = headlines(page)
    assert set(shown) == set(now), (path, sorted(shown), sorted(now))
    assert_headlines_fit(page, path)
    for label, (kind, value, *no_change) in now.items():
        text, delta = shown[label]
        if kind == "text":
            assert text == value, (path, label, text, value)
        elif value is None:
            assert text == "n/a", (path, label, text)
        else:
            assert_shows(f"{path}: {label}", text, value)
        if no_change == ["no earlier data"]:
            assert delta == "no earlier data", (path, label, delta)
        elif no_change or kind == "text":
            assert delta is None, (path, label, delta)  # a snapshot: no previous period to compare with
        elif value is not None:
            previous = before.get(label, (None, None))[1]
            assert_change(f"{path}: {label}", delta, value, previous, kind == "rate")


def check_every_page(page, url: str, settings: Settings, view: View) -> None:
    for path, title in TITLES.items():
        open_page(page, f"{url}/{path}{view.query()}", title, EXPECTED[path][1])
        with published_duckdb(settings) as con:
            check_headlines(page, path, con, view)


# ------------------------------------------------------------------------------------------------- tests


def test_every_headline_on_every_page_matches_the_marts(dashboard, page, settings):
    check_every_page(page, dashboard, settings, View(OPENING, LAST))


def test_filters_apply_on_every_page_or_say_why_not(dashboard, page, settings, filtered):
    """Under a date + channel + device filter each page's headlines (and their changes against the previous 14
    days) are the marts' numbers for that filter; a filter a page cannot use is disabled with its reason."""
    check_every_page(page, dashboard, settings, filtered)
    disabled = {"categories": ("segments",), "cohorts": ("segments",), "rfm": ("dates", "segments")}
    for path, title in TITLES.items():
        open_page(page, f"{dashboard}/{path}{filtered.query()}", title, EXPECTED[path][1])
        sidebar = page.get_by_test_id("stSidebar")
        channel = sidebar.get_by_test_id("stMultiSelect").filter(has_text="Channel")
        segments_off = "segments" in disabled.get(path, ())
        assert channel.locator("input").is_disabled() == segments_off, path
        if segments_off:
            assert sidebar.get_by_text("Channel and device do not apply here").is_visible(), path
        if "dates" in disabled.get(path, ()):
            assert sidebar.get_by_text("Dates do not apply here").is_visible(), path
    # The daily conversion chart on the KPI page follows the filter, like the headline.
    open_page(page, f"{dashboard}/kpis{filtered.query()}", "KPI overview", 2)
    conversion = chart(page, "Conversion and cart abandonment")
    line = next(t for t in conversion["traces"] if t["name"] == "Conversion")
    with published_duckdb(settings) as con:
        daily = con.execute(
            "select funnel_date, sum(sessions_reached) filter (where stage = 'purchase') / "
            "sum(sessions) filter (where stage = 'view') from marts.dm_funnel_events "
            f"where funnel_date between ? and ?{filtered.segment_sql()} group by 1 order by 1",
            [filtered.start, filtered.end],
        ).fetchall()
    assert [pd.Timestamp(x).date() for x in line["x"]] == [d for d, _ in daily]
    assert line["y"] == pytest.approx([r for _, r in daily], abs=1e-9)
    assert page.get_by_text("Revenue, orders and average order value stay shop-wide").is_visible()


def drawn_points(trace: dict) -> int:
    values = trace["x"] if trace["orientation"] == "h" else trace["y"]
    return sum(v is not None and v == v for v in (values or []))


def test_charts_and_headlines_are_readable(dashboard, page, settings):
    """Labels for people, no legend entry that draws nothing, whole headlines, colour scales and grids that fit
    their data, a few lines instead of a stacked area of every category, percentages in tables."""
    for path, title in TITLES.items():
        open_page(page, f"{dashboard}/{path}?range=all", title, EXPECTED[path][1])
        for c in charts(page):
            where = f"{path}: {c['title']}"
            for axis_title in (
                c["x_title"],
                c["y_title"],
                c["legend_title"],
                (c["color"] or {}).get("title", ""),
            ):
                assert not RAW_NAMES.search(axis_title or "x"), (where, axis_title)
            if c["traces"][0]["type"] != "funnel":  # a funnel names its stages and prints its values
                assert c["x_title"], where
            for trace in c["traces"]:
                if trace["showlegend"]:
                    assert not RAW_NAMES.search(trace["name"]), (where, trace["name"])
                    needed = 2 if trace["mode"] == "lines" else 1
                    assert drawn_points(trace) >= needed, (where, trace["name"], "draws nothing")
            assert len([t for t in c["traces"] if t["showlegend"]]) <= 8, (where, "too many series to read")
        grids = page.locator('[data-testid="stTable"], [data-testid="stDataFrame"]')
        if TABLES[path]:
            grids.nth(TABLES[path] - 1).wait_for(timeout=60_000)
        tables = grids.all()
        assert len(tables) == TABLES[path], (path, len(tables))
        for grid in tables:
            # What a reader (and a screen reader) gets from each cell: a grid's accessible cells hold its data.
            cells = [c.strip() for c in grid.locator("td, [role=gridcell]").all_inner_texts()]
            numbers = [c for c in cells if re.fullmatch(r"[-+$\d.,%]+", c) and re.search(r"\d", c)]
            raw = [c for c in numbers if not HUMAN_NUMBER.fullmatch(c)]
            assert numbers and not raw, (path, "numbers not formatted for people in a table", raw[:5])

        if path == "kpis":
            rates = chart(page, "Conversion and cart abandonment")["traces"]
            axes = {t["name"]: t["yaxis"] for t in rates}
            assert axes["Conversion"] != axes["Cart abandonment"], "a few percent flattened under 70-90%"
        if path == "cohorts":
            heat = chart(page, "Share of the cohort active")
            z = [v for row in heat["traces"][0]["z"] for v in row if v is not None]
            # Signup cohorts: the scale spans every cell shown, from 0.
            assert heat["color"]["cmin"] == 0 and heat["color"]["cmax"] == pytest.approx(max(z))
            assert min(z) >= 0
            lines = chart(page, "Cumulative revenue per user")
            assert lines["x_dtick"] == 1 and all(
                float(x).is_integer() for t in lines["traces"] for x in t["x"]
            )
        if path == "rfm":
            heat = chart(page, "recency and frequency")
            trace = heat["traces"][0]
            assert [str(x) for x in trace["x"]] == ["1", "2", "3", "4", "5"]
            assert [str(y) for y in trace["y"]] == ["5", "4", "3", "2", "1"]
            assert len(trace["z"]) == 5 and all(len(row) == 5 for row in trace["z"])
            with published_duckdb(settings) as con:
                assert sum(map(sum, trace["z"])) == one(con, "select count(*) from marts.dm_rfm_segments")[0]
        if path == "categories":
            lines = chart(page, "Revenue per day: top")
            assert len(lines["traces"]) <= 6 and all(t["type"] == "scatter" for t in lines["traces"])
            assert "Other categories" in [t["name"] for t in lines["traces"]]
            rows = table_rows(page.get_by_test_id("stTable").first)
            with published_duckdb(settings) as con:
                shares = con.execute(
                    "select category, sum(revenue), sum(revenue) / sum(sum(revenue)) over () "
                    "from marts.dm_category_performance group by category order by 2 desc, category"
                ).fetchall()
            assert [r["Category"] for r in rows] == [c for c, _, _ in shares]
            for row, (category, revenue, share) in zip(rows, shares, strict=True):
                assert row["Revenue ($)"] == f"${revenue:,.2f}", (category, row)
                assert row["Share of revenue"] == f"{share:.2%}", (category, row)


def sale_events_in(con, start: dt.date, end: dt.date) -> list[str]:
    rows = con.execute(
        "select promotion_name, min(kpi_date) from marts.dm_kpi_daily where promo_period = 'sale' "
        "and kpi_date between ? and ? group by promotion_name order by 2",
        [start, end],
    ).fetchall()
    return [f"{name.replace('_', ' ').title()} {first.year}" for name, first in rows]


def test_periods_drill_down_and_sale_events(dashboard, page, settings):
    """Headlines carry their change; charts go by day, week or month; a category on its own; each sale event by
    its name from the marts, on the KPI chart, in the events table and in the funnel comparison."""
    with published_duckdb(settings) as con:
        events = sale_events_in(con, OPENING, LAST)
        weekly = con.execute("select date_trunc('week', kpi_date), sum(revenue) from marts.dm_kpi_daily "
                             "group by 1 order by 1").fetchall()  # fmt: skip
    assert len(events) >= 2, events

    open_page(page, f"{dashboard}/kpis?range=all", "KPI overview", 2)
    revenue = chart(page, "Revenue per day")
    assert [t["name"] for t in revenue["traces"] if t["showlegend"]] == events
    table_text = page.get_by_test_id("stTable").first.inner_text()
    for event in events:
        assert event in table_text or page.get_by_text(event).count(), event

    page.get_by_test_id("stSidebar").get_by_role(
        "link", name="KPI overview"
    )  # the page list names every page
    page.get_by_text("Week", exact=True).first.click()
    wait_charts(page, 2, "Revenue per week")
    line = chart(page, "Revenue per week")["traces"][0]
    assert [pd.Timestamp(x).date() for x in line["x"]] == [pd.Timestamp(w).date() for w, _ in weekly]
    assert line["y"] == pytest.approx([float(r) for _, r in weekly], abs=0.005)

    # A category on its own: its headline is its revenue in the marts.
    open_page(page, f"{dashboard}/categories?range=all", "Category performance", 2)
    with published_duckdb(settings) as con:
        category, revenue_of = one(con, "select category, sum(revenue) from marts.dm_category_performance "
                                        "group by category order by sum(revenue) asc, category limit 1")  # fmt: skip
    page.get_by_test_id("stSelectbox").filter(has_text="Category").click()
    page.get_by_role("option", name=category, exact=True).click()
    wait_charts(page, 1, f"Revenue per day: {category}")
    assert_shows("category revenue", headlines(page)["Category revenue"][0], float(revenue_of))

    # A category's changes compare it with its own previous 14 days, not with the whole shop's.
    view = View(F_START, F_END)
    with published_duckdb(settings) as con:
        category = one(
            con,
            "select category from marts.dm_category_performance where performance_date between ? and ? "
            "group by category order by sum(revenue) desc, category limit 1",
            [view.previous.start, view.previous.end],
        )[0]
        now, before = expected_category(con, view, category), expected_category(con, view.previous, category)
    open_page(page, f"{dashboard}/categories{view.query()}", "Category performance", 2)
    page.get_by_test_id("stSelectbox").filter(has_text="Category").click()
    page.get_by_role("option", name=category, exact=True).click()
    wait_charts(page, 1, f"Revenue per day: {category}")
    shown = headlines(page)
    assert set(shown) == set(now), (sorted(shown), sorted(now))
    for label, (kind, value) in now.items():
        assert_shows(f"{category}: {label}", shown[label][0], value)
        assert_change(f"{category}: {label}", shown[label][1], value, before[label][1], kind == "rate")

    # The funnel around each sale event, picked by name.
    open_page(page, f"{dashboard}/funnel?range=all", "Funnel", 2)
    page.get_by_test_id("stSelectbox").filter(has_text="Sale event").click()
    offered = page.get_by_role("option").all_inner_texts()
    assert [o.strip() for o in offered] == events
    page.get_by_role("option", name=events[0], exact=True).click()
    wait_charts(page, 2, f"Step conversion: {events[0]}")
    bars = chart(page, f"Step conversion: {events[0]}")
    sale = next(t for t in bars["traces"] if t["name"] == "Sale days")
    name = events[0].rsplit(" ", 1)[0].lower().replace(" ", "_")
    with published_duckdb(settings) as con:
        expected = con.execute(
            "select f.stage, sum(f.sessions_reached) / sum(f.previous_stage_sessions) from marts.dm_funnel_events f "
            "join marts.dm_kpi_daily k on k.kpi_date = f.funnel_date where k.promotion_name = ? "
            "and k.promo_period = 'sale' group by f.stage, f.stage_number order by f.stage_number",
            [name],
        ).fetchall()
    assert list(sale["x"]) == [s.title() for s, _ in expected]
    assert sale["y"] == pytest.approx([r for _, r in expected], abs=1e-9)


def test_drill_down_by_region(dashboard, page, settings):
    """The RFM page for one region: its headlines, segments and the region breakdown are the marts' numbers
    (dm_rfm_segments joined to dm_user_purchase_summary's region)."""
    with published_duckdb(settings) as con:
        by_region = con.execute(
            "select region, count(*), sum(case when is_buyer then 1 else 0 end), sum(net_revenue) "
            "from marts.dm_user_purchase_summary group by region order by 4 desc, region"
        ).fetchall()
        region = by_region[1][0]  # the second largest: not what the page shows unfiltered
        in_region = "from marts.dm_rfm_segments r join marts.dm_user_purchase_summary u using (user_id) where u.region = ?"
        customers, segments, revenue, as_of = one(
            con,
            f"select count(*), count(distinct segment_name), sum(monetary), max(as_of_date) {in_region}",
            [region],
        )
        per_segment = dict(
            con.execute(
                f"select segment_name, count(*) {in_region} group by segment_name", [region]
            ).fetchall()
        )
    assert len(by_region) > 15, "a shop over more regions than the chart shows one by one"

    open_page(page, f"{dashboard}/rfm", "RFM segments", 4)
    bars = chart(page, "Net revenue per region")["traces"][0]
    shown = dict(zip(bars["y"], bars["x"], strict=True))
    assert list(shown)[::-1][:15] == [r for r, *_ in by_region[:15]]  # largest at the top
    for name, _, _, net in by_region[:15]:
        assert shown[name] == pytest.approx(float(net), abs=0.005), name
    rest = by_region[15:]
    assert shown[f"Other regions ({len(rest)})"] == pytest.approx(float(sum(n for *_, n in rest)), abs=0.005)
    row = next(r for r in table_rows(page.get_by_test_id("stTable").nth(1)) if r["Region"] == region)
    _, users, buyers, net = by_region[1]
    assert (row["Registered users"], row["Buyers"], row["Net revenue ($)"]) == (
        f"{users:,}",
        f"{buyers:,}",
        f"${net:,.2f}",
    )
    assert row["Share who bought"] == f"{buyers / users:.2%}"

    box = page.get_by_test_id("stSelectbox").filter(has_text="Region")
    box.click()
    page.keyboard.type(region)
    page.get_by_role("option", name=region, exact=True).click()
    wait_charts(page, 4, f"Customers per segment in {region}")
    got = headlines(page)
    assert_shows("region customers", got["Customers"][0], float(customers))
    assert_shows("region segments", got["Segments"][0], float(segments))
    assert_shows("region net revenue", got["Net revenue of these customers"][0], float(revenue))
    assert got["Scores as of"][0] == f"{as_of:%d %b %Y}"
    seg = chart(page, f"Customers per segment in {region}")["traces"][0]
    assert dict(zip(seg["y"], seg["x"], strict=True)) == per_segment
    heat = chart(page, f"recency and frequency score (5 = best) in {region}")["traces"][0]
    assert sum(map(sum, heat["z"])) == customers


def test_deep_links_and_csv_export(dashboard, page, settings, filtered):
    """Every page answers at its own address, with the filters in the link; a chart's CSV holds its numbers."""
    for path, title in TITLES.items():
        page.goto(f"{dashboard}/{path}")
        page.get_by_role("heading", name=title, exact=True).wait_for(timeout=180_000)
        assert page.get_by_text("Page not found").count() == 0, path
    # A link carries the filters, and changing a filter updates the address.
    open_page(page, f"{dashboard}/funnel{filtered.query()}", "Funnel", 2)
    chips = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Channel")
    assert filtered.channel.replace("_", " ").capitalize() in chips.inner_text()
    device = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Device")
    device.locator("input").click()
    page.keyboard.press("Backspace")  # removes the chosen device
    page.wait_for_function("() => !location.search.includes('device=')", timeout=180_000, polling=250)
    assert f"channel={filtered.channel}" in page.url

    # The CSV under the daily revenue chart is what the chart draws.
    open_page(page, f"{dashboard}/kpis", "KPI overview", 2)
    line = next(t for t in chart(page, "Revenue per day")["traces"] if t["name"] == "Revenue")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").first.click()
    exported = pd.read_csv(download.value.path())
    assert list(exported.columns[:3]) == ["Period", "Revenue ($)", "Orders"]
    assert [pd.Timestamp(x).date() for x in exported["Period"]] == [pd.Timestamp(x).date() for x in line["x"]]
    assert exported["Revenue ($)"].tolist() == pytest.approx(line["y"], abs=0.005)


def test_a_new_publish_shows_without_restart(marts_dir, browser, settings):
    with running_dashboard({"ECOM_DATA_DIR": str(marts_dir)}) as url:
        page = browser.new_page()
        try:
            open_page(page, f"{url}/kpis", "KPI overview", 2)
            state = read_json(settings.warehouse_dir / BUILD_STATE)
            write_json_atomic(
                settings.warehouse_dir / BUILD_STATE, {**state, "build_id": "republished-build"}
            )
            ecom("publish", data_dir=marts_dir)
            open_page(page, f"{url}/kpis", "KPI overview", 2)
            page.get_by_text("Build republished-build").wait_for(timeout=30_000)
        finally:
            page.close()


def test_every_headline_from_postgres(marts_dir, browser, bi_server, settings):
    ecom("serve", data_dir=marts_dir, env=bi_server.env_for(marts_dir))
    env = {"ECOM_DATA_DIR": str(marts_dir), "ECOM_DASHBOARD_DSN": bi_server.reader_url}
    with running_dashboard(env) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            check_every_page(page, url, settings, View(OPENING, LAST))
            assert page.get_by_text("PostgreSQL").count() >= 1
        finally:
            page.close()


def test_forecast_and_experiments_pages(dashboard, page, settings):
    """The Forecast page draws the history and the published forecast with both intervals, and its headline
    is the marts' 30-day sum; the Experiments page shows each readout's verdict and its SRM check as the mart
    holds them, with the lift drawn against zero; both offer their numbers as CSV."""
    with published_duckdb(settings) as con:
        ahead = con.execute(
            "select forecast_date, point_forecast, lower_95, upper_95 from marts.dm_revenue_forecast "
            "where metric = 'revenue' order by forecast_date"
        ).fetchall()
        history_days = one(con, "select count(*) from marts.dm_kpi_daily")[0]
        readouts = con.execute(
            "select experiment_id, verdict, is_srm_flagged, relative_lift from marts.dm_experiment_results "
            "where is_primary_metric order by experiment_id"
        ).fetchall()
    assert len(ahead) == 90  # 58 days of history: the baseline forecasts (no backtest before 65 days)
    open_page(page, f"{dashboard}/forecast", "Forecast", 1)
    shown = headlines(page)
    assert_shows("forecast: next 30 days", shown["Next 30 days"][0], sum(r[1] for r in ahead[:30]))
    assert shown["Model"][0] == "Same weekday last week (baseline)"
    drawn = chart(page, "history and the next 90 days")
    traces = {t["name"]: t for t in drawn["traces"]}
    assert len(traces["History"]["x"]) == history_days
    assert traces["Forecast"]["y"] == pytest.approx([r[1] for r in ahead], rel=1e-9)
    assert traces["95% interval"]["y"] == pytest.approx([r[2] for r in ahead], rel=1e-9)
    assert {"80% interval", "95% interval"} <= set(traces)
    assert drawn["x_title"] == "Day" and drawn["y_title"] == "Revenue ($)"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").first.click()
    exported = pd.read_csv(download.value.path())
    assert len(exported) == 90 and "Day" in exported.columns

    running = [r for r in readouts if r[3] is not None]
    open_page(page, f"{dashboard}/experiments", "Experiments", len(running))
    shown = headlines(page)
    assert shown["Experiments"][0] == str(len(readouts))
    assert shown["Sample-ratio mismatches"][0] == str(sum(r[2] for r in readouts))
    for experiment_id, verdict, _, _ in readouts:
        assert page.get_by_text(verdict, exact=False).first.is_visible(), (experiment_id, verdict)
    for experiment_id, _, _, lift in running:
        points = chart(page, f"{experiment_id}: lift against zero")["traces"][0]
        assert min(abs(x - lift) for x in points["x"]) <= 1e-9, (experiment_id, lift, points["x"])
    assert page.get_by_text("Sample-ratio check: p =").count() == len(running)


def test_customers_page_says_what_history_it_needs(dashboard, page, settings):
    """This shop's 58 days are fewer than the customer models train on: the Customers page draws no empty chart
    and no headline but says how many days training needs and how many the published marts hold; the number it
    uses is the training code's own."""
    from dashboard.views.customers import FEATURE_DAYS
    from pipeline.train import churn_horizon_days, needed_days
    from pipeline.train.models import MIN_FEATURE_DAYS

    assert FEATURE_DAYS == MIN_FEATURE_DAYS  # the dashboard's copy of the training code's constant
    horizon = churn_horizon_days(settings)
    needed = needed_days(horizon)
    with published_duckdb(settings) as con:
        scored = one(con, "select count(*) from marts.dm_customer_churn")[0]
        held, first, last = one(
            con,
            "select datediff('day', min(kpi_date), max(kpi_date)) + 1, min(kpi_date), max(kpi_date) "
            "from marts.dm_kpi_daily",
        )
    assert scored == 0 and held < needed, (scored, held, needed)
    page.goto(f"{dashboard}/customers")
    page.get_by_role("heading", name="Customers", exact=True).wait_for(timeout=180_000)
    message = page.get_by_text("No customer scores yet")
    message.wait_for(timeout=180_000)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=180_000)
    text = message.inner_text()
    assert f"train on {needed} days of history" in text, text
    assert f"churn horizon of {horizon} days after {MIN_FEATURE_DAYS} days of features" in text, text
    assert f"hold {held} days ({first:%d %b %Y} to {last:%d %b %Y})" in text, text
    assert f"{needed - held} more days" in text, text
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    nav = page.get_by_test_id("stSidebar").get_by_role("link", name="Customers", exact=True)
    nav.first.wait_for(timeout=60_000)  # the sidebar's navigation can render after the page's body
    assert nav.count() == 1
    assert "Dates do not apply here" in page.get_by_test_id("stSidebar").inner_text()


# ------------------------------------------------------------------ short, partial and relative periods


def sidebar_dates(page) -> str:
    """The range the sidebar's "Dates" shows."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Dates")
    return box.locator("input").input_value()


def test_pages_open_on_a_recent_period_against_the_one_before(dashboard, page, settings):
    """Without dates in the link a page shows the last 7 days of this 58-day shop against the 7 before, so its
    headlines carry changes; a relative range travels in the link by name and an explicit one stays as it is."""
    last_7 = View(LAST - dt.timedelta(days=6), LAST)
    open_page(page, f"{dashboard}/kpis", "KPI overview", 2)
    page.wait_for_function("() => location.search.includes('range=last-7')", timeout=60_000, polling=250)
    assert sidebar_dates(page) == "Last 7 days"
    assert page.get_by_test_id("stSidebar").get_by_text("25 Dec 2025 to 31 Dec 2025").is_visible()
    with published_duckdb(settings) as con:
        check_headlines(page, "kpis", con, last_7)
    assert "no earlier data" not in [change for _, change in headlines(page).values()]

    last_30 = View(LAST - dt.timedelta(days=29), LAST)
    open_page(page, f"{dashboard}/funnel?range=last-30", "Funnel", 2)
    assert sidebar_dates(page) == "Last 30 days" and "range=last-30" in page.url
    with published_duckdb(settings) as con:
        check_headlines(page, "funnel", con, last_30)
    open_page(page, f"{dashboard}/traffic?range=month-to-date", "Traffic", 2)
    assert page.get_by_test_id("stSidebar").get_by_text("01 Dec 2025 to 31 Dec 2025").is_visible()

    # Custom opens a date input on the dates shown, and the link then carries them.
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Dates").click()
    assert [o.strip() for o in page.get_by_role("option").all_inner_texts()] == [
        "Last 7 days", "Last 30 days", "Month to date", "Whole history", "Custom"
    ]  # fmt: skip
    page.get_by_role("option", name="Custom", exact=True).click()
    page.wait_for_function(
        "() => location.search.includes('start=2025-12-01&end=2025-12-31')", timeout=60_000
    )
    page.get_by_test_id("stSidebar").get_by_test_id("stDateInput").wait_for(timeout=60_000)
    # An explicit link is a custom range, as before.
    open_page(page, f"{dashboard}/kpis{View(F_START, F_END).query()}", "KPI overview", 2)
    assert sidebar_dates(page) == "Custom" and "range=" not in page.url


def test_one_or_two_periods_are_bars_from_zero_and_partial_periods_are_marked(dashboard, page, settings):
    """By month this shop has two periods (4 Nov to 31 Dec): bars from zero with one tick each, November lighter
    and labelled partial; by week the 6-day first and 3-day last weeks are open markers, named under the chart."""
    with published_duckdb(settings) as con:
        monthly = con.execute("select date_trunc('month', kpi_date), sum(revenue) from marts.dm_kpi_daily "
                              "group by 1 order by 1").fetchall()  # fmt: skip
        weeks = [w for (w,) in con.execute("select distinct date_trunc('week', kpi_date) from marts.dm_kpi_daily "
                                           "order by 1").fetchall()]  # fmt: skip
    open_page(page, f"{dashboard}/kpis?range=all", "KPI overview", 2)
    page.get_by_text("Month", exact=True).first.click()
    wait_charts(page, 2, "Revenue per month")
    revenue = chart(page, "Revenue per month")
    bars = revenue["traces"][0]
    assert bars["type"] == "bar" and bars["x"] == ["Nov 2025", "Dec 2025"] and revenue["x_type"] == "category"
    assert bars["y"] == pytest.approx([float(r) for _, r in monthly], abs=0.005)
    assert revenue["y_rangemode"] == "tozero"
    assert bars["opacity"] == [0.45, 1.0] and bars["text"] == ["partial: 27 of 30 days", ""]
    assert all(t["type"] == "bar" for t in chart(page, "Conversion and cart abandonment")["traces"])
    assert page.get_by_text("Partial months, marked on the chart: Nov 2025 (27 of 30 days)").is_visible()

    page.get_by_text("Week", exact=True).first.click()
    wait_charts(page, 2, "Revenue per week")
    revenue = chart(page, "Revenue per week")
    line = revenue["traces"][0]
    assert [pd.Timestamp(t).date() for t in revenue["x_tickvals"]] == [pd.Timestamp(w).date() for w in weeks]
    assert line["symbol"][0] == line["symbol"][-1] == "circle-open" and set(line["symbol"][1:-1]) == {
        "circle"
    }
    assert line["hover"][0] == "partial: 6 of 7 days" and line["hover"][-1] == "partial: 3 of 7 days"
    note = "Partial weeks, marked on the chart: week of 03 Nov 2025 (6 of 7 days), week of 29 Dec 2025 (3 of 7 days)"
    assert page.get_by_text(note).is_visible()

    open_page(page, f"{dashboard}/categories?range=all", "Category performance", 2)
    page.get_by_text("Month", exact=True).first.click()
    wait_charts(page, 2, "Revenue per month")
    by_month = chart(page, "Revenue per month")
    assert {t["type"] for t in by_month["traces"]} == {"bar"} and by_month["y_rangemode"] == "tozero"


def test_the_cohort_page_on_a_short_history_says_what_it_needs(dashboard, page):
    """The last 7 days hold one cohort month (December) with no month after it: month-1 retention is n/a with
    the reason (the dates picked, since November's cohort has one), and no one-dot cumulative revenue chart is
    drawn; with the whole history, month-1 retention shows."""
    open_page(page, f"{dashboard}/cohorts?range=last-7", "Cohort retention", 1)
    assert headlines(page)["Month-1 retention"][0] == "n/a"
    alerts = " ".join(page.get_by_test_id("stAlert").all_inner_texts())
    assert ("Month-1 retention needs a cohort with a month after it: the selected dates hold only Dec 2025, the "
            "newest month, which has none yet.") in alerts  # fmt: skip
    assert "Cumulative revenue per user needs a second month" in alerts
    assert [c["title"] for c in charts(page) if "Cumulative revenue" in c["title"]] == []
    open_page(page, f"{dashboard}/cohorts?range=all", "Cohort retention", 1)
    assert headlines(page)["Month-1 retention"][0] != "n/a"


def dbt_description(model: str, column: str) -> str:
    for path in (Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts").rglob("_*.yml"):
        for m in yaml.safe_load(path.read_text()).get("models") or []:
            if m["name"] == model:
                return next(" ".join(c["description"].split()) for c in m["columns"] if c["name"] == column)
    raise AssertionError(f"{model}.{column} is not documented")


def test_headline_help_defines_the_metric_then_the_comparison(dashboard, page):
    open_page(page, f"{dashboard}/funnel?range=last-7", "Funnel", 2)
    metric = page.get_by_test_id("stMetric").filter(has_text="Cart abandonment")
    metric.get_by_test_id("stTooltipHoverTarget").first.hover()
    tip = page.get_by_test_id("stTooltipContent").first
    tip.wait_for(timeout=30_000)
    text = tip.inner_text()
    assert text.startswith("Cart abandonment: " + dbt_description("dm_kpi_daily", "cart_abandonment_rate")), (
        text
    )
    assert "Change against the previous 7 days (18 Dec 2025 to 24 Dec 2025)." in text, text


def test_traffic_hours_are_in_the_shops_time_zone(dashboard, page, settings):
    """A US shop's weekday x hour grid in New York time: each cell is the mart's UTC cell five hours later
    (this shop's days are all under UTC-5), the axis says so, and the busiest hour is read there."""
    with published_duckdb(settings) as con:
        cells = con.execute(
            "select weekday, hour, average_sessions_per_day from marts.dm_traffic_hourly"
        ).fetchall()
    open_page(page, f"{dashboard}/traffic?range=all", "Traffic", 2)
    heat = chart(page, "weekday x hour")
    assert heat["x_title"] == "Hour (America/New York)"
    trace = heat["traces"][0]
    shown = {
        (wd, h): z
        for wd, row in zip(trace["y"], trace["z"], strict=True)
        for h, z in zip(trace["x"], row, strict=True)
    }
    for weekday, hour, average in cells:
        local = in_shop_time(weekday, hour)
        assert shown[(f"{local:%A}", local.hour)] == pytest.approx(float(average), abs=1e-9), (weekday, hour)
    with published_duckdb(settings) as con:
        check_headlines(page, "traffic", con, View(OPENING, LAST))


def test_cut_sale_events_and_a_missing_week_after_say_so(dashboard, page):
    """Dates that end on 29 Nov cut Black Friday-Cyber Monday (28 Nov to 1 Dec) after two of its four days: the
    events table, the chart's legend and a note say so. Year End runs to the data's last day: the funnel says it
    has no week after to compare yet instead of drawing nothing for it."""
    open_page(page, f"{dashboard}/kpis?start=2025-11-04&end=2025-11-29", "KPI overview", 2)
    row = next(
        r for r in table_rows(page.get_by_test_id("stTable").first) if r["Sale event"] == "Black Friday 2025"
    )
    assert row["Sale days shown"] == "2 of 4 days: the selected dates end on 29 Nov 2025"
    legend = [t["name"] for t in chart(page, "Revenue per day")["traces"] if t["showlegend"]]
    assert legend == ["Black Friday 2025 (2 of 4 days shown)"]
    assert page.get_by_text("Black Friday 2025: sale days shown 2 of 4 days").is_visible()

    open_page(page, f"{dashboard}/funnel?range=all", "Funnel", 2)
    wait_charts(page, 2, "Step conversion: Year End 2025")
    assert page.get_by_text("No week after to compare: the data ends on 31 Dec 2025.").is_visible()
    windows = [t["name"] for t in chart(page, "Step conversion: Year End 2025")["traces"]]
    assert windows == ["Regular days", "Week before", "Sale days"]
