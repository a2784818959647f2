"""Hypothesis strategies: random but valid episodes and policies around DST months."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from hitclaims.core.days import Period

from .builders import episode_dict, policy

ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Phoenix", "America/Los_Angeles"]
# March and November hold the DST changes in the US zones.
PERIODS = [Period(date(2025, 3, 1), date(2025, 3, 31)), Period(date(2025, 11, 1), date(2025, 11, 30))]


def _at(base: date, minutes: int, zone: str) -> str:
    moment = datetime(base.year, base.month, base.day, tzinfo=ZoneInfo(zone)) + timedelta(minutes=minutes)
    return moment.astimezone(ZoneInfo(zone)).isoformat()


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], Any, Period]:
    zone = draw(st.sampled_from(ZONES))
    period = draw(st.sampled_from(PERIODS))
    start = period.start + timedelta(days=draw(st.integers(-5, 20)))
    span = period.length * 24 * 60
    mode = draw(st.sampled_from(["continuous", "intermittent"]))
    order_end = draw(st.none() | st.integers(0, 40).map(lambda n: (start + timedelta(days=n)).isoformat()))
    orders = [
        {
            "id": "O-1",
            "signed_at": _at(start - timedelta(days=1), 600, zone),
            "start": start.isoformat(),
            "end": order_end,
            "drug": "hydromorphone",
            "dose": "0.5 mg/h",
            "rate": "1 mL/h",
            "mode": mode,
        }
    ]
    n_events = draw(st.integers(0, 14))
    events = [
        {
            "at": _at(period.start, draw(st.integers(-3 * 24 * 60, span + 24 * 60)), zone),
            "type": draw(st.sampled_from(["start", "start", "stop", "rate_change", "alarm"])),
            "rate": draw(st.sampled_from(["1 mL/h", "2 mL/h"])),
        }
        for _ in range(n_events)
    ]
    holds = []
    for _ in range(draw(st.integers(0, 2))):
        offset = draw(st.integers(0, span))
        length = draw(st.integers(60, 6 * 24 * 60))
        holds.append(
            {
                "start": _at(period.start, offset, zone),
                "end": _at(period.start, offset + length, zone),
                "reason": draw(st.sampled_from(["inpatient", "skilled_nursing", "hospice", "other"])),
            }
        )
    discontinued = draw(st.none() | st.integers(0, span).map(lambda m: _at(period.start, m, zone)))
    note_days = draw(st.sets(st.integers(0, period.length - 1)))
    notes = [
        {
            "date": (period.start + timedelta(days=d)).isoformat(),
            "author": "RN",
            "text": "Infusing; pain 3/10.",
        }
        for d in sorted(note_days)
    ]
    dispenses = [
        {
            "date": (period.start + timedelta(days=draw(st.integers(0, period.length - 1)))).isoformat(),
            "drug": draw(st.sampled_from(["hydromorphone", "bupivacaine", "fentanyl", "ketamine"])),
            "ndc": "0409-2634-01",
            "quantity": str(draw(st.integers(1, 500))),
            "unit": "ML",
            "amount": str(draw(st.integers(1, 2000))),
            "amount_unit": draw(st.sampled_from(["mg", "mcg"])),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    visits = []
    for _ in range(draw(st.integers(0, 4))):
        day = period.start + timedelta(days=draw(st.integers(0, period.length - 1)))
        begin = draw(st.integers(7 * 60, 14 * 60))
        visits.append(
            {
                "date": day.isoformat(),
                "start": _at(day, begin, zone),
                "end": _at(day, begin + draw(st.integers(20, 330)), zone),
                "credential": "RN",
                "note": "Site check.",
            }
        )
    concurrent = [
        {
            "code": draw(st.sampled_from(["S9500", "S9373", "S9490"])),
            "start": (period.start + timedelta(days=draw(st.integers(0, 20)))).isoformat(),
            "end": (period.start + timedelta(days=draw(st.integers(20, 40)))).isoformat(),
            "rate": str(draw(st.integers(50, 300))),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    data = episode_dict(
        orders=orders,
        pump_events=events,
        holds=holds,
        discontinued_at=discontinued,
        progress_notes=notes,
        dispenses=dispenses,
        nursing_visits=visits,
        concurrent_therapies=concurrent,
    )
    data["patient"]["timezone"] = zone
    pol = policy(
        billable_day=draw(st.sampled_from(["access", "infusion", "elapsed_24h"])),
        line_format=draw(st.sampled_from(["daily", "span", "calendar_month"])),
        max_span_days=draw(st.none() | st.integers(1, 10)),
        continuity_gap_minutes=draw(st.sampled_from([0, 30, 120, 240])),
        bill_admission_day=draw(st.booleans()),
        bill_discharge_day=draw(st.booleans()),
        concurrent_primary=draw(st.sampled_from(["highest_rate", "first_started"])),
    )
    return data, pol, period
