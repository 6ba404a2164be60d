"""The users who signed up on a day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator import behaviour as m
from generator.arrow import array, dictionary, string_scalar, timestamps
from generator.config import GeneratorConfig
from generator.localtime import user_places
from generator.places import coded, market_places
from generator.plan import SessionPlan
from generator.preferences import user_age_years, user_gender
from generator.streams import STREAM_USERS, stream
from generator.vocab import EMAIL_DOMAINS, vocabulary


def build_users(cfg: GeneratorConfig, plan: SessionPlan, session_start: np.ndarray) -> pa.Table:
    """The users who signed up on the plan's day: every column is an index draw into a Faker-built pool."""
    rng = stream(cfg, plan.day, STREAM_USERS)
    vocab = vocabulary(cfg.seed, cfg.locale)
    new = np.flatnonzero(plan.session_type == 1)
    n = len(new)
    ids = plan.users_before + 1 + np.arange(n, dtype=np.int64)
    gender = user_gender(cfg.seed, ids)  # gender and age are hashes of the id: preferences.py reads them too
    female_pick = vocab.female[rng.integers(0, len(vocab.female), size=n)]
    male_pick = vocab.male[rng.integers(0, len(vocab.male), size=n)]
    use_female = (gender == 0) | ((gender == 2) & (rng.random(n) < m.NONBINARY_FEMALE_NAME_SHARE))
    first_pick = np.where(use_female, female_pick, male_pick)
    last_pick = rng.integers(0, len(vocab.last_names), size=n)
    # first.last<user id>@domain: the id keeps every address unique
    domain = array(EMAIL_DOMAINS, pa.string()).take(array(rng.integers(0, len(EMAIL_DOMAINS), size=n)))
    last_id = pc.binary_join_element_wise(
        vocab.last_email.take(array(last_pick)), pc.cast(array(ids), pa.string()), string_scalar("")
    )
    local = pc.binary_join_element_wise(
        vocab.first_email.take(array(first_pick)), last_id, string_scalar(".")
    )
    email = pc.binary_join_element_wise(local, domain, string_scalar("@"))
    age_years = user_age_years(cfg.seed, ids)
    birth_days = (plan.day - dt.date(1970, 1, 1)).days - np.round(age_years * 365.25).astype(np.int64)
    place = user_places(cfg, ids)  # a pure function of (seed, user id): see localtime.py
    places = market_places(cfg.market)
    city_values, city_codes = coded(places.city)
    region_values, region_codes = coded(places.region)
    signup_second = np.floor(session_start[new])  # they sign up as the session lands
    return pa.table(
        {
            "user_id": array(ids),
            "first_name": dictionary(vocab.first_names, first_pick),
            "last_name": dictionary(vocab.last_names, last_pick),
            "email": email,
            "gender": dictionary(("female", "male", "nonbinary"), gender),
            "birth_date": array(birth_days.astype(np.int32), pa.date32()),
            "city": dictionary(city_values, city_codes[place]),
            "region": dictionary(region_values, region_codes[place]),
            "country": dictionary((places.country,), np.zeros(n, dtype=np.int32)),
            "latitude": array(np.round(places.latitude[place], 4)),
            "longitude": array(np.round(places.longitude[place], 4)),
            "device": dictionary(m.DEVICES, plan.device[new]),
            "acquisition_channel": dictionary(m.CHANNELS, plan.channel[new]),
            "signup_at": timestamps(plan.day, signup_second),
            "time_zone": dictionary(places.zones, places.zone[place]),
        }
    )
