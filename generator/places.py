"""First-level regions for the places Faker knows: US states from coordinates.

Faker's `local_latlng` gives a place's coordinates, name, country and IANA time zone, but no state or province.
For the United States the state is the nearest state centroid, corrected by hand for the border towns of
Faker's US place list where the nearest centroid is a neighbour's (checked one by one). Elsewhere the region
is the time zone's location name, which is only a rough proxy (documented in generator/README.md).
"""

from __future__ import annotations

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
