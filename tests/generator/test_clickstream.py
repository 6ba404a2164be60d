"""The clickstream as a tracker records it: clicks and scrolls without product ids (their product is in the
event truth), the page of every event and the referrer it was reached from."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from generator.config import GeneratorConfig
from generator.day import generate_day
from generator.events import EXTERNAL_REFERRERS


@pytest.fixture(scope="module")
def day() -> dict[str, pd.DataFrame]:
    tables = generate_day(GeneratorConfig(scale="small"), dt.date(2025, 10, 14)).tables
    events = tables["user_events"].to_pandas().sort_values(["session_id", "sequence_number"])
    for column in events.select_dtypes("category"):  # dictionary columns: compare as plain strings
        events[column] = events[column].astype(object)
    return {"events": events.reset_index(drop=True), "truth": tables["event_truth"].to_pandas()}


def test_clicks_and_scrolls_carry_no_product_but_the_truth_knows_it(day):
    events, truth = day["events"], day["truth"]
    untagged = events["event_type"].isin(["click", "scroll"])
    assert untagged.sum() > 1000
    assert events.loc[untagged, "product_id"].isna().all()
    assert events.loc[events["event_type"].isin(["product_view", "add_to_cart"]), "product_id"].notna().all()
    assert set(truth["event_id"]) == set(events.loc[untagged, "event_id"])

    nxt = events.groupby("session_id").shift(-1)
    with_truth = events.assign(next_type=nxt["event_type"], next_product=nxt["product_id"]).merge(
        truth[["event_id", "product_id"]], on="event_id", suffixes=("", "_true")
    )
    clicks = with_truth[with_truth["event_type"] == "click"]
    # a click opens the product page of the product view that follows it, from the page before
    assert (clicks["next_type"] == "product_view").all()
    assert (clicks["next_product"] == clicks["product_id_true"]).all()
    assert not clicks["page"].str.startswith("/product/").all()  # mostly on listing pages
    scrolls = with_truth[with_truth["event_type"] == "scroll"]
    assert (scrolls["page"] == "/product/" + scrolls["product_id_true"].astype(str)).all()


def test_referrers_follow_the_pages(day):
    events = day["events"]
    first = events.groupby("session_id").head(1)
    for channel, rows in first.groupby("traffic_source"):
        expected = EXTERNAL_REFERRERS.get(channel)
        if expected is None:  # typed URLs and e-mail clients send no referrer
            assert rows["referrer"].isna().all(), channel
        else:
            assert (rows["referrer"] == expected).all(), channel
    previous_page = events.groupby("session_id")["page"].shift(1)
    moved = previous_page.notna() & (previous_page != events["page"])
    assert moved.sum() > 1000
    assert (events.loc[moved, "referrer"] == previous_page[moved]).all()
    # the cart add on a product page keeps that page's referrer (the page did not change)
    stayed = previous_page.notna() & ~moved
    prev_ref = events.groupby("session_id")["referrer"].shift(1)
    assert (events.loc[stayed, "referrer"].fillna("-") == prev_ref[stayed].fillna("-")).all()


def test_dwell_time_on_product_pages_emerges_from_the_events(day):
    """A page visit lasts from its first event to the next page's first event: always positive and, because
    scrolls and cart adds happen on the page in between, longer on product pages that were scrolled."""
    events = day["events"]
    navigated = events.groupby("session_id")["page"].shift(1) != events["page"]
    events = events.assign(visit=navigated.cumsum())
    visits = events.groupby("visit").agg(
        session_id=("session_id", "first"),
        page=("page", "first"),
        started_at=("event_at", "min"),
        scrolled=("event_type", lambda t: (t == "scroll").any()),
    )
    visits["left_at"] = visits.groupby("session_id")["started_at"].shift(-1)
    visits = visits.dropna(subset=["left_at"])
    dwell = (visits["left_at"] - visits["started_at"]).dt.total_seconds()
    assert (dwell > 0).all()
    product = visits["page"].str.startswith("/product/")
    assert dwell[product & visits["scrolled"]].median() > dwell[product & ~visits["scrolled"]].median()
