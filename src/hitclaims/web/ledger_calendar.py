"""An episode's month as a calendar: each day billed, held, not billable or outside therapy, and why.

The days come from `compute` (the engine's day ledger, computed now from the current records
and what other claims already bill), so the calendar explains exactly what a run would do. A
computation for the whole month sees the days an existing claim bills as "already billed"; the
billed-day ledger then names that claim, so the cell says "billed" and links to it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.claim import LedgerRow
from hitclaims.core.days import Period
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store.episodes import current_version, load
from hitclaims.store.models import BilledDay, ClaimRecord
from hitclaims.store.models import Episode as EpisodeRecord
from hitclaims.store.runs import compute

KINDS = {
    "billed": "Billed",
    "to-bill": "To bill",
    "held": "Held",
    "not-billable": "Not billable",
    "outside": "Outside therapy",
}


@dataclass(frozen=True)
class OnClaim:
    claim_id: int
    claim_key: str


@dataclass(frozen=True)
class DayCell:
    day: date
    kind: str  # a key of KINDS
    code: str | None
    held_by: tuple[str, ...]
    reasons: tuple[str, ...]
    claim: OnClaim | None

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def title(self) -> str:
        """The hover text: the verdict, then every reason on its own line."""
        return "\n".join((f"{self.day.isoformat()}: {self.label}", *self.reasons))


@dataclass(frozen=True)
class Month:
    first: date
    last: date
    weeks: list[list[DayCell | None]]  # Monday first; None pads the first and last week
    problem: str  # why there is no ledger (no policy for the payer then), or ""

    @property
    def name(self) -> str:
        return self.first.strftime("%B %Y")

    @property
    def previous(self) -> str:
        return _shift(self.first, -1).strftime("%Y-%m")

    @property
    def next(self) -> str:
        return _shift(self.first, 1).strftime("%Y-%m")

    def count(self, kind: str) -> int:
        return sum(1 for week in self.weeks for c in week if c is not None and c.kind == kind)


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        if not 1900 <= year <= 2999:  # prev/next links stay inside what `date` can hold
            raise ValueError(year)
        return date(year, month, 1)
    except ValueError:
        raise ValueError(f"month: '{text}' is not a month (YYYY-MM)") from None


def default_month(db: DbSession, record: EpisodeRecord, fallback: date) -> date:
    """The month of the most recent claim, else the month the first order starts."""
    latest = claim_store.find(db, episode_key=record.episode_key, current_only=False, limit=1)
    if latest:
        return latest[0].period_start.replace(day=1)
    orders = load(current_version(db, record)).orders
    start = min((o.start for o in orders), default=fallback)
    return start.replace(day=1)


def _on_claims(db: DbSession, record: EpisodeRecord, period: Period) -> dict[date, OnClaim]:
    """Days of this patient and payer in the billed-day ledger, with the claim that bills them."""
    rows = db.execute(
        select(BilledDay.service_date, ClaimRecord.id, ClaimRecord.claim_key)
        .join(ClaimRecord, ClaimRecord.id == BilledDay.claim_id)
        .where(
            BilledDay.patient_key == record.patient.patient_key,
            BilledDay.payer_id == record.payer_id,
            BilledDay.service_date >= period.start,
            BilledDay.service_date <= period.end,
        )
    ).all()
    return {day: OnClaim(claim_id, key) for day, claim_id, key in rows}


def _cell(day: date, row: LedgerRow | None, claim: OnClaim | None) -> DayCell:
    if row is None:
        outside = () if claim else ("no order covers this day",)
        return DayCell(day, "billed" if claim else "outside", None, (), _with_claim(outside, claim), claim)
    kind = (
        "billed"
        if claim
        else {"billed": "to-bill", "held": "held", "not_billable": "not-billable"}[row.status]
    )
    reasons = tuple(row.reasons)
    if kind == "to-bill":
        reasons += ("not on a claim yet: the next billing run for this period bills it",)
    return DayCell(day, kind, row.code, tuple(row.held_by), _with_claim(reasons, claim), claim)


def _with_claim(reasons: tuple[str, ...], claim: OnClaim | None) -> tuple[str, ...]:
    return reasons if claim is None else (f"billed on claim {claim.claim_key}", *reasons)


def _weeks(cells: list[DayCell]) -> list[list[DayCell | None]]:
    padded: list[DayCell | None] = [None] * cells[0].day.weekday() + list(cells)
    padded += [None] * (-len(padded) % 7)
    return [padded[i : i + 7] for i in range(0, len(padded), 7)]


def month_calendar(db: DbSession, place: Workplace, record: EpisodeRecord, first: date, as_of: date) -> Month:
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    period = Period(first, last)
    problem = ""
    try:
        result = compute(db, record.episode_key, period, as_of, place.setup())
        rows = {r.date: r for r in result.claims[0].ledger}
    except LookupError as exc:  # no payer policy in force that month
        rows, problem = {}, str(exc).strip("'\"")
    on_claims = _on_claims(db, record, period)
    cells = [_cell(day, rows.get(day), on_claims.get(day)) for day in period.days()]
    return Month(first, last, _weeks(cells), problem)
