"""A/B experiments with a known effect, so that experiment readouts can be checked against the truth.

Each experiment runs between two days (inclusive) on a unit: `user` (signed-in sessions; a user keeps their
variant for the whole experiment) or `session` (every session, anonymous ones too). A unit is in the treatment
when a hash of (seed, experiment, unit id) falls below the allocation, so the assignment is deterministic and
needs no state. Every session of a running experiment that has a unit is exposed as the session lands, the way a
client-side tracker logs an "experiment viewed" event: the `experiment_exposures` lake table.

The effects are built so the true relative effect on the target metric is exact:
* `conversion_rate` (sessions that purchase / exposed sessions): the treatment multiplies the probability of
  going from cart to checkout by (1 + effect); that step is never capped (checked in the tests), so the
  conversion rate of the exposed sessions moves by exactly that factor.
* `average_order_value` (subtotal per order): a cart line holds 1 + Poisson(lambda) units, lambda from the
  user's spend level; the treatment makes it 1 + Poisson(lambda + effect x (1 + lambda)), whose mean is
  (1 + effect) times the control's for every user. Lines and prices do not depend on the quantity, so the mean
  order subtotal moves by exactly (1 + effect). Sale discounts and coupons are proportional or independent, so
  `order_total` moves by the same factor in expectation.
* `none`: an A/A test, nothing differs between the arms.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from generator.arrow import array
from generator.streams import hash_uniform


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    description: str
    start: dt.date
    end: dt.date
    unit: str  # user | session
    allocation: float  # share of units in the treatment
    target_metric: str  # conversion_rate | average_order_value
    lever: str  # checkout | quantity | none: what the treatment changes in the generator
    surface: str  # landing | product | cart: where the variant shows, so which sessions are exposed

    @property
    def salt(self) -> int:
        return 0x5EED_1000 + zlib.crc32(self.experiment_id.encode())

    @property
    def true_relative_effect(self) -> float:
        return EFFECTS.get(self.experiment_id, 0.0)

    def runs_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


EFFECTS = {"exp_one_page_checkout": 0.20, "exp_bundle_banner": 0.25, "exp_express_pay_button": 0.10}

EXPERIMENTS = (
    Experiment(
        "exp_one_page_checkout", "one-page checkout instead of three steps", dt.date(2025, 9, 8),
        dt.date(2025, 10, 26), "session", 0.5, "conversion_rate", "checkout", "cart",
    ),
    Experiment(
        "exp_bundle_banner", "'buy more, save more' banner on product pages", dt.date(2025, 9, 8),
        dt.date(2025, 11, 2), "user", 0.5, "average_order_value", "quantity", "product",
    ),
    Experiment(
        "exp_aa_homepage_copy", "A/A: the same homepage copy in both arms", dt.date(2025, 9, 1),
        dt.date(2025, 12, 31), "user", 0.5, "conversion_rate", "none", "landing",
    ),
    Experiment(
        "exp_express_pay_button", "express pay button in the cart", dt.date(2026, 2, 2),
        dt.date(2026, 3, 29), "user", 0.3, "conversion_rate", "checkout", "cart",
    ),
)  # fmt: skip


def running(day: dt.date) -> tuple[Experiment, ...]:
    return tuple(e for e in EXPERIMENTS if e.runs_on(day))


def unit_ids(experiment: Experiment, session_ids: np.ndarray, user_ids: np.ndarray) -> np.ndarray:
    """The unit id of each session (0 where the session has no unit: anonymous in a user experiment)."""
    return user_ids if experiment.unit == "user" else session_ids


def treated(seed: int, experiment: Experiment, units: np.ndarray) -> np.ndarray:
    """Whether each unit is in the treatment: a pure function of (seed, experiment, unit id)."""
    return (units > 0) & (hash_uniform(units, seed, experiment.salt) < experiment.allocation)


def checkout_multiplier(seed: int, day: dt.date, session_ids: np.ndarray, user_ids: np.ndarray) -> np.ndarray:
    """Multiplier of each session's cart -> checkout probability from the experiments running on `day`."""
    out = np.ones(len(session_ids))
    for e in running(day):
        if e.lever == "checkout":
            hit = treated(seed, e, unit_ids(e, session_ids, user_ids))
            out[hit] *= 1.0 + e.true_relative_effect
    return out


@dataclass(frozen=True)
class Assignment:
    experiment: Experiment
    units: np.ndarray  # per session: its unit id, 0 where the session has none
    treated: np.ndarray  # per session


def assign(seed: int, day: dt.date, session_ids: np.ndarray, user_ids: np.ndarray) -> list[Assignment]:
    """The variant of every session in each experiment running on `day`."""
    out = []
    for e in running(day):
        units = unit_ids(e, session_ids, user_ids)
        out.append(Assignment(e, units, treated(seed, e, units)))
    return out


def order_value_effect(assignments: list[Assignment]) -> np.ndarray:
    """Per session: the relative effect on the mean units per cart line of the experiments it is treated in."""
    out = np.zeros(len(assignments[0].units) if assignments else 0)
    for a in assignments:
        if a.experiment.lever == "quantity":
            out = np.where(a.treated, (1.0 + out) * (1.0 + a.experiment.true_relative_effect) - 1.0, out)
    return out


VARIANTS = array(["control", "treatment"], pa.string())
EXPOSURE_SCHEMA = pa.schema(
    [
        ("experiment_id", pa.dictionary(pa.int32(), pa.string())),
        ("variant", pa.dictionary(pa.int32(), pa.string())),
        ("session_id", pa.int64()),
        ("user_id", pa.int64()),
        ("exposed_at", pa.timestamp("us")),
    ]
)


SURFACE_STAGE = {"landing": 0, "product": 1, "cart": 2}  # the plan's stage a session must reach to see it


def build_exposures(
    assignments: list[Assignment],
    session_ids: np.ndarray,
    user_ids: np.ndarray,
    stage: np.ndarray,
    surface_at: dict[str, pa.Array],
) -> pa.Table:
    """One row per (running experiment, session with a unit that reached the experiment's surface): the
    variant the session saw, when it first saw the surface (`surface_at`: per session, per surface)."""
    if not assignments:
        return EXPOSURE_SCHEMA.empty_table()
    rows = [
        np.flatnonzero((a.units > 0) & (stage >= SURFACE_STAGE[a.experiment.surface])) for a in assignments
    ]
    which = np.repeat(np.arange(len(assignments), dtype=np.int32), [len(r) for r in rows])
    variant = np.concatenate([a.treated[r] for a, r in zip(assignments, rows, strict=True)]).astype(np.int32)
    exposed_at = pa.concat_arrays(
        [surface_at[a.experiment.surface].take(array(r)) for a, r in zip(assignments, rows, strict=True)]
    )
    rows = np.concatenate(rows)
    ids = array([a.experiment.experiment_id for a in assignments], pa.string())
    user = user_ids[rows]
    return pa.table(
        {
            "experiment_id": pa.DictionaryArray.from_arrays(array(which), ids),
            "variant": pa.DictionaryArray.from_arrays(array(variant), VARIANTS),
            "session_id": array(session_ids[rows]),
            "user_id": array(user, pa.int64(), mask=user == 0),
            "exposed_at": exposed_at,
        },
        schema=EXPOSURE_SCHEMA,
    )


def build_experiments(day: dt.date) -> pa.Table:
    """The experiments running on `day`, with their true effect (truth: marts never read it)."""
    rows = running(day)
    return pa.table(
        {
            "experiment_id": array([e.experiment_id for e in rows], pa.string()),
            "description": array([e.description for e in rows], pa.string()),
            "unit": array([e.unit for e in rows], pa.string()),
            "allocation": array([e.allocation for e in rows], pa.float64()),
            "target_metric": array([e.target_metric for e in rows], pa.string()),
            "surface": array([e.surface for e in rows], pa.string()),
            "true_relative_effect": array([e.true_relative_effect for e in rows], pa.float64()),
            "start_date": array([e.start for e in rows], pa.date32()),
            "end_date": array([e.end for e in rows], pa.date32()),
        }
    )
