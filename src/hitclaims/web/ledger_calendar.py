"""An episode's month as a calendar: each day billed, held, not billable or outside therapy, and why.

The days come from the episode service's period ledger (the engine's day ledger, computed now
from the current records and what other claims already bill), so the calendar explains exactly
what a run would do. A computation for the whole month sees the days an existing claim bills as
"already billed"; the billed-day ledger then names that claim, so the cell says "billed" and
links to it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from hitclaims.core.claim import LedgerRow
from hitclaims.core.days import Period
from hitclaims.core.errors import UnusableInputError
from hitclaims.services import episodes
from hitclaims.services.users import Person
from hitclaims.services.workplace import Workplace

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
        raise UnusableInputError(f"'{text}' is not a month (YYYY-MM)", "month") from None


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


def month_calendar(place: Workplace, episode_key: str, first: date, as_of: date, by: Person) -> Month:
    """The month as `by` sees it (the ledger read is audited)."""
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    period = Period(first, last)
    found = episodes.period_ledger(place, episode_key, first, last, by, as_of)
    rows = {r.date: r for r in found.rows}
    on_claims = {day: OnClaim(*claim) for day, claim in found.on_claims.items()}
    cells = [_cell(day, rows.get(day), on_claims.get(day)) for day in period.days()]
    return Month(first, last, _weeks(cells), found.problem)
