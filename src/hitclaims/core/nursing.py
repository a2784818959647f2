"""Nursing visit time to 99601/99602 units (DOMAIN §6; BCBSM Record 0513n).

99601 covers the first two hours of nursing on a day; 99602 is each additional hour and only goes
with a 99601 on the same day. The day's documented minutes are added up first (a second visit
the same day continues the nursing, BCBSM: "the RN stays longer or makes a separate visit later
the same day"), the two hours 99601 covers are taken off, and only then does a started extra
hour count, once it reaches the policy's `extra_minutes`. An undocumented visit (no note) adds
no time and carries no 99601: the day's first documented visit does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hitclaims.core.policy import NursingPolicy
from hitclaims.core.records import NursingVisit, ref

BASE_MINUTES = 120


def extra_hours(minutes: int, threshold: int) -> int:
    """Whole extra hours, plus one for a started hour of at least `threshold` minutes."""
    if minutes <= 0:
        return 0
    whole, rest = divmod(minutes, 60)
    return whole + (1 if rest >= threshold else 0)


@dataclass(frozen=True)
class NursingDay:
    """One day's billable nursing: who carries the 99601, how many 99602 hours the time earns."""

    day: date
    first: str  # the record of the documented visit that carries the day's 99601
    visits: tuple[NursingVisit, ...]  # the documented visits, earliest first
    minutes: int  # their time added up
    extra_minutes: int  # beyond the two hours 99601 covers
    extra_units: int  # 99602 hours before caps
    untimed: tuple[str, ...]  # documented visits without start and stop times

    @property
    def records(self) -> tuple[str, ...]:
        return tuple(ref(v) for v in self.visits)

    @property
    def target(self) -> str:
        """What a nursing.times_missing finding holds: this day's 99602 line."""
        return f"nursing {self.day.isoformat()}#99602"


def plan_days(
    visits: Iterable[NursingVisit], policy: NursingPolicy, held: Callable[[str], bool]
) -> list[NursingDay]:
    """The days with documented nursing, before caps. `held` tells which visits are held."""
    by_day: dict[date, list[NursingVisit]] = defaultdict(list)
    for visit in visits:
        if not held(ref(visit)):
            by_day[visit.date].append(visit)
    days: list[NursingDay] = []
    for day in sorted(by_day):
        ordered = tuple(sorted(by_day[day], key=_visit_key))
        minutes = sum(v.minutes or 0 for v in ordered)
        extra = max(minutes - BASE_MINUTES, 0)
        days.append(
            NursingDay(
                day=day,
                first=ref(ordered[0]),
                visits=ordered,
                minutes=minutes,
                extra_minutes=extra,
                extra_units=extra_hours(extra, policy.extra_minutes),
                untimed=tuple(ref(v) for v in ordered if v.start is None),
            )
        )
    return days


def _visit_key(visit: NursingVisit) -> tuple[datetime, str, str, int]:
    start = visit.start.astimezone(UTC) if visit.start else datetime.max.replace(tzinfo=UTC)
    return (start, visit.id or "", visit.note or "", visit.minutes or 0)
