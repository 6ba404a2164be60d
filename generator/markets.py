"""Markets: where the shop trades. A market bundles the Faker locale of its customers' names, its regions and
their time zones, its currency and its sales calendar (sale events, holiday dips, gift-return season).

Changing the market changes every day's data, so it is part of what a lake was generated with (`_lake.json`).
The sales calendar itself lives in `generator/calendar.py`; the places in `generator/places.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Market:
    code: str
    name: str
    locale: str  # Faker locale of customers' names (the `locale` setting overrides it)
    country: str  # ISO 3166 code of the users' country
    currency: str  # ISO 4217 code of every amount in the lake
    # Whether orders placed in the gift season are returned more, after the holidays (January returns surge).
    gift_returns: bool
    # The shop's own time zone (its head office): where the dashboard reads hours of the day. Customers keep
    # their own zones (generator/places.py).
    time_zone: str


MARKETS: dict[str, Market] = {
    m.code: m
    for m in (
        Market("us", "United States", "en_US", "US", "USD", gift_returns=True, time_zone="America/New_York"),
        Market("kr", "South Korea", "ko_KR", "KR", "KRW", gift_returns=False, time_zone="Asia/Seoul"),
    )
}
DEFAULT_MARKET = "us"


def market(code: str) -> Market:
    return MARKETS[code]
