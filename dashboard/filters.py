"""The sidebar's choice as a value: a date range and the channels and devices, its previous period of equal
length, and the portable WHERE clause every page's query filters with; and the relative ranges ("last 7 days")
the sidebar offers, resolved against the newest published day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    channels: tuple[str, ...] = ()  # empty: every channel
    devices: tuple[str, ...] = ()  # empty: every device

    @property
    def segmented(self) -> bool:
        return bool(self.channels or self.devices)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of equal length just before this one, with the same channels and devices."""
        return replace(
            self, start=self.start - dt.timedelta(days=self.days), end=self.start - dt.timedelta(days=1)
        )

    def where(
        self, date_column: str, params: dict, with_segments: bool = True, start: dt.date | None = None
    ) -> str:
        """A portable WHERE clause over the date range (and channel/device when asked), filling `params`."""
        params.update(start=start or self.start, end=self.end)
        clauses = [f"{date_column} between %(start)s and %(end)s"]
        if with_segments:
            for column, values in (("channel", self.channels), ("device", self.devices)):
                if values:
                    names = [f"{column}_{i}" for i in range(len(values))]
                    params.update(zip(names, values, strict=True))
                    clauses.append(f"{column} in ({', '.join(f'%({n})s' for n in names)})")
        return " and ".join(clauses)


# Relative ranges by their name in a link (`?range=last-7`); "custom" is an explicit `?start=&end=`.
RANGES = {
    "last-7": "Last 7 days",
    "last-30": "Last 30 days",
    "month-to-date": "Month to date",
    "all": "Whole history",
    "custom": "Custom",
}


def resolve_range(name: str, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The dates of relative range `name` in data from `first` to `last`: recomputed at every load, so a link
    or a tab left open follows the newest published day."""
    days = {"last-7": 7, "last-30": 30}.get(name)
    if days:
        return max(first, last - dt.timedelta(days=days - 1)), last
    if name == "month-to-date":
        return max(first, last.replace(day=1)), last
    return first, last


def default_range(first: dt.date, last: dt.date) -> str:
    """A recent period whose previous period of equal length the data also holds (so the headlines show a
    change): the last 30 days from 60 days of data, the last 7 from 14, else the whole history."""
    held = (last - first).days + 1
    return "last-30" if held >= 60 else "last-7" if held >= 14 else "all"
