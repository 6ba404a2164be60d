"""Where a market's customers live: places with their first-level region (state, province) and time zone.

`us`: every US place Faker knows (its `land_coords`: 161 cities with coordinates and IANA time zone), one
weight each; Faker has no state, so the state is the nearest state centroid, corrected by hand for the border
towns where the nearest centroid is a neighbour's (checked one by one). `kr`: the 17 first-level divisions of
South Korea (provinces and metropolitan cities) at their main cities, weighted by population (Faker knows only
six Korean places, with broken names). A user's place is a pure function of (seed, user id): a hashed uniform
number picks it by weight, so a returning user is always in the same place with no state kept across days.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

# name, latitude, longitude of the geographic centre (approximate, to two decimals)
US_STATES = (
    ("Alabama", 32.79, -86.83),
    ("Alaska", 64.73, -152.28),
    ("Arizona", 34.29, -111.66),
    ("Arkansas", 34.90, -92.44),
    ("California", 37.18, -119.47),
    ("Colorado", 39.00, -105.55),
    ("Connecticut", 41.62, -72.73),
    ("Delaware", 38.99, -75.51),
    ("District of Columbia", 38.90, -77.02),
    ("Florida", 28.63, -82.45),
    ("Georgia", 32.64, -83.44),
    ("Hawaii", 20.29, -156.37),
    ("Idaho", 44.35, -114.61),
    ("Illinois", 40.04, -89.20),
    ("Indiana", 39.89, -86.28),
    ("Iowa", 42.08, -93.50),
    ("Kansas", 38.49, -98.38),
    ("Kentucky", 37.53, -85.30),
    ("Louisiana", 31.07, -91.99),
    ("Maine", 45.37, -69.24),
    ("Maryland", 39.06, -76.80),
    ("Massachusetts", 42.26, -71.81),
    ("Michigan", 44.35, -85.41),
    ("Minnesota", 46.28, -94.31),
    ("Mississippi", 32.74, -89.67),
    ("Missouri", 38.36, -92.46),
    ("Montana", 47.05, -109.63),
    ("Nebraska", 41.54, -99.80),
    ("Nevada", 39.33, -116.63),
    ("New Hampshire", 43.68, -71.58),
    ("New Jersey", 40.19, -74.67),
    ("New Mexico", 34.41, -106.11),
    ("New York", 42.95, -75.53),
    ("North Carolina", 35.56, -79.39),
    ("North Dakota", 47.45, -100.47),
    ("Ohio", 40.29, -82.79),
    ("Oklahoma", 35.59, -97.49),
    ("Oregon", 43.93, -120.56),
    ("Pennsylvania", 40.88, -77.80),
    ("Rhode Island", 41.68, -71.56),
    ("South Carolina", 33.92, -80.90),
    ("South Dakota", 44.44, -100.23),
    ("Tennessee", 35.86, -86.35),
    ("Texas", 31.48, -99.33),
    ("Utah", 39.31, -111.67),
    ("Vermont", 44.07, -72.67),
    ("Virginia", 37.52, -78.85),
    ("Washington", 47.38, -120.45),
    ("West Virginia", 38.64, -80.62),
    ("Wisconsin", 44.62, -89.99),
    ("Wyoming", 43.00, -107.55),
)

# Faker US places whose nearest state centroid is a neighbour's state.
US_STATE_OVERRIDES = {
    "Brighton Beach": "New York",
    "Brunswick": "Maine",
    "Canton": "Michigan",
    "Chillum": "Maryland",
    "Covington": "Kentucky",
    "Cypress Hills": "New York",
    "Far Rockaway": "New York",
    "Fort Washington": "Maryland",
    "Fresno": "Texas",
    "Front Royal": "Virginia",
    "Greenpoint": "New York",
    "Indio": "California",
    "Iron River": "Michigan",
    "Keene": "New Hampshire",
    "Kensington": "New York",
    "Longview": "Texas",
    "Martinsburg": "West Virginia",
    "Massapequa": "New York",
    "Morningside Heights": "New York",
    "Murray": "Kentucky",
    "Newburgh": "New York",
    "Pahrump": "Nevada",
    "Palm Desert": "California",
    "Port Richmond": "New York",
    "Pottstown": "Pennsylvania",
    "Redding": "California",
    "Scarsdale": "New York",
    "Sterling": "Virginia",
    "Taunton": "Massachusetts",
    "Tyler": "Texas",
    "West Chester": "Pennsylvania",
    "Yonkers": "New York",
}


def us_state(name: str, latitude: float, longitude: float) -> str:
    if name in US_STATE_OVERRIDES:
        return US_STATE_OVERRIDES[name]
    centres = np.array([(lat, lng) for _, lat, lng in US_STATES])
    scale = np.cos(np.radians(latitude))  # degrees of longitude shrink towards the poles
    d2 = (centres[:, 0] - latitude) ** 2 + ((centres[:, 1] - longitude) * scale) ** 2
    return US_STATES[int(np.argmin(d2))][0]


def region_of(place: tuple[str, str, str, str, str]) -> str:
    """Region of a Faker place `(latitude, longitude, name, country_code, time_zone)`."""
    lat, lng, name, country, zone = place
    if country == "US":
        return us_state(name, float(lat), float(lng))
    return zone.split("/")[-1].replace("_", " ")


# region, city, latitude, longitude, population in thousands (2023 estimates, rounded); all in Asia/Seoul.
# Gyeonggi, with a quarter of the country, is spread over its four largest cities.
KR_PLACES = (
    ("Seoul", "Seoul", 37.5665, 126.9780, 9400),
    ("Busan", "Busan", 35.1796, 129.0756, 3300),
    ("Daegu", "Daegu", 35.8714, 128.6014, 2370),
    ("Incheon", "Incheon", 37.4563, 126.7052, 3000),
    ("Gwangju", "Gwangju", 35.1595, 126.8526, 1420),
    ("Daejeon", "Daejeon", 36.3504, 127.3845, 1440),
    ("Ulsan", "Ulsan", 35.5384, 129.3114, 1100),
    ("Sejong", "Sejong", 36.4800, 127.2890, 390),
    ("Gyeonggi", "Suwon", 37.2636, 127.0286, 3400),
    ("Gyeonggi", "Goyang", 37.6584, 126.8320, 3400),
    ("Gyeonggi", "Yongin", 37.2411, 127.1776, 3400),
    ("Gyeonggi", "Seongnam", 37.4201, 127.1262, 3400),
    ("Gangwon", "Chuncheon", 37.8813, 127.7298, 1530),
    ("North Chungcheong", "Cheongju", 36.6424, 127.4890, 1590),
    ("South Chungcheong", "Cheonan", 36.8151, 127.1139, 2120),
    ("North Jeolla", "Jeonju", 35.8242, 127.1480, 1750),
    ("South Jeolla", "Suncheon", 34.9507, 127.4872, 1800),
    ("North Gyeongsang", "Pohang", 36.0190, 129.3435, 2550),
    ("South Gyeongsang", "Changwon", 35.2280, 128.6811, 3250),
    ("Jeju", "Jeju", 33.4996, 126.5312, 670),
)


@dataclass(frozen=True)
class Places:
    """A market's places, one entry each; users index into them."""

    city: tuple[str, ...]
    region: tuple[str, ...]
    country: str
    latitude: np.ndarray
    longitude: np.ndarray
    zone: np.ndarray  # per place: index into `zones`
    zones: tuple[str, ...]  # distinct IANA time zones, sorted
    cumulative: np.ndarray  # cumulative weights, ending at 1.0

    @property
    def zone_shares(self) -> np.ndarray:
        """Share of the market's users in each time zone."""
        weights = np.diff(np.concatenate([[0.0], self.cumulative]))
        return np.bincount(self.zone, weights=weights, minlength=len(self.zones))

    def pick(self, u: np.ndarray) -> np.ndarray:
        """Place index for uniform numbers `u` in [0, 1) (e.g. a hash of the user id)."""
        return np.searchsorted(self.cumulative, u, side="right").clip(0, len(self.city) - 1)


@functools.cache
def market_places(market: str) -> Places:
    if market == "us":
        from faker.providers.geo import Provider

        rows = sorted(p for p in Provider.land_coords if p[3] == "US")
        entries = [(region_of(p), p[2], float(p[0]), float(p[1]), p[4], 1.0) for p in rows]
        country = "US"
    elif market == "kr":
        entries = [(r, c, lat, lng, "Asia/Seoul", float(w)) for r, c, lat, lng, w in KR_PLACES]
        country = "KR"
    else:
        raise KeyError(market)
    zones = tuple(sorted({e[4] for e in entries}))
    weights = np.array([e[5] for e in entries])
    cumulative = np.cumsum(weights) / weights.sum()
    cumulative[-1] = 1.0
    return Places(
        city=tuple(e[1] for e in entries),
        region=tuple(e[0] for e in entries),
        country=country,
        latitude=np.array([e[2] for e in entries]),
        longitude=np.array([e[3] for e in entries]),
        zone=np.array([zones.index(e[4]) for e in entries], dtype=np.int32),
        zones=zones,
        cumulative=cumulative,
    )


@functools.cache
def coded(values: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray]:
    """(distinct values, code per entry) of a tuple of strings, for dictionary-encoded columns."""
    distinct, codes = np.unique(np.array(values, dtype=object), return_inverse=True)
    return tuple(distinct.tolist()), codes.astype(np.int32)
