"""Who likes what: product popularity by segment and season, its drift over the year, and planted complements.

Every shopper of a signed-in session picks each product view from a *mixture*: with the shares of
`COMPONENT_SHARE` the view follows the shop's base popularity, their gender's, their age band's or their region's
preferences (anonymous visitors follow the base popularity alone; regions share preferences in `REGION_GROUPS`
hashed groups). Each component is a Zipf-like popularity over
its own hashed ranking of the catalog, times the component's category and brand leanings (hashed lognormal
factors), times two terms that move with the calendar and are the same for every component:

* drift: a product launched recently sells up to `1 + LAUNCH_BOOST` times its level, fading with
  `LAUNCH_DAYS`; after its (hashed) shelf life it fades away with `FADE_DAYS`;
* season: each product peaks on a hashed day of the year (`1 + PRODUCT_SEASON_AMPLITUDE x cos`).

A view of the session's intent category draws within that category; a view beyond the intent draws over the
whole catalog, so the component's category leanings decide which other categories a segment browses and buys.
The intent category itself follows the calendar's category seasons and the device and channel (behaviour.py)
for everybody, which keeps every visit's conversion (and `user_truth`) exact.

Complements: a share of the products are anchors with one complement in a companion category (a phone and its
case, shoes and apparel). A view of an anchor is followed by a view of its complement with probability
`COMPANION_VIEW`; when the anchor stays in a cart, the complement is added too with probability `COMPANION_ADD`.

Everything here is a pure function of (seed, product id, user id, day): no day needs another.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

import numpy as np

from generator import behaviour as m
from generator.places import market_places
from generator.streams import hash_uniform

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_BAND_EDGES = np.array([25, 35, 45, 55, 65])
GENDERS = ("female", "male", "nonbinary")
# Meteorological seasons; both markets are in the northern hemisphere.
SEASONS = ("winter", "spring", "summer", "autumn")

SALT_GENDER, SALT_AGE_A, SALT_AGE_B = 0x5EED_0201, 0x5EED_0202, 0x5EED_0203
SALT_REGION_GROUP = 0x5EED_0301
SALT_COMPONENT = 0x5EED_0300  # + component table index: each table's ranking of the catalog
SALT_CATEGORY_LEAN, SALT_BRAND_LEAN = 0x5EED_0400, 0x5EED_0500
SALT_PEAK, SALT_SHELF, SALT_ANCHOR, SALT_PARTNER = 0x5EED_0601, 0x5EED_0602, 0x5EED_0603, 0x5EED_0604

# Mixture shares of a signed-in shopper's product views: base, gender, age band, region.
COMPONENT_SHARE = np.array([0.15, 0.45, 0.30, 0.10])
# Regions share their preferences in groups (a hash of the region assigns it): neighbouring tastes, and a table
# per group rather than per region keeps the day's draws cheap.
REGION_GROUPS = 8
COMPONENT_EXPONENT = 2.5  # steeper than the base popularity's: what a segment loves stands out
CATEGORY_LEAN_SIGMA = 0.5  # lognormal spread of a component's leaning to each category
BRAND_LEAN_SIGMA = 0.6  # and to each brand
LAUNCH_BOOST = 2.0
LAUNCH_DAYS = 30.0
SHELF_LIFE_DAYS = (150, 540)  # hashed per product: after it the product fades
FADE_DAYS = 60.0
PRODUCT_SEASON_AMPLITUDE = 0.6

ANCHOR_SHARE = 0.3  # products that have a complement
COMPANION_VIEW = 0.35  # P(the complement is viewed right after | a view of its anchor)
COMPANION_ADD = 0.6  # P(the complement is added | the anchor stays in the cart)
# Where an anchor's complement comes from, by the anchor's category (behaviour.CATEGORIES names).
COMPANION_CATEGORY = {
    "Apparel": "Accessories", "Shoes": "Apparel", "Accessories": "Apparel", "Phones": "Phones",
    "Computers": "Computers", "Audio": "Phones", "Kitchen": "Kitchen", "Furniture": "Decor",
    "Decor": "Furniture", "Skincare": "Makeup", "Makeup": "Skincare", "Fitness": "Outdoor",
    "Outdoor": "Fitness", "Books": "Books", "Games": "Games",
}  # fmt: skip
CATEGORY_NAMES = tuple(c[1] for c in m.CATEGORIES)
COMPANION_INDEX = np.array([CATEGORY_NAMES.index(COMPANION_CATEGORY[c]) for c in CATEGORY_NAMES])


# --- the shopper's segment: pure functions of (seed, user id) ---------------------------------------------


def user_gender(seed: int, user_ids: np.ndarray) -> np.ndarray:
    """Gender index (GENDERS) of each user, by `behaviour.GENDER_MIX`."""
    u = hash_uniform(user_ids, seed, SALT_GENDER)
    return np.searchsorted(np.cumsum(m.GENDER_MIX)[:-1], u, side="right")


def _age_z(seed: int, user_ids: np.ndarray) -> np.ndarray:
    u1 = hash_uniform(user_ids, seed, SALT_AGE_A)
    u2 = hash_uniform(user_ids, seed, SALT_AGE_B)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)  # Box-Muller: a standard normal


def _age_from_z(z: np.ndarray) -> np.ndarray:
    # Wilson-Hilferty: the Gamma(k, theta) quantile of a standard normal z, close to exact at k = 6
    k, theta = m.AGE_GAMMA
    g = k * theta * np.maximum(1.0 - 1.0 / (9 * k) + z * math.sqrt(1.0 / (9 * k)), 0.0) ** 3
    return np.clip(g + m.AGE_OFFSET_YEARS, *m.AGE_RANGE_YEARS)


def user_age_years(seed: int, user_ids: np.ndarray) -> np.ndarray:
    """Age in years at signup: Gamma(behaviour.AGE_GAMMA) + offset, clipped, from two hashes of the id."""
    return _age_from_z(_age_z(seed, user_ids))


def age_band_of(age_years: np.ndarray) -> np.ndarray:
    return np.searchsorted(AGE_BAND_EDGES, np.floor(age_years), side="right")


@functools.cache
def age_band_shares() -> np.ndarray:
    """Share of users in each age band (exact over the normal draw, on a fine grid of z)."""
    z = np.linspace(-8, 8, 160_001)
    density = np.exp(-0.5 * z * z)
    band = age_band_of(_age_from_z(z))
    shares = np.bincount(band, weights=density, minlength=len(AGE_BANDS))
    return shares / shares.sum()


@functools.cache
def regions(market: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(region names, region index per place, share of users per region) of a market."""
    places = market_places(market)
    names = tuple(sorted(set(places.region)))
    index = np.array([names.index(r) for r in places.region])
    weights = np.diff(np.concatenate([[0.0], places.cumulative]))
    return names, index, np.bincount(index, weights=weights, minlength=len(names))


def season_of(day: dt.date) -> int:
    return (day.month % 12) // 3


# --- the component tables ---------------------------------------------------------------------------------


def component_tables(market: str) -> tuple[tuple[int, int], ...]:
    """(component, value) of every table: the base, each gender, each age band, each region group."""
    genders = [(1, g) for g in range(len(GENDERS))]
    bands = [(2, a) for a in range(len(AGE_BANDS))]
    return ((0, 0), *genders, *bands, *((3, r) for r in range(REGION_GROUPS)))


@functools.cache
def region_group(market: str) -> np.ndarray:
    """The preference group of each region (index into `regions(market)[0]`): a hash of its name's position."""
    n = len(regions(market)[0])
    return (hash_uniform(np.arange(n, dtype=np.uint64), 0, SALT_REGION_GROUP) * REGION_GROUPS).astype(
        np.int64
    )


def session_tables(market: str, gender: np.ndarray, band: np.ndarray, region: np.ndarray) -> np.ndarray:
    """(n, 4) table index of each component for shoppers of these segments (base first)."""
    n_g, n_a = len(GENDERS), len(AGE_BANDS)
    group = region_group(market)[region]
    return np.stack(
        [np.zeros(len(gender), np.int64), 1 + gender, 1 + n_g + band, 1 + n_g + n_a + group], axis=1
    )


@dataclass(frozen=True)
class ProductModel:
    """What preferences need of the catalog's first `n` products (index = product id - 1)."""

    category: np.ndarray
    brand_code: np.ndarray  # global brand index into the vocabulary's brands
    launch_offset_days: np.ndarray
    static: np.ndarray  # (tables, products): each table's popularity x its leanings, before the calendar
    partner: np.ndarray  # complement product id, 0 when not an anchor
    shelf_days: np.ndarray  # shelf life: after it the product fades
    peak_day: np.ndarray  # the day of the year its season peaks


def product_model(cfg, n_products: int) -> ProductModel:
    """The model of the first `n_products` products: a prefix of the model of whole catalog blocks (a product's
    terms depend on its id and on lower ids only), so the days of one block share one computation."""
    from generator.catalog import CATALOG_BLOCK

    full = _block_model(cfg, -(-n_products // CATALOG_BLOCK) * CATALOG_BLOCK)
    fields = ProductModel.__dataclass_fields__
    return ProductModel(**{f: getattr(full, f)[..., :n_products] for f in fields})


@functools.lru_cache(maxsize=4)
def _block_model(cfg, n_products: int) -> ProductModel:
    from generator.catalog import catalog
    from generator.vocab import vocabulary

    cat = catalog(cfg, n_products)
    vocab = vocabulary(cfg.seed, cfg.locale)
    category = cat.category.astype(np.int64)
    brand = vocab.brand_offset[category] + cat.brand % vocab.brand_count[category]
    tables = component_tables(cfg.market)
    ids = np.arange(1, n_products + 1, dtype=np.uint64)
    static = np.empty((len(tables), n_products))
    for t, (component, _) in enumerate(tables):
        if component == 0:
            static[t] = cat.popularity
            continue
        rank = hash_uniform(ids * np.uint64(7919) + np.uint64(t * 1_000_003), cfg.seed, SALT_COMPONENT)
        zipf = 1.0 / (1.0 + rank * m.POPULARITY_RANKS) ** COMPONENT_EXPONENT
        cat_lean = np.exp(CATEGORY_LEAN_SIGMA * _normal(cfg.seed, SALT_CATEGORY_LEAN, t, len(m.CATEGORIES)))
        brand_lean = np.exp(BRAND_LEAN_SIGMA * _normal(cfg.seed, SALT_BRAND_LEAN, t, len(vocab.brands)))
        static[t] = zipf * cat_lean[category] * brand_lean[brand]
    lo, hi = SHELF_LIFE_DAYS
    model = ProductModel(
        category=category,
        brand_code=brand,
        launch_offset_days=cat.launch_offset_days,
        static=static,
        partner=complements(cfg.seed, category),
        shelf_days=lo + hash_uniform(ids, cfg.seed, SALT_SHELF) * (hi - lo),
        peak_day=hash_uniform(ids, cfg.seed, SALT_PEAK) * 365.25,
    )
    for f in ProductModel.__dataclass_fields__:
        getattr(model, f).flags.writeable = False
    return model


def _normal(seed: int, salt: int, table: int, n: int) -> np.ndarray:
    ids = np.arange(n, dtype=np.uint64) + np.uint64(table * 100_003)
    u1 = hash_uniform(ids, seed, salt)
    u2 = hash_uniform(ids, seed, salt + 1)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def day_weights(cfg, n_products: int, day: dt.date) -> np.ndarray:
    """(tables, products) view weights of every component table on `day` (0 for products not yet launched)."""
    model = product_model(cfg, n_products)
    return model.static * calendar_factor(model, (day - cfg.opening_date).days, day)


def calendar_factor(products: ProductModel, day_offset: int, day: dt.date) -> np.ndarray:
    """Each product's drift (launch boost, fading) and season on the day; 0 before its launch."""
    age = day_offset - products.launch_offset_days
    drift = (1.0 + LAUNCH_BOOST * np.exp(-np.maximum(age, 0) / LAUNCH_DAYS)) * np.exp(
        -np.maximum(age - products.shelf_days, 0.0) / FADE_DAYS
    )
    doy = day.timetuple().tm_yday
    season = 1.0 + PRODUCT_SEASON_AMPLITUDE * np.cos(2.0 * np.pi * (doy - products.peak_day) / 365.25)
    return np.where(age >= 0, drift * season, 0.0)


# --- complements --------------------------------------------------------------------------------------------


def complements(seed: int, category: np.ndarray) -> np.ndarray:
    """Complement product id of each product (index = id - 1), 0 for products that are not anchors.

    An anchor's complement is a product of its companion category launched before it (a lower id), picked by a
    hash, so every day derives the same pairs and a pair exists as soon as its anchor does.
    """
    n = len(category)
    ids = np.arange(1, n + 1, dtype=np.uint64)
    anchor = hash_uniform(ids, seed, SALT_ANCHOR) < ANCHOR_SHARE
    partner = np.zeros(n, dtype=np.int64)
    target = COMPANION_INDEX[category]
    pick = hash_uniform(ids, seed, SALT_PARTNER)
    for c in range(len(m.CATEGORIES)):
        members = np.flatnonzero(category == c)  # ascending ids of category c (index = id - 1)
        wants = np.flatnonzero(anchor & (target == c))
        before = np.searchsorted(members, wants, side="left")  # members with a lower id
        ok = before > 0
        chosen = members[(pick[wants[ok]] * before[ok]).astype(np.int64)]
        partner[wants[ok]] = chosen + 1
    return partner
