"""The e-commerce marts dashboard: `make dashboard`, or `streamlit run dashboard/app.py`.

Reads the published DuckDB file read-only (open, query, close per request), or PostgreSQL when
ECOM_DASHBOARD_DSN holds a connection URL such as the bi_reader one `ecom serve` prints. Query results are cached
per published build, so a new publish shows up at the next page load, without a restart.

Every page has its own address (`/kpis`, `/funnel`, ...) and the filters travel in the query string
(`/funnel?start=2025-11-01&end=2025-11-30&channel=email`), so a link opens the same view. A relative range
travels by name (`/kpis?range=last-7`) and is recomputed against the newest published day at each load, so a link
or a tab left open follows new days. Without dates in the link a page opens on a recent period (see
`filters.default_range`), so its headlines compare it with the period before.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # `streamlit run` puts only dashboard/ on the path

import streamlit as st

from dashboard.filters import RANGES, Filters, default_range, resolve_range
from dashboard.marts import date_bounds, load, publication, segments
from dashboard.ui import humanize
from dashboard.views import categories, cohorts, customers, experiments, forecast, funnel, kpis, rfm, traffic
from generator.config import ConfigError
from pipeline.read import PublishRefused
from pipeline.settings import Settings


@dataclass(frozen=True)
class Scope:
    """Which sidebar filters a page uses; a reason (shown under the disabled filter) for each it cannot use."""

    dates: str | None = None
    segments: str | None = None


PAGES = {
    "kpis": (kpis.page, "KPI overview", Scope()),
    "categories": (
        categories.page,
        "Category performance",
        Scope(segments="Category performance is not split by channel or device in the marts."),
    ),
    "cohorts": (
        cohorts.page,
        "Cohort retention",
        Scope(segments="Cohorts are not split by channel or device in the marts."),
    ),
    "funnel": (funnel.page, "Funnel", Scope()),
    "traffic": (traffic.page, "Traffic", Scope()),
    "rfm": (
        rfm.page,
        "RFM segments",
        Scope(
            dates="RFM scores cover the whole history, as of the last order day.",
            segments="RFM segments are not split by channel or device in the marts.",
        ),
    ),
    "customers": (
        customers.page,
        "Customers",
        Scope(
            dates="Scores are as of the last published day.",
            segments="Customers are scored as a whole base, not by session channel or device.",
        ),
    ),
    "forecast": (
        forecast.page,
        "Forecast",
        Scope(dates="The forecast uses the whole history.", segments="The forecast is of the whole shop."),
    ),
    "experiments": (
        experiments.page,
        "Experiments",
        Scope(
            dates="Each readout covers its whole experiment.", segments="Readouts are of whole experiments."
        ),
    ),
}


def _parse_day(text: str | None, default: dt.date, first: dt.date, last: dt.date) -> dt.date:
    try:
        return min(max(dt.date.fromisoformat(text), first), last) if text else default
    except ValueError:
        return default


def init_from_link(first: dt.date, last: dt.date, channels: list[str], devices: list[str]) -> None:
    """On a session's first run, take the filters from the query string (a shared link), else the defaults:
    `?range=last-7` names a relative range; `?start=&end=` fixed dates (a custom range)."""
    if "dates" in st.session_state:
        return
    params = st.query_params
    named = params.get("range")
    if named in RANGES and named != "custom":
        st.session_state.dates = named
    elif params.get("start") or params.get("end"):
        start = _parse_day(params.get("start"), first, first, last)
        end = _parse_day(params.get("end"), last, first, last)
        st.session_state.dates = "custom"
        st.session_state.range = (start, end) if start <= end else (first, last)
    else:
        st.session_state.dates = default_range(first, last)
    st.session_state.channels = [c for c in params.get_all("channel") if c in channels]
    st.session_state.devices = [d for d in params.get_all("device") if d in devices]


def pick_dates(first: dt.date, last: dt.date, reason: str | None) -> tuple[str, dt.date, dt.date]:
    """The sidebar's "Dates": a relative range (its dates written under it) or, for Custom, a date input that
    opens on the dates shown last."""
    preset = st.selectbox(
        "Dates", list(RANGES), key="dates", format_func=RANGES.get, disabled=reason is not None, help=reason
    )
    if preset != "custom":
        start, end = resolve_range(preset, first, last)
        st.caption(f"{start:%d %b %Y} to {end:%d %b %Y}")
    else:
        if "range" not in st.session_state:  # a date input not drawn on the last run loses its value
            st.session_state.range = st.session_state.get("shown_range", (first, last))
        picked = st.date_input(
            "Date range", min_value=first, max_value=last, key="range", disabled=reason is not None
        )
        start, end = (picked[0], picked[1]) if len(picked) == 2 else (picked[0], picked[0])
    st.session_state.shown_range = (start, end)
    return preset, start, end


def sidebar(settings: Settings, scope: Scope) -> Filters:
    first, last = load(date_bounds)
    st.session_state.first_day, st.session_state.last_day = first, last
    channels, devices = load(segments)
    init_from_link(first, last, channels, devices)
    with st.sidebar:
        preset, start, end = pick_dates(first, last, scope.dates)
        if scope.dates:
            st.caption(f"Dates do not apply here: {scope.dates}")
        chosen_channels = st.multiselect(
            "Channel",
            channels,
            key="channels",
            placeholder="All channels",
            format_func=humanize,
            disabled=scope.segments is not None,
            help=scope.segments,
        )
        chosen_devices = st.multiselect(
            "Device",
            devices,
            key="devices",
            placeholder="All devices",
            format_func=humanize,
            disabled=scope.segments is not None,
            help=scope.segments,
        )
        if scope.segments:
            st.caption(f"Channel and device do not apply here: {scope.segments}")
        source = "PostgreSQL" if settings.dashboard_dsn else f"DuckDB {settings.publish_db.name}"
        pub = st.session_state.publication
        st.caption(f"Build {pub.get('build_id')}, published {pub.get('published_at')} · {source}")
    dates = {"range": preset} if preset != "custom" else {"start": start.isoformat(), "end": end.isoformat()}
    st.query_params.from_dict({**dates, "channel": chosen_channels, "device": chosen_devices})
    return Filters(start, end, tuple(chosen_channels), tuple(chosen_devices))


def main() -> None:
    st.set_page_config(page_title="E-commerce marts", layout="wide")
    pages = {path: st.Page(fn, title=title, url_path=path) for path, (fn, title, _) in PAGES.items()}
    # Streamlit serves its default page at "/" only: a page of its own that forwards there keeps "/kpis" a link.
    home = st.Page(
        lambda: st.switch_page(pages["kpis"]), title="E-commerce marts", url_path="home", default=True
    )
    nav = st.navigation([home, *pages.values()], position="hidden")
    scope = next((s for _, title, s in PAGES.values() if title == nav.title), Scope())
    with st.sidebar:
        for page in pages.values():
            st.page_link(page)
    try:
        settings = Settings.load()
        st.session_state.settings = settings
        pub = publication(settings)
        st.session_state.publication = pub
        st.session_state.build_key = (
            f"{settings.dashboard_dsn or settings.publish_db}|{pub.get('build_id')}|"
            + str(pub.get("published_at"))
        )
        st.session_state.filters = sidebar(settings, scope)
    except (ConfigError, OSError, PublishRefused) as exc:  # bad settings, or nothing published yet
        st.error(f"No marts to show: {exc}")
        st.stop()
    nav.run()


main()
