"""Random streams and hashing: every random number of a day comes from here.

A day draws from independent streams, one per stage, derived with `SeedSequence` from (seed, stream, day), so
stages never shift each other's draws. Per-entity randomness that other days must re-derive (an order's fate, a
product's rank) is a stateless hash of (seed, salt, id) instead.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from generator.config import GeneratorConfig

STREAM_SIGNUPS, STREAM_PLAN, STREAM_ASSIGN, STREAM_EVENTS, STREAM_ORDERS, STREAM_USERS, STREAM_CATALOG = (
    range(1, 8)
)
SALT_PERSONA, SALT_CANCEL, SALT_RETURN, SALT_DELAY, SALT_TIME, SALT_PRICE, SALT_RANK = (
    0x5EED_0001,
    0x5EED_0002,
    0x5EED_0003,
    0x5EED_0004,
    0x5EED_0005,
    0x5EED_0006,
    0x5EED_0007,
)

# Id spaces: ids are unique across days because the day is part of the id (yyyymmdd * stride + n).
SESSION_ID_STRIDE = 10_000_000
EVENT_ID_STRIDE = 100_000_000
ORDER_ID_STRIDE = 1_000_000
ORDER_ITEM_ID_STRIDE = 10_000_000


def day_key(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def stream(cfg: GeneratorConfig, day: dt.date, stream_id: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([cfg.seed, stream_id, day.toordinal()]))


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A stateless 64-bit mixer: per-entity randomness that needs no stream (e.g. an order's fate)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hash_uniform(ids: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A uniform [0, 1) number per id, a pure function of (seed, salt, id)."""
    key = splitmix64(np.asarray(ids, dtype=np.uint64) ^ splitmix64(np.array([seed ^ salt], dtype=np.uint64)))
    return (key >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
