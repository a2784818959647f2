"""Calendar days in the patient's time zone.

A billing day is a local calendar day: it starts and ends at local midnight, so a DST day lasts
23 or 25 hours and still counts once. Durations are always measured between UTC instants.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of calendar dates (a billing period, an authorization)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def days(self) -> Iterator[date]:
        return each_day(self.start, self.end)

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        """YYYYMM for a whole calendar month, else YYMMDD-MMDD (claim ids fit CLM01's 38)."""
        next_day = self.end + timedelta(days=1)
        if self.start.day == 1 and next_day.day == 1 and self.start.month == self.end.month:
            return f"{self.start:%Y%m}"
        if self.start.year != self.end.year:
            return f"{self.start:%y%m%d}-{self.end:%y%m%d}"
        return f"{self.start:%y%m%d}-{self.end:%m%d}"


def each_day(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# Every day of every episode asks for its bounds, several times over; a population shares its
# few zones and the period's days, so the zone arithmetic is done once per zone and day.
@lru_cache(maxsize=65536)
def midnight(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight that opens `day`, as a UTC instant."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return midnight(day, zone), midnight(day + timedelta(days=1), zone)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def last_local_day(end: datetime, zone: ZoneInfo) -> date:
    """The local day that holds the last instant before `end` (an interval end is exclusive)."""
    return local_day(end - timedelta(microseconds=1), zone)


def show(moment: datetime, zone: ZoneInfo) -> str:
    """A local time as billers read it: 2025-03-10 08:00."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> timedelta:
    start = max(a_start, b_start)
    end = min(a_end, b_end)
    return max(end - start, timedelta(0))
