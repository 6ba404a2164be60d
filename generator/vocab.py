"""Vocabulary pools built with Faker: names and brands (places come from the market: places.py).

Faker is seeded per instance and only fills these small pools; bulk columns index into them with numpy and
Arrow `take`, so a million users cost a few index draws, not a million Faker calls.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator.arrow import array
from generator.behaviour import CATEGORIES

POOL_SIZE = 1000
BRANDS_PER_CATEGORY = 12
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "shop.example")
ADJECTIVES = (
    "Classic", "Essential", "Pro", "Ultra", "Lite", "Premium", "Everyday", "Compact",
    "Deluxe", "Eco", "Smart", "Vintage", "Modern", "Sport", "Travel", "Signature",
)  # fmt: skip


@dataclass(frozen=True)
class Vocabulary:
    first_names: pa.Array  # distinct first names
    female: np.ndarray  # indices into first_names of the female pool
    male: np.ndarray  # and of the male pool (a name can be in both)
    last_names: pa.Array  # distinct last names
    first_email: pa.Array  # first_names, lower-cased ASCII letters and digits only (for e-mail addresses)
    last_email: pa.Array
    brands: pa.Array  # every category's pool, one after the other
    brand_offset: np.ndarray  # per category: where its pool starts in `brands`
    brand_count: np.ndarray  # per category: the pool's size


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
        first_names=array(first, pa.string()),
        female=np.searchsorted(first, female),
        male=np.searchsorted(first, male),
        last_names=array(last, pa.string()),
        first_email=array([_email_part(n) for n in first], pa.string()),
        last_email=array([_email_part(n) for n in last], pa.string()),
        brands=array(brands, pa.string()),
        brand_offset=np.array(offsets, dtype=np.int64),
        brand_count=np.array(counts, dtype=np.int64),
    )
