"""Nursing visit time to 99601/99602 units (DOMAIN §6; BCBSM Record 0513n).

99601 covers the first two hours of nursing on a day; 99602 is each additional hour and only goes
with a 99601 on the same day. The day's documented minutes are added up first (a second visit
the same day continues the nursing, BCBSM: "the RN stays longer or makes a separate visit later
the same day"), the two hours 99601 covers are taken off, and only then does a started extra
hour count, once it reaches the policy's `extra_minutes`. An undocumented visit (no note) adds
no time and carries no 99601: the day's first documented visit does. Last, the payer's caps per
day and per week cut the 99602 hours, the latest first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hitclaims.core.days import Period
from hitclaims.core.policy import NursingPolicy
from hitclaims.core.records import NursingVisit, ref

BASE_MINUTES = 120
BASE_HOURS = BASE_MINUTES // 60  # what the day's 99601 covers


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


@dataclass(frozen=True)
class NursingCut:
    """99602 hours a cap took off one day: the audit reports each (nursing.cap)."""

    day: date
    units: int
    cap: str  # which cap, as the policy names it


@dataclass(frozen=True)
class CappedNursing:
    """The billing period's nursing days with their 99602 hours after holds and caps."""

    days: tuple[NursingDay, ...]
    extra_units: dict[date, int]
    cuts: tuple[NursingCut, ...]


def cap_days(
    plan: Iterable[NursingDay],
    policy: NursingPolicy,
    period: Period,
    held_extra: Callable[[NursingDay], bool],
) -> CappedNursing:
    """The period's days, 99602 hours cut to the daily cap, then to the weekly one.

    `held_extra` tells which days' 99602 is held (no visit times): those hours count for nothing.
    """
    if not policy.billed_by_provider:
        return CappedNursing((), {}, ())
    days = tuple(d for d in plan if d.day in period)
    extra: dict[date, int] = {}
    cuts: list[NursingCut] = []
    cap = policy.max_hours_per_day
    for day in days:
        units = 0 if held_extra(day) else day.extra_units
        if cap is not None and units > cap - BASE_HOURS:
            cuts.append(NursingCut(day.day, units - (cap - BASE_HOURS), f"max_hours_per_day: {cap}"))
            units = cap - BASE_HOURS
        extra[day.day] = units
    if policy.max_hours_per_week is not None:
        cuts += _week_cuts([d.day for d in days], extra, policy.max_hours_per_week)
    return CappedNursing(days, extra, tuple(cuts))


def _week_cuts(days: Sequence[date], extra: dict[date, int], cap: int) -> list[NursingCut]:
    """Cut each ISO week's nursing hours to the cap, the latest extra hours first (in place)."""
    weeks: dict[tuple[int, int], list[date]] = defaultdict(list)
    for day in days:
        iso = day.isocalendar()
        weeks[(iso.year, iso.week)].append(day)
    cuts: list[NursingCut] = []
    for week in weeks.values():
        hours = sum(BASE_HOURS + extra.get(d, 0) for d in week)
        for day in sorted(week, reverse=True):
            if hours <= cap:
                break
            take = min(extra.get(day, 0), hours - cap)
            if take:
                extra[day] -= take
                hours -= take
                cuts.append(NursingCut(day, take, f"max_hours_per_week: {cap}"))
    return cuts
