"""Time shapes of the shop: growth, seasonality, weekdays and hours in local time, and each market's sales
calendar (sale events, holiday dips, category seasons, the gift-return season).

Every function here is a pure function of the calendar and the market, so any day can be generated alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

# Share of a shopper's sessions that start in each hour of *their local* day: a night trough, a lunch bump and
# an evening peak at 21:00 (mobile shopping after work).
LOCAL_HOUR_WEIGHTS = np.array(
    [2.0, 1.1, 0.6, 0.4, 0.3, 0.4, 0.8, 1.6, 2.6, 3.4, 4.0, 4.4,
     4.8, 4.6, 4.4, 4.4, 4.6, 5.0, 5.6, 6.4, 7.2, 7.4, 6.2, 3.8]
)  # fmt: skip
LOCAL_HOUR_WEIGHTS = LOCAL_HOUR_WEIGHTS / LOCAL_HOUR_WEIGHTS.sum()

# Monday .. Sunday traffic multipliers, in the shopper's local week.
WEEKDAY_MULTIPLIER = (0.96, 0.98, 1.0, 1.0, 1.02, 1.08, 1.12)

ANNUAL_GROWTH = 0.6  # traffic grows 60% a year
SEASONAL_AMPLITUDE = 0.12  # peaks in December, troughs in June
PROMO_WINDOW_DAYS = 7  # pre-sale and post-sale periods around each sale event


@dataclass(frozen=True)
class SaleEvent:
    name: str
    start: dt.date
    end: dt.date
    traffic_multiplier: float
    conversion_multiplier: float
    discount_rate: float


@dataclass(frozen=True)
class Holiday:
    """A day people shop less (they are with family or travelling): traffic is multiplied by `traffic`."""

    name: str
    day: dt.date
    traffic: float


# --------------------------------------------------------------------------------------------------------
# Sales calendars


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    return _nth_weekday(year, 11, 3, 4) + dt.timedelta(days=1)


def _days(start: dt.date, n: int) -> dt.date:
    return start + dt.timedelta(days=n - 1)


def _us_sales(year: int) -> list[SaleEvent]:
    bf = black_friday(year)
    summer = _nth_weekday(year, 7, 1, 2)  # a two-day mid-July event from the second Tuesday (Prime Day style)
    return [
        SaleEvent("summer_sale", summer, _days(summer, 2), 1.8, 1.20, 0.15),
        SaleEvent("black_friday", bf, _days(bf, 4), 2.3, 1.30, 0.20),  # Black Friday to Cyber Monday
        SaleEvent("year_end", dt.date(year, 12, 26), dt.date(year, 12, 31), 1.4, 1.10, 0.10),
    ]


def _kr_sales(year: int) -> list[SaleEvent]:
    bf = black_friday(year)
    return [
        # Family month: Children's Day (5 May) and Parents' Day gifts
        SaleEvent("family_month", dt.date(year, 5, 1), dt.date(year, 5, 5), 1.5, 1.15, 0.10),
        # 11.11, the biggest sale day of Korean marketplaces (11st, Gmarket, Coupang)
        SaleEvent("singles_day", dt.date(year, 11, 11), dt.date(year, 11, 11), 2.6, 1.35, 0.20),
        # Korea Sale Festa, the government-backed November sale, closes on the Black Friday weekend
        SaleEvent("korea_sale_festa", bf, _days(bf, 3), 1.7, 1.20, 0.15),
        SaleEvent("year_end", dt.date(year, 12, 26), dt.date(year, 12, 31), 1.3, 1.10, 0.10),
    ]


# Seollal (lunar new year) and Chuseok (harvest festival): the three-day holidays, by year (they follow the
# lunar calendar). Korean shoppers are with family: traffic dips, and deliveries pause.
KR_SEOLLAL = {
    2024: dt.date(2024, 2, 9), 2025: dt.date(2025, 1, 28), 2026: dt.date(2026, 2, 16),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 12),
    2030: dt.date(2030, 2, 2),
}  # fmt: skip
KR_CHUSEOK = {
    2024: dt.date(2024, 9, 16), 2025: dt.date(2025, 10, 5), 2026: dt.date(2026, 9, 24),
    2027: dt.date(2027, 9, 14), 2028: dt.date(2028, 10, 2), 2029: dt.date(2029, 9, 21),
    2030: dt.date(2030, 9, 11),
}  # fmt: skip


def _us_holidays(year: int) -> list[Holiday]:
    return [
        Holiday("independence_day", dt.date(year, 7, 4), 0.78),
        Holiday("christmas_eve", dt.date(year, 12, 24), 0.72),
        Holiday("christmas_day", dt.date(year, 12, 25), 0.58),
    ]


def _kr_holidays(year: int) -> list[Holiday]:
    out = []
    for name, table in (("seollal", KR_SEOLLAL), ("chuseok", KR_CHUSEOK)):
        if year in table:
            out += [Holiday(name, table[year] + dt.timedelta(days=i), (0.7, 0.55, 0.7)[i]) for i in range(3)]
    return out


SALES = {"us": _us_sales, "kr": _kr_sales}
HOLIDAYS = {"us": _us_holidays, "kr": _kr_holidays}


def sale_events(year: int, market: str = "us") -> list[SaleEvent]:
    return SALES[market](year)


@functools.lru_cache(maxsize=4096)
def sale_on(day: dt.date, market: str = "us") -> SaleEvent | None:
    for event in sale_events(day.year, market):
        if event.start <= day <= event.end:
            return event
    return None


@functools.lru_cache(maxsize=4096)
def holiday_on(day: dt.date, market: str = "us") -> Holiday | None:
    for holiday in HOLIDAYS[market](day.year):
        if holiday.day == day:
            return holiday
    return None


def promo_period(day: dt.date, market: str = "us") -> str:
    """`sale`, `pre_sale` (the week before a sale), `post_sale` (the week after) or `regular`."""
    if sale_on(day, market):
        return "sale"
    window = dt.timedelta(days=PROMO_WINDOW_DAYS)
    for year in (day.year - 1, day.year, day.year + 1):
        for event in sale_events(year, market):
            if event.start - window <= day < event.start:
                return "pre_sale"
    for year in (day.year - 1, day.year):
        for event in sale_events(year, market):
            if event.end < day <= event.end + window:
                return "post_sale"
    return "regular"


# --------------------------------------------------------------------------------------------------------
# Category seasons and gift returns

# category -> (amplitude, day of year of the peak) of an annual cosine on the category's share of intents.
CATEGORY_SEASONS = {
    "Outdoor": (0.45, 180),  # camping and hiking in summer
    "Fitness": (0.25, 10),  # new-year resolutions
    "Apparel": (0.15, 320),  # outerwear: jackets and sweaters before winter
    "Shoes": (0.08, 300),  # boots
    "Skincare": (0.10, 190),  # sunscreen
}
# category -> extra share of intents at the peak of the gift season (a bell around the market's main
# shopping weeks: Black Friday to mid-December in the US, 11.11 in Korea).
GIFT_CATEGORIES = {"Phones": 0.45, "Computers": 0.40, "Audio": 0.55, "Games": 0.60, "Decor": 0.25}
GIFT_SEASON_PEAK = {"us": (12, 6), "kr": (11, 18)}  # (month, day)
GIFT_SEASON_WIDTH_DAYS = 14.0

# Orders placed in the gift season of a market with gift returns come back more, after the holidays.
GIFT_ORDER_WINDOW = ((11, 28), (12, 24))  # placed from .. to (month, day), inclusive: 30 days reach 26 Dec
GIFT_RETURNS_FROM = (12, 26)  # gift returns happen from this day on (within the usual return horizon)
GIFT_RETURN_MULTIPLIER = 1.6


def category_seasonality(day: dt.date, categories: tuple[str, ...], market: str = "us") -> np.ndarray:
    """Multiplier of each category's share of the day's shopping intents (an annual cycle plus gift season)."""
    doy = day.timetuple().tm_yday
    month, mday = GIFT_SEASON_PEAK[market]
    peak = dt.date(day.year, month, mday)
    gift_distance = min(
        abs((day - peak.replace(year=y)).days) for y in (day.year - 1, day.year, day.year + 1)
    )
    gift = math.exp(-0.5 * (gift_distance / GIFT_SEASON_WIDTH_DAYS) ** 2)
    out = np.ones(len(categories))
    for i, name in enumerate(categories):
        amplitude, peak_doy = CATEGORY_SEASONS.get(name, (0.0, 0))
        out[i] = (1.0 + amplitude * math.cos(2 * math.pi * (doy - peak_doy) / 365.25)) * (
            1.0 + GIFT_CATEGORIES.get(name, 0.0) * gift
        )
    return out


def is_gift_order(placed: np.ndarray, market: str = "us") -> np.ndarray:
    """Whether orders placed on the days `placed` (numpy datetime64[D]) are gifts that come back after the
    holidays: only in markets with gift returns (see `markets.Market.gift_returns`)."""
    from generator.markets import market as market_of

    placed = np.asarray(placed, dtype="datetime64[D]")
    if not market_of(market).gift_returns or len(placed) == 0:
        return np.zeros(len(placed), dtype=bool)
    days, inverse = np.unique(placed, return_inverse=True)  # a few distinct days: decide once per day
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mday = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    key = month * 100 + mday
    (m0, d0), (m1, d1) = GIFT_ORDER_WINDOW
    return ((key >= m0 * 100 + d0) & (key <= m1 * 100 + d1))[inverse.ravel()]


def gift_return_earliest(placed: np.ndarray) -> np.ndarray:
    """The first day (numpy datetime64[D]) a gift order placed on `placed` can come back: 26 December."""
    placed = np.asarray(placed, dtype="datetime64[D]")
    month, mday = GIFT_RETURNS_FROM
    first_of_year = placed.astype("datetime64[Y]").astype("datetime64[M]")
    return (first_of_year + (month - 1)).astype("datetime64[D]") + (mday - 1)


def return_probability(category_rate: np.ndarray, gift: np.ndarray) -> np.ndarray:
    """P(returned | kept order) from its first line's category rate, raised for gift orders."""
    return np.minimum(np.asarray(category_rate) * np.where(gift, GIFT_RETURN_MULTIPLIER, 1.0), 0.95)


# --------------------------------------------------------------------------------------------------------
# Volumes and local time


def seasonality(day: dt.date) -> float:
    """Annual cycle: 1 + A*cos(2*pi*(doy - 350)/365.25), highest mid-December."""
    doy = day.timetuple().tm_yday
    return 1.0 + SEASONAL_AMPLITUDE * math.cos(2 * math.pi * (doy - 350) / 365.25)


def growth(day: dt.date, opening: dt.date) -> float:
    return (1.0 + ANNUAL_GROWTH) ** ((day - opening).days / 365.25)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)  # ZoneInfo's own cache keeps only a few zones: a market has more


@functools.lru_cache(maxsize=256)
def utc_hour_weights(day: dt.date, zones: tuple[str, ...]) -> np.ndarray:
    """(zones x 24) weights of the UTC hours of `day` for shoppers in each time zone: the local hour-of-day
    curve times the local weekday multiplier, at the zone's UTC offset of that hour (daylight saving included).

    A row sums to the zone's traffic factor of the UTC day (near its weekday multiplier); normalised, it is
    the distribution of a session's UTC start hour.
    """
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    offsets = tuple(
        (_zone(zone).utcoffset(midnight), _zone(zone).utcoffset(midnight + dt.timedelta(hours=23)))
        for zone in zones
    )
    # Without a daylight-saving change in any zone, the weights depend only on the weekday and the offsets.
    steady = all(first == last for first, last in offsets)
    key = (day.weekday(), zones, offsets)
    if steady and key in _STEADY_HOUR_WEIGHTS:
        return _STEADY_HOUR_WEIGHTS[key]
    hours = [midnight + dt.timedelta(hours=h) for h in range(24)]
    weekday = np.array(WEEKDAY_MULTIPLIER)
    out = np.empty((len(zones), 24))
    for z, zone in enumerate(zones):
        tz = _zone(zone)
        first, last = offsets[z]
        if first == last:  # no daylight-saving change that day: one offset for every hour
            local = midnight + first  # the local wall clock at UTC midnight
            hour = (local.hour + np.arange(24)) % 24
            day_shift = (local.hour + np.arange(24)) // 24
            out[z] = LOCAL_HOUR_WEIGHTS[hour] * weekday[(local.weekday() + day_shift) % 7]
            continue
        for h, at in enumerate(hours):
            local = at.astimezone(tz)
            out[z, h] = LOCAL_HOUR_WEIGHTS[local.hour] * WEEKDAY_MULTIPLIER[local.weekday()]
    out.flags.writeable = False
    if steady:
        _STEADY_HOUR_WEIGHTS[key] = out
    return out


_STEADY_HOUR_WEIGHTS: dict = {}  # (weekday, zones, UTC offsets) -> weights, for days without a DST change


@dataclass(frozen=True)
class DayShape:
    """Everything about a day that depends on the calendar and the market alone."""

    day: dt.date
    traffic_multiplier: float
    seasonality: float
    growth: float
    weekday: float  # the day's traffic factor from local weekdays (time zones weighted by their shoppers)
    sale: SaleEvent | None
    promo_period: str
    holiday: Holiday | None = None

    @property
    def conversion_multiplier(self) -> float:
        return self.sale.conversion_multiplier if self.sale else 1.0

    @property
    def discount_rate(self) -> float:
        return self.sale.discount_rate if self.sale else 0.0


def weekday_factor(day: dt.date, market: str = "us") -> float:
    """The UTC day's traffic factor from the local weekday of each shopper's time zone."""
    from generator.places import market_places

    places = market_places(market)
    rows = utc_hour_weights(day, places.zones).sum(axis=1)
    return float(places.zone_shares @ rows)


@functools.lru_cache(maxsize=4096)
def day_shape(day: dt.date, opening: dt.date, market: str = "us") -> DayShape:
    sale, holiday = sale_on(day, market), holiday_on(day, market)
    season, grow, weekday = seasonality(day), growth(day, opening), weekday_factor(day, market)
    traffic = season * grow * weekday * (sale.traffic_multiplier if sale else 1.0)
    traffic *= holiday.traffic if holiday else 1.0
    return DayShape(day, traffic, season, grow, weekday, sale, promo_period(day, market), holiday)
