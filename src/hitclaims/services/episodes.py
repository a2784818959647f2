"""Episodes as billers handle them: import one (episode JSON or a FHIR Bundle), list and read
them, and explain a period day by day (the ledger a run would bill now). Reading an episode or
its ledger is audited by user and episode id: both hold PHI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hitclaims.core.claim import LedgerRow
from hitclaims.core.days import Period
from hitclaims.core.errors import InputError, NotFoundError, UnusableInputError
from hitclaims.core.records import Episode
from hitclaims.services.billing import checked_period, parse_any
from hitclaims.services.runs import compute
from hitclaims.services.users import Person, audit_read, require_change
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store import episodes as episode_store
from hitclaims.store import ledger
from hitclaims.store.claims import ClaimFilter
from hitclaims.store.models import ClaimRecord, EpisodeRecord


@dataclass(frozen=True)
class ImportResult:
    episode_id: str
    version: int
    changed: bool
    notes: list[str] = field(default_factory=list)


def import_document(place: Workplace, text: str, name: str, by: Person) -> ImportResult:
    """An episode JSON or a FHIR Bundle, as text: checked exactly like `hitclaims bill` does, and
    refused when no payer policy is in force for its payer today."""
    require_change(by)
    episode, notes, source = parse_any(name, text, place.catalog)
    try:
        place.setup().policies.for_payer(episode.coverage.payer_id, place.clock.today())
    except UnusableInputError as exc:
        raise InputError(name, "coverage", "payer_id", exc.message) from None
    with place.changing() as db:
        done = episode_store.import_episode(db, episode, source, notes, by.username)
    return ImportResult(done.episode_id, done.version, done.changed, notes)


def page(place: Workplace, limit: int, offset: int = 0) -> list[EpisodeRecord]:
    with place.reading() as db:
        return episode_store.page(db, limit, offset)


@dataclass(frozen=True)
class EpisodeView:
    record: EpisodeRecord
    episode: Episode
    content: dict[str, Any]


def read(place: Workplace, episode_key: str, by: Person) -> EpisodeView:
    with place.reading() as db:
        record = episode_store.with_versions(db, episode_key)
        if record is None:
            raise NotFoundError(f"no episode {episode_key}", "episode_id")
        version = episode_store.current_version(db, record)
        found = EpisodeView(record, episode_store.load(version), version.content)
    audit_read(place, by, "episode.read", "episode", record.episode_key)
    return found


def version_notes(place: Workplace, episode_key: str, version: int) -> list[str] | None:
    """What an imported version's FHIR Bundle held that could not be mapped (None: no such version)."""
    with place.reading() as db:
        record = episode_store.by_key(db, episode_key)
        stored = episode_store.version(db, record, version) if record is not None else None
        return list(stored.notes) if stored is not None else None


@dataclass(frozen=True)
class PeriodLedger:
    """A period's day ledger computed now, and the days other claims already bill."""

    period: Period
    rows: list[LedgerRow]
    current_claims: list[int]
    on_claims: dict[date, tuple[int, str]]  # day -> (claim id, claim key) in the billed-day ledger
    problem: str = ""  # why there is no ledger (no policy in force for the payer then)


def period_ledger(
    place: Workplace,
    episode_key: str,
    first: date,
    last: date,
    by: Person,
    as_of: date | None = None,
    strict: bool = False,
) -> PeriodLedger:
    """The day ledger for a period: what is billed, held or not billable, and why (the read is
    audited). With no payer policy in force, `strict` raises; otherwise the ledger is empty and
    says why."""
    found = _period_ledger(place, episode_key, first, last, as_of, strict)
    audit_read(place, by, "episode.ledger", "episode", episode_key)
    return found


def _period_ledger(
    place: Workplace, episode_key: str, first: date, last: date, as_of: date | None, strict: bool
) -> PeriodLedger:
    with place.reading() as db:
        record = episode_store.by_key(db, episode_key)
        if record is None:
            raise NotFoundError(f"no episode {episode_key}", "episode_id")
        period = checked_period(first, last)
        on_claims = ledger.billed_days(db, record.patient.patient_key, period)
        try:
            billing = compute(db, episode_key, period, as_of or place.clock.today(), place.setup())
        except UnusableInputError as exc:
            if strict:
                raise
            return PeriodLedger(period, [], [], on_claims, exc.message)
        return PeriodLedger(
            period, list(billing.claims[0].ledger), [c.id for c in billing.current], on_claims
        )


def default_month(place: Workplace, episode_key: str) -> date:
    """The month of the most recent claim, else the month the first order starts, else this one."""
    with place.reading() as db:
        latest = claim_store.find(db, ClaimFilter(episode_key=episode_key, current_only=False), limit=1)
        if latest:
            return latest[0].period_start.replace(day=1)
        record = episode_store.by_key(db, episode_key)
        orders = episode_store.load(episode_store.current_version(db, record)).orders if record else []
    start = min((o.start for o in orders), default=place.clock.today())
    return start.replace(day=1)


def claims_in(place: Workplace, episode_key: str, period: Period) -> list[ClaimRecord]:
    """Every claim of the episode touching the period, replaced and void ones included."""
    where = ClaimFilter(
        episode_key=episode_key, period_from=period.start, period_to=period.end, current_only=False
    )
    with place.reading() as db:
        return claim_store.find(db, where)
