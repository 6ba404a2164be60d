"""Where each session comes from and when it starts, in the shopper's local time.

A user's place (city, region, time zone) is a hash of (seed, user id), so a returning user is always in the
same place; an anonymous visitor's place is drawn from the market's places by weight. A session's start hour
follows the local hour-of-day and weekday curves of its time zone (`calendar.utc_hour_weights`), converted to
the UTC day of the partition: stored timestamps stay UTC.
"""

from __future__ import annotations

import numpy as np

from generator.calendar import utc_hour_weights
from generator.config import GeneratorConfig
from generator.places import market_places
from generator.streams import hash_uniform, stream

SALT_PLACE = 0x5EED_0101
STREAM_LOCALTIME = 101  # own stream ids from 101 up, clear of `streams.py`'s


def user_places(cfg: GeneratorConfig, user_ids: np.ndarray) -> np.ndarray:
    """Place index (into `market_places(cfg.market)`) of each user: a pure function of (seed, user id)."""
    return market_places(cfg.market).pick(hash_uniform(user_ids, cfg.seed, SALT_PLACE))


def session_places_and_starts(
    cfg: GeneratorConfig, day, user_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(place index, start second after UTC midnight) of each session; `user_ids` is 0 for anonymous ones."""
    rng = stream(cfg, day, STREAM_LOCALTIME)
    places = market_places(cfg.market)
    n = len(user_ids)
    known = user_ids > 0
    drawn = rng.random(n)  # a place for every session, used by the anonymous ones
    place = np.empty(n, dtype=np.int64)
    place[known] = user_places(cfg, user_ids[known])
    place[~known] = places.pick(drawn[~known])
    zone = places.zone[place]
    weights = utc_hour_weights(day, places.zones)
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    # one searchsorted over every zone's cumulative curve laid end to end (row z spans [z, z + 1])
    flat = (cum + np.arange(len(places.zones))[:, None]).ravel()
    hour = np.searchsorted(flat, zone + rng.random(n), side="right") - zone * 24
    start = hour.clip(0, 23) * 3600 + rng.integers(0, 3600, size=n)
    return place, start
