"""Nursing visit time to 99601/99602 units (DOMAIN §6; BCBSM Record 0513n).

99601 covers a visit of up to two hours, once a day; 99602 is each additional hour and only goes
with a 99601 on the same day. A started extra hour counts once it reaches the policy's
`extra_minutes`. A second visit on the same day adds its time as 99602 hours (BCBSM: "the RN
stays longer or makes a separate visit later the same day").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hitclaims.policy import NursingPolicy
from hitclaims.records import NursingVisit, ref

BASE_MINUTES = 120


def extra_hours(minutes: int, threshold: int) -> int:
    """Whole extra hours, plus one for a started hour of at least `threshold` minutes."""
    if minutes <= 0:
        return 0
    whole, rest = divmod(minutes, 60)
    return whole + (1 if rest >= threshold else 0)


@dataclass(frozen=True)
class VisitUnits:
    visit: NursingVisit
    record: str
    first_of_day: bool  # this visit carries the day's 99601
    extra_units: int  # 99602 hours this visit earns before caps
    extra_minutes: int  # minutes beyond what 99601 covers (all minutes for a later visit)
    timed: bool  # start and stop times are on record


def plan_visits(visits: Sequence[NursingVisit], policy: NursingPolicy) -> list[VisitUnits]:
    """Units each visit earns, before documentation holds and caps."""
    by_day: dict[date, list[NursingVisit]] = defaultdict(list)
    for visit in visits:
        by_day[visit.date].append(visit)
    plan: list[VisitUnits] = []
    for day in sorted(by_day):
        ordered = sorted(by_day[day], key=_visit_key)
        for i, visit in enumerate(ordered):
            minutes = visit.minutes or 0
            extra = minutes - BASE_MINUTES if i == 0 else minutes
            plan.append(
                VisitUnits(
                    visit=visit,
                    record=ref(visit),
                    first_of_day=i == 0,
                    extra_units=extra_hours(extra, policy.extra_minutes),
                    extra_minutes=max(extra, 0),
                    timed=visit.start is not None,
                )
            )
    return plan


def _visit_key(visit: NursingVisit) -> tuple[datetime, str, str, int]:
    start = visit.start.astimezone(UTC) if visit.start else datetime.max.replace(tzinfo=UTC)
    return (start, visit.id or "", visit.note or "", visit.minutes or 0)
