"""The catalog: product attributes are a function of the product id; prices move weekly."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import behaviour as m
from generator.arrow import array, decimal_from_cents, dictionary, string_scalar
from generator.config import GeneratorConfig
from generator.streams import SALT_PRICE, SALT_RANK, STREAM_CATALOG, hash_uniform
from generator.vocab import ADJECTIVES, vocabulary

CATALOG_BLOCK = 1024


@dataclass(frozen=True)
class Catalog:
    category: np.ndarray  # int index into CATEGORIES
    brand: np.ndarray  # int index into the category's brand pool
    noun: np.ndarray  # int index into the category's nouns
    adjective: np.ndarray
    base_price_cents: np.ndarray
    cost_cents: np.ndarray
    launch_offset_days: np.ndarray  # launch date relative to the opening date
    popularity: np.ndarray


def products_on(cfg: GeneratorConfig, day: dt.date) -> int:
    v = cfg.volumes
    return v.initial_products + int(v.products_per_day * (day - cfg.opening_date).days)


@functools.lru_cache(maxsize=64)
def _catalog_block(cfg: GeneratorConfig, block: int) -> Catalog:
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM_CATALOG, block]))
    n = CATALOG_BLOCK
    ids = np.arange(block * n + 1, (block + 1) * n + 1)
    category = rng.choice(len(m.CATEGORIES), size=n, p=m.CATEGORY_SHARE)
    medians = np.array([c[2] for c in m.CATEGORIES], dtype=float)[category]
    price = medians * np.exp(rng.normal(0.0, m.PRICE_SIGMA, size=n))
    cents = np.where(price >= 5, np.floor(price) * 100 + 99, np.round(price * 100)).astype(np.int64)
    cost = np.round(cents * rng.uniform(*m.MARGIN_RANGE, size=n)).astype(np.int64)
    noun_counts = np.array([len(c[5]) for c in m.CATEGORIES])[category]
    v = cfg.volumes
    launch = np.where(
        ids <= v.initial_products,
        -rng.integers(1, 366, size=n),
        np.ceil((ids - v.initial_products) / v.products_per_day).astype(np.int64),
    )
    # Zipf-like popularity from a hashed rank: a few products sell a lot, most sell a little.
    popularity = (
        1.0 / (1.0 + hash_uniform(ids, cfg.seed, SALT_RANK) * m.POPULARITY_RANKS) ** m.POPULARITY_EXPONENT
    )
    return Catalog(
        category=category,
        brand=rng.integers(0, 1 << 30, size=n),
        noun=(rng.random(n) * noun_counts).astype(np.int64),
        adjective=rng.integers(0, 1 << 30, size=n),
        base_price_cents=cents,
        cost_cents=cost,
        launch_offset_days=launch,
        popularity=popularity,
    )


def catalog(cfg: GeneratorConfig, n_products: int) -> Catalog:
    blocks = [_catalog_block(cfg, b) for b in range((n_products + CATALOG_BLOCK - 1) // CATALOG_BLOCK)]
    fields = Catalog.__dataclass_fields__
    return Catalog(**{f: np.concatenate([getattr(b, f) for b in blocks])[:n_products] for f in fields})


def prices_on(cfg: GeneratorConfig, day: dt.date, cat: Catalog) -> np.ndarray:
    """Retail price of every product on `day`, in cents: the launch price moved by a weekly factor."""
    week = (day - cfg.opening_date).days // 7
    ids = np.arange(1, len(cat.base_price_cents) + 1, dtype=np.uint64)
    u = hash_uniform(ids * np.uint64(100_003) + np.uint64(week + 10_000), cfg.seed, SALT_PRICE)
    price = cat.base_price_cents * (1.0 + m.WEEKLY_PRICE_CHANGE * (2.0 * u - 1.0))
    return np.where(price >= 500, np.floor(price / 100) * 100 + 99, np.round(price)).astype(np.int64)


def build_products(cfg: GeneratorConfig, day: dt.date, cat: Catalog, prices: np.ndarray) -> pa.Table:
    vocab = vocabulary(cfg.seed, cfg.locale)
    available = np.flatnonzero(cat.launch_offset_days <= (day - cfg.opening_date).days)
    c = cat.category[available]
    brand = vocab.brands.take(array(vocab.brand_offset[c] + cat.brand[available] % vocab.brand_count[c]))
    nouns = array([noun for x in m.CATEGORIES for noun in x[5]], pa.string())
    noun_offset = np.cumsum([0] + [len(x[5]) for x in m.CATEGORIES])[:-1]
    adjective = array(ADJECTIVES, pa.string()).take(array(cat.adjective[available] % len(ADJECTIVES)))
    name = pc.binary_join_element_wise(
        brand, adjective, nouns.take(array(noun_offset[c] + cat.noun[available])), string_scalar(" ")
    )
    launch = (cfg.opening_date - dt.date(1970, 1, 1)).days + cat.launch_offset_days[available]
    return pa.table(
        {
            "product_id": array(available.astype(np.int64) + 1),
            "product_name": name,
            "brand": brand,
            "category": dictionary(tuple(x[1] for x in m.CATEGORIES), c),
            "department": dictionary(m.DEPARTMENTS, m.CATEGORY_DEPARTMENT[c]),
            "cost": decimal_from_cents(cat.cost_cents[available]),
            "retail_price": decimal_from_cents(prices[available]),
            "launch_date": array(launch.astype(np.int32), pa.date32()),
        }
    )
