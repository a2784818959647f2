"""At home or not (DOMAIN §3.3): holds (inpatient, skilled nursing, hospice) against each day.

A day wholly inside holds (one, or several back to back: a transfer) is not at home. A day
partly inside a hold is its admission or discharge day, at home unless the payer says not; a
hold within one day is both, so either setting takes the day off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hitclaims.core.days import day_bounds, show
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.records import Episode, Hold


@dataclass(frozen=True)
class HoldSpan:
    start: datetime
    end: datetime
    hold: Hold

    def describe(self, zone: ZoneInfo) -> str:
        end = show(self.end, zone) if self.hold.end is not None else "(still in)"
        reason = self.hold.reason.replace("_", " ")
        return f"{reason} hold {show(self.start, zone)} to {end}"


_OPEN_END = datetime(9999, 12, 31, tzinfo=UTC)  # a hold with no end yet


def hold_spans(episode: Episode) -> list[HoldSpan]:
    spans = [
        HoldSpan(h.start.astimezone(UTC), h.end.astimezone(UTC) if h.end else _OPEN_END, h)
        for h in episode.holds
    ]
    return sorted(spans, key=lambda s: (s.start, s.end, s.hold.reason))


def _covered(start: datetime, end: datetime, spans: Sequence[HoldSpan]) -> bool:
    """Is [start, end) wholly inside the union of the hold spans (back-to-back stays count)?"""
    reach = start
    for span in spans:
        if span.start > reach:
            break
        reach = max(reach, span.end)
        if reach >= end:
            return True
    return reach >= end


def _at_home_parts(
    start: datetime, end: datetime, spans: Sequence[HoldSpan]
) -> list[tuple[datetime, datetime]]:
    parts: list[tuple[datetime, datetime]] = []
    cursor = start
    for span in spans:
        if span.end <= cursor or span.start >= end:
            continue
        if span.start > cursor:
            parts.append((cursor, span.start))
        cursor = max(cursor, span.end)
    if cursor < end:
        parts.append((cursor, end))
    return parts


@dataclass(frozen=True)
class Home:
    """Whether a day counts as at home, why, and which part of it (UTC) the patient was home."""

    at_home: bool
    reasons: tuple[str, ...]
    parts: tuple[tuple[datetime, datetime], ...]  # the at-home part of the day (UTC)


def home_status(day: date, zone: ZoneInfo, spans: Sequence[HoldSpan], policy: PayerPolicy) -> Home:
    start, end = day_bounds(day, zone)
    touching = [s for s in spans if s.start < end and s.end > start]
    if not touching:
        return Home(True, ("at home all day",), ((start, end),))
    if _covered(start, end, touching):
        names = " and ".join(s.describe(zone) for s in touching)
        return Home(False, (f"{names} covers the whole day",), ())
    reasons: list[str] = []
    at_home = True
    for span in touching:
        if start <= span.start < end:
            allowed = policy.bill_admission_day
            reasons.append(
                f"admission day of {span.describe(zone)}: at home part of the day"
                f" ({'billable' if allowed else 'not billable'}: bill_admission_day: {str(allowed).lower()})"
            )
            at_home = at_home and allowed
        if start < span.end <= end and span.hold.end is not None:
            allowed = policy.bill_discharge_day
            reasons.append(
                f"discharge day of {span.describe(zone)}: at home part of the day"
                f" ({'billable' if allowed else 'not billable'}: bill_discharge_day: {str(allowed).lower()})"
            )
            at_home = at_home and allowed
    parts = tuple(_at_home_parts(start, end, touching))
    return Home(at_home, tuple(reasons), parts if at_home else ())
