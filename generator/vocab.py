"""Vocabulary pools built with Faker: names, places and brands.

Faker is seeded per instance and only fills these small pools; bulk columns index into them with numpy and
Arrow `take`, so a million users cost a few index draws, not a million Faker calls.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator.model import CATEGORIES
from generator.places import region_of

POOL_SIZE = 1000
PLACE_POOL_SIZE = 400
BRANDS_PER_CATEGORY = 12
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "shop.example")
ADJECTIVES = (
    "Classic", "Essential", "Pro", "Ultra", "Lite", "Premium", "Everyday", "Compact",
    "Deluxe", "Eco", "Smart", "Vintage", "Modern", "Sport", "Travel", "Signature",
)  # fmt: skip


@dataclass(frozen=True)
class Coded:
    """A pool column as distinct values plus one code per pool entry: `values.take(codes[i])` is entry i.

    Columns drawn from a pool become dictionary arrays over `values`, which Parquet writes without decoding.
    """

    values: pa.Array
    codes: np.ndarray

    @classmethod
    def of(cls, entries: list[str]) -> Coded:
        values, codes = np.unique(np.array(entries, dtype=object), return_inverse=True)
        return cls(pa.array(values.tolist(), pa.string()), codes.astype(np.int32))


@dataclass(frozen=True)
class Vocabulary:
    first_names: pa.Array  # distinct first names
    female: np.ndarray  # indices into first_names of the female pool
    male: np.ndarray  # and of the male pool (a name can be in both)
    last_names: pa.Array  # distinct last names
    first_email: pa.Array  # first_names, lower-cased ASCII letters and digits only (for e-mail addresses)
    last_email: pa.Array
    cities: Coded  # one entry per place
    regions: Coded
    countries: Coded
    latitudes: np.ndarray
    longitudes: np.ndarray
    brands: pa.Array  # every category's pool, one after the other
    brand_offset: np.ndarray  # per category: where its pool starts in `brands`
    brand_count: np.ndarray  # per category: the pool's size

    @property
    def n_places(self) -> int:
        return len(self.latitudes)


def _unique(values: list[str]) -> list[str]:
    return sorted(set(values))


def _email_part(name: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_name.lower()) or "user"


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

    brands, offsets, counts = [], [], []
    for _ in CATEGORIES:
        names = {fake.last_name() for _ in range(BRANDS_PER_CATEGORY * 3)}
        suffixes = ("", " & Co", " Labs", " Studio", " Goods", " Works")
        pool = sorted(f"{n}{suffixes[i % len(suffixes)]}" for i, n in enumerate(sorted(names)))
        pool = pool[:BRANDS_PER_CATEGORY]
        offsets.append(len(brands))
        counts.append(len(pool))
        brands.extend(pool)
    first = _unique(female + male)
    return Vocabulary(
        first_names=pa.array(first, pa.string()),
        female=np.searchsorted(first, female),
        male=np.searchsorted(first, male),
        last_names=pa.array(last, pa.string()),
        first_email=pa.array([_email_part(n) for n in first], pa.string()),
        last_email=pa.array([_email_part(n) for n in last], pa.string()),
        cities=Coded.of([p[2] for p in places]),
        regions=Coded.of([region_of(p) for p in places]),
        countries=Coded.of([p[3] for p in places]),
        latitudes=np.array([float(p[0]) for p in places]),
        longitudes=np.array([float(p[1]) for p in places]),
        brands=pa.array(brands, pa.string()),
        brand_offset=np.array(offsets, dtype=np.int64),
        brand_count=np.array(counts, dtype=np.int64),
    )
