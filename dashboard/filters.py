"""The sidebar's choice as a value: a date range and the channels and devices, its previous period of equal
length, and the portable WHERE clause every page's query filters with."""

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
