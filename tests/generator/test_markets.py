"""Markets: each market's sales calendar, places and time zones show in the data, and a lake keeps its market."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from generator import behaviour as m
from generator.calendar import category_seasonality, day_shape, holiday_on, sale_events, sale_on
from generator.config import ConfigError, GeneratorConfig
from generator.day import generate_day
from generator.lake import prepare_lake
from generator.markets import MARKETS
from generator.orders import order_fates
from generator.plan import session_plan
from generator.streams import ORDER_ID_STRIDE, day_key
from tests.support.ecom import ecom

SEED_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "promotions.csv"
OPENING = dt.date(2025, 9, 1)


def test_promotions_seed_is_the_generators_calendar():
    with SEED_FILE.open() as f:
        rows = {
            (r["market"], r["promotion_name"], r["start_date"], r["end_date"], r["discount_rate"])
            for r in csv.DictReader(f)
        }
    expected = {
        (market, e.name, e.start.isoformat(), e.end.isoformat(), f"{e.discount_rate:.2f}")
        for market in MARKETS
        for year in range(2024, 2031)
        for e in sale_events(year, market)
    }
    assert rows == expected


def test_each_market_has_its_own_sale_days_and_dips():
    # 11.11 is a Korean sale day, not an American one; Black Friday to Cyber Monday is the US peak.
    assert sale_on(dt.date(2025, 11, 11), "us") is None
    assert sale_on(dt.date(2025, 11, 11), "kr").name == "singles_day"
    assert [sale_on(dt.date(2025, 11, d), "us").name for d in (28, 29, 30)] == ["black_friday"] * 3
    assert sale_on(dt.date(2025, 12, 1), "us").name == "black_friday"  # Cyber Monday
    assert sale_on(dt.date(2025, 7, 8), "us").name == "summer_sale"
    us = {d: day_shape(dt.date(2025, 12, d), OPENING, "us").traffic_multiplier for d in (17, 24, 25)}
    assert us[25] < us[24] < us[17]  # Christmas Eve and Day dip
    assert day_shape(dt.date(2026, 7, 4), OPENING, "us").holiday.name == "independence_day"
    # Chuseok 2025 (5-7 October): Korean traffic dips below the week before, US traffic does not
    kr_dip = day_shape(dt.date(2025, 10, 6), OPENING, "kr").traffic_multiplier
    kr_before = day_shape(dt.date(2025, 9, 29), OPENING, "kr").traffic_multiplier
    assert kr_dip < 0.7 * kr_before
    assert holiday_on(dt.date(2025, 10, 6), "us") is None


def test_answer_key_records_the_markets_sale_days():
    day = dt.date(2025, 11, 11)
    us = generate_day(GeneratorConfig(scale="tiny", market="us"), day).tables["answer_key"]
    kr = generate_day(GeneratorConfig(scale="tiny", market="kr"), day).tables["answer_key"]
    assert us["is_sale_day"][0].as_py() is False
    assert kr["sale_name"][0].as_py() == "singles_day"
    assert kr["traffic_multiplier"][0].as_py() > 2 * us["traffic_multiplier"][0].as_py()


def test_places_and_time_zones_of_each_market():
    day = dt.date(2025, 10, 14)
    us = generate_day(GeneratorConfig(scale="small", market="us"), day).tables
    kr = generate_day(GeneratorConfig(scale="tiny", market="kr"), day).tables
    us_zones = set(us["user_events"]["time_zone"].to_pylist())
    assert {"America/New_York", "America/Chicago", "America/Los_Angeles"} <= us_zones
    assert set(us["users"]["country"].to_pylist()) == {"US"}
    assert {"California", "Texas", "New York"} <= set(us["users"]["region"].to_pylist())
    assert set(kr["user_events"]["time_zone"].to_pylist()) == {"Asia/Seoul"}
    assert set(kr["users"]["country"].to_pylist()) == {"KR"}
    assert {"Seoul", "Gyeonggi", "Busan"} <= set(kr["users"]["region"].to_pylist())


def _local_start_hours(events: pa.Table) -> np.ndarray:
    df = events.select(["session_id", "event_at", "time_zone"]).to_pandas()
    first = df.groupby("session_id").first()
    hours = np.empty(len(first), dtype=np.int64)
    for zone, rows in first.groupby("time_zone"):
        local = rows["event_at"].dt.tz_localize("UTC").dt.tz_convert(zone)
        hours[first.index.get_indexer(rows.index)] = local.dt.hour.to_numpy()
    return hours


def test_us_shoppers_are_busiest_in_their_evening():
    """Session starts per local hour over a week at `small` (about 30k sessions): the busiest local hour is in
    the evening (18:00-22:59). The UTC busiest hour is then after midnight UTC, as real US shops see."""
    cfg = GeneratorConfig(scale="small", market="us")
    hours = np.concatenate(
        [
            _local_start_hours(generate_day(cfg, dt.date(2025, 10, d)).tables["user_events"])
            for d in (13, 15, 18)
        ]
    )
    counts = np.bincount(hours, minlength=24)
    assert 18 <= int(np.argmax(counts)) <= 22
    assert counts[20] > 3 * counts[4]  # the night trough


def test_a_returning_users_place_never_changes():
    """A user's region in the clickstream on any later day is the one they signed up with."""
    cfg = GeneratorConfig(scale="small", market="us")
    signups = [generate_day(cfg, OPENING + dt.timedelta(days=i)).tables["users"] for i in range(2)]
    region_of = dict(
        zip(
            pa.concat_tables(signups)["user_id"].to_pylist(),
            pa.concat_tables(signups)["region"].to_pylist(),
            strict=True,
        )
    )
    later = generate_day(cfg, dt.date(2025, 9, 5)).tables["user_events"].to_pandas()
    seen = later[later["user_id"].isin(region_of)].drop_duplicates("user_id")
    assert len(seen) >= 30
    assert (seen["user_id"].map(region_of) == seen["region"]).all()


def test_category_seasons():
    names = tuple(c[1] for c in m.CATEGORIES)
    july = dict(zip(names, category_seasonality(dt.date(2025, 7, 10), names, "us"), strict=True))
    january = dict(zip(names, category_seasonality(dt.date(2026, 1, 20), names, "us"), strict=True))
    december = dict(zip(names, category_seasonality(dt.date(2025, 12, 5), names, "us"), strict=True))
    assert july["Outdoor"] > 1.3 * january["Outdoor"]
    assert december["Audio"] > 1.3 * july["Audio"] and december["Apparel"] > july["Apparel"]
    # and the plan follows: Outdoor's share of intents is larger on a July day than on a January day
    cfg = GeneratorConfig(scale="small", opening_date=dt.date(2025, 6, 1))
    outdoor = names.index("Outdoor")
    share = {
        d: float((session_plan(cfg, d).intent == outdoor).mean())
        for d in (dt.date(2025, 7, 10), dt.date(2026, 1, 20))
    }
    assert share[dt.date(2025, 7, 10)] > 1.2 * share[dt.date(2026, 1, 20)]


def test_gift_orders_come_back_after_the_holidays_in_the_us():
    """50k synthetic apparel orders per day: US gifts placed from 28 Nov to 24 Dec return 1.6x as often, never
    before 26 December; Korean orders of the same days keep the base rate (binomial sd ~0.2 points)."""
    apparel = [c[1] for c in m.CATEGORIES].index("Apparel")
    base = m.CATEGORY_RETURN[apparel] * (1 - m.CANCEL_PROBABILITY)
    for placed, gift in ((dt.date(2025, 12, 10), True), (dt.date(2025, 10, 10), False)):
        ids = day_key(placed) * ORDER_ID_STRIDE + 1 + np.arange(50_000, dtype=np.int64)
        category = np.full(len(ids), apparel, dtype=np.int8)
        for market, boosted in (("us", gift), ("kr", False)):
            status, delay = order_fates(GeneratorConfig(market=market), ids, category)
            rate = float((status == 2).mean())
            want = base * (1.6 if boosted else 1.0)
            assert abs(rate - want) < 0.01, (market, placed, rate, want)
            returned_on = np.datetime64(placed) + delay[status == 2]
            if boosted:
                assert returned_on.min() >= np.datetime64("2025-12-26")
                assert (returned_on >= np.datetime64("2026-01-01")).mean() > 0.5  # the January surge


def test_unknown_market_is_refused():
    with pytest.raises(ConfigError, match="unknown market 'fr'"):
        GeneratorConfig(market="fr")


def test_a_lake_keeps_its_market(tmp_path):
    prepare_lake(tmp_path / "lake", GeneratorConfig(scale="tiny", market="kr"))
    with pytest.raises(ConfigError, match=r"market='kr' \(asked 'us'\)"):
        prepare_lake(tmp_path / "lake", GeneratorConfig(scale="tiny", market="us"))


def test_cli_refuses_another_market_in_one_line(tmp_path):
    ecom(
        "generate",
        "--scale",
        "tiny",
        "--market",
        "kr",
        "--start",
        "2025-09-01",
        "--end",
        "2025-09-01",
        data_dir=tmp_path,
    )
    before = sorted(p.name for p in (tmp_path / "lake").rglob("*"))
    for args, env in ((("--market", "us"), {}), ((), {"ECOM_MARKET": "us"})):
        proc = ecom(
            "generate", "--scale", "tiny", *args, "--start", "2025-09-02", "--end", "2025-09-02",
            data_dir=tmp_path, env=env, check=False,
        )  # fmt: skip
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and "market='kr' (asked 'us')" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "lake").rglob("*")) == before
    proc = ecom(
        "generate",
        "--market",
        "fr",
        "--start",
        "2025-09-01",
        "--end",
        "2025-09-01",
        data_dir=tmp_path,
        check=False,
    )
    assert proc.returncode == 2 and "fr" in proc.stderr and "Traceback" not in proc.stderr
