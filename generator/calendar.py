"""Time shapes of the shop: growth, seasonality, weekdays, hours of the day, and sale events.

Every function here is a pure function of the calendar, so any day can be generated alone.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

# Share of the day's sessions that start in each UTC hour: a night trough and an evening peak.
HOUR_WEIGHTS = np.array(
    [1.2, 0.8, 0.5, 0.4, 0.4, 0.6, 1.2, 2.2, 3.4, 4.2, 4.6, 4.9,
     5.3, 5.2, 5.0, 5.0, 5.2, 5.6, 6.3, 7.0, 7.4, 6.8, 4.6, 2.3]
)  # fmt: skip
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()

# Monday .. Sunday traffic multipliers.
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


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    first_thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + dt.timedelta(days=22)


def sale_events(year: int) -> list[SaleEvent]:
    bf = black_friday(year)
    return [
        SaleEvent("singles_day", dt.date(year, 11, 11), dt.date(year, 11, 11), 2.6, 1.35, 0.20),
        SaleEvent("black_friday", bf, bf + dt.timedelta(days=3), 2.1, 1.30, 0.15),
        SaleEvent("year_end", dt.date(year, 12, 26), dt.date(year, 12, 31), 1.5, 1.15, 0.10),
    ]


def sale_on(day: dt.date) -> SaleEvent | None:
    for event in sale_events(day.year):
        if event.start <= day <= event.end:
            return event
    return None


def promo_period(day: dt.date) -> str:
    """`sale`, `pre_sale` (the week before a sale), `post_sale` (the week after) or `regular`."""
    if sale_on(day):
        return "sale"
    window = dt.timedelta(days=PROMO_WINDOW_DAYS)
    for year in (day.year - 1, day.year, day.year + 1):
        for event in sale_events(year):
            if event.start - window <= day < event.start:
                return "pre_sale"
    for year in (day.year - 1, day.year):
        for event in sale_events(year):
            if event.end < day <= event.end + window:
                return "post_sale"
    return "regular"


def seasonality(day: dt.date) -> float:
    """Annual cycle: 1 + A*cos(2*pi*(doy - 350)/365.25), highest mid-December."""
    doy = day.timetuple().tm_yday
    return 1.0 + SEASONAL_AMPLITUDE * math.cos(2 * math.pi * (doy - 350) / 365.25)


def growth(day: dt.date, opening: dt.date) -> float:
    return (1.0 + ANNUAL_GROWTH) ** ((day - opening).days / 365.25)


@dataclass(frozen=True)
class DayShape:
    """Everything about a day that depends on the calendar alone."""

    day: dt.date
    traffic_multiplier: float
    seasonality: float
    growth: float
    weekday: float
    sale: SaleEvent | None
    promo_period: str

    @property
    def conversion_multiplier(self) -> float:
        return self.sale.conversion_multiplier if self.sale else 1.0

    @property
    def discount_rate(self) -> float:
        return self.sale.discount_rate if self.sale else 0.0


def day_shape(day: dt.date, opening: dt.date) -> DayShape:
    sale = sale_on(day)
    season, grow, weekday = seasonality(day), growth(day, opening), WEEKDAY_MULTIPLIER[day.weekday()]
    traffic = season * grow * weekday * (sale.traffic_multiplier if sale else 1.0)
    return DayShape(day, traffic, season, grow, weekday, sale, promo_period(day))
