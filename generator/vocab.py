"""Vocabulary pools built with Faker: names, places and brands.

Faker is seeded per instance and only fills these small pools; bulk columns index into them with numpy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from generator.model import CATEGORIES

POOL_SIZE = 1000
PLACE_POOL_SIZE = 400
BRANDS_PER_CATEGORY = 12
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "shop.example")


@dataclass(frozen=True)
class Vocabulary:
    first_names_female: np.ndarray
    first_names_male: np.ndarray
    last_names: np.ndarray
    cities: np.ndarray
    regions: np.ndarray
    countries: np.ndarray
    latitudes: np.ndarray
    longitudes: np.ndarray
    brands: tuple[np.ndarray, ...]  # one pool per category
    adjectives: np.ndarray


def _unique(values: list[str]) -> np.ndarray:
    return np.array(sorted(set(values)), dtype=object)


@functools.lru_cache(maxsize=8)
def vocabulary(seed: int, locale: str) -> Vocabulary:
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    female = _unique([fake.first_name_female() for _ in range(POOL_SIZE)])
    male = _unique([fake.first_name_male() for _ in range(POOL_SIZE)])
    last = _unique([fake.last_name() for _ in range(POOL_SIZE)])

    country_code = locale.split("_")[-1] if "_" in locale else "US"
    places = []
    for _ in range(PLACE_POOL_SIZE):
        try:
            place = fake.local_latlng(country_code=country_code)
        except Exception:  # Faker has no land coordinates for every country
            place = None
        places.append(place or fake.location_on_land())
    places = sorted(set(places))
    cities = np.array([p[2] for p in places], dtype=object)
    regions = np.array([p[4].split("/")[-1].replace("_", " ") for p in places], dtype=object)
    countries = np.array([p[3] for p in places], dtype=object)
    lats = np.array([float(p[0]) for p in places])
    lngs = np.array([float(p[1]) for p in places])

    brands = []
    for _ in CATEGORIES:
        names = {fake.last_name() for _ in range(BRANDS_PER_CATEGORY * 3)}
        suffixes = ("", " & Co", " Labs", " Studio", " Goods", " Works")
        pool = sorted(f"{n}{suffixes[i % len(suffixes)]}" for i, n in enumerate(sorted(names)))
        brands.append(np.array(pool[:BRANDS_PER_CATEGORY], dtype=object))
    adjectives = np.array(
        ["Classic", "Essential", "Pro", "Ultra", "Lite", "Premium", "Everyday", "Compact",
         "Deluxe", "Eco", "Smart", "Vintage", "Modern", "Sport", "Travel", "Signature"],
        dtype=object,
    )  # fmt: skip
    return Vocabulary(female, male, last, cities, regions, countries, lats, lngs, tuple(brands), adjectives)
