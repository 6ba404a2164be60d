"""The generator's frozen configuration, validated once at the edge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from generator.faults import FAULTS
from generator.markets import MARKETS


class ConfigError(ValueError):
    """A setting is invalid; the message names the field and what is allowed."""


@dataclass(frozen=True)
class Scale:
    """Volumes of one scale preset; everything else is derived from these."""

    name: str
    sessions_per_day: int
    initial_products: int
    products_per_day: float


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", sessions_per_day=1_200, initial_products=200, products_per_day=0.5),
        Scale("small", sessions_per_day=4_200, initial_products=1_000, products_per_day=2),
        Scale("medium", sessions_per_day=42_000, initial_products=5_000, products_per_day=8),
        Scale("large", sessions_per_day=420_000, initial_products=20_000, products_per_day=25),
    )
}

# What each fault kind does (messages, the CLI's help, the DAG's form); the registry is generator.faults.FAULTS.
FAULT_KINDS: dict[str, str] = {kind: fault.description for kind, fault in FAULTS.items()}

# The shop opens on this day: users and catalog history start here, and the lake is contiguous from it.
DEFAULT_OPENING_DATE = dt.date(2025, 9, 1)
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class GeneratorConfig:
    scale: str = "small"
    seed: int = 42
    locale: str = ""  # Faker locale of customers' names; empty: the market's (see generator/markets.py)
    market: str = "us"
    opening_date: dt.date = DEFAULT_OPENING_DATE
    inject: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ConfigError(f"unknown scale {self.scale!r}: choose one of {', '.join(SCALES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be an integer from 0 to {MAX_SEED}, got {self.seed!r}")
        unknown = [k for k in self.inject if k not in FAULT_KINDS]
        if unknown:
            raise ConfigError(f"unknown fault kind {unknown[0]!r}: choose from {', '.join(FAULT_KINDS)}")
        if not isinstance(self.opening_date, dt.date):
            raise ConfigError(f"opening_date must be a date, got {self.opening_date!r}")
        if self.market not in MARKETS:
            raise ConfigError(f"unknown market {self.market!r}: choose one of {', '.join(MARKETS)}")
        if self.locale:
            validate_locale(self.locale)
        else:  # the locale of customers' names defaults to the market's
            object.__setattr__(self, "locale", MARKETS[self.market].locale)

    @property
    def volumes(self) -> Scale:
        return SCALES[self.scale]

    def check_day(self, day: dt.date) -> None:
        if day < self.opening_date:
            raise ConfigError(
                f"day {day} is before the shop's opening date {self.opening_date} "
                "(set ECOM_OPENING_DATE to start earlier)"
            )


def validate_locale(locale: str) -> None:
    from faker.config import AVAILABLE_LOCALES

    if locale not in AVAILABLE_LOCALES:
        raise ConfigError(f"unknown locale {locale!r}: use a Faker locale such as en_US, de_DE, fr_FR, ja_JP")


def parse_faults(text: str | None) -> tuple[str, ...]:
    """Parse `KIND[,KIND...]` into a validated, ordered, de-duplicated tuple."""
    if not text:
        return ()
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    for kind in kinds:
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {kind!r}: choose from {', '.join(FAULT_KINDS)}")
    return tuple(dict.fromkeys(kinds))
