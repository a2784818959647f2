"""Claims as billers work them: find and read them, move them through their states, hand out
their 837, FHIR and PDF, and list what is held.

Whether a claim may be sent is decided from its state, not by rendering an 837 to find out.
Every read of a claim (its page, its document, its 837, FHIR or PDF) is audited by user and
claim id: a claim holds PHI.
"""

from __future__ import annotations

from dataclasses import dataclass

from hitclaims.core import lifecycle
from hitclaims.core.claim import Claim
from hitclaims.core.errors import ConflictError, NotFoundError
from hitclaims.core.vocabulary import CLAIM_STATUSES, SENDABLE_STATUSES, ClaimStatus
from hitclaims.formats.x12.claim_837p import write_837
from hitclaims.formats.x12.envelope import default_envelope
from hitclaims.services.users import Person, audit_read, require_change
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store import ledger
from hitclaims.store.audit import audit
from hitclaims.store.claims import ClaimFilter, WorkItem
from hitclaims.store.models import ClaimRecord

__all__ = [
    "ClaimFilter",
    "ClaimPage",
    "WorkItem",
    "claim_837",
    "claim_fhir",
    "claim_pdf",
    "find",
    "may_send",
    "move",
    "payers",
    "read",
    "read_page",
    "status_counts",
    "worklist",
]


def find(place: Workplace, where: ClaimFilter, limit: int = 200, offset: int = 0) -> list[ClaimRecord]:
    with place.reading() as db:
        return claim_store.find(db, where, limit, offset)


def read(place: Workplace, claim_id: int, by: Person) -> ClaimRecord:
    """The claim for `by` to see (audited)."""
    record = _record(place, claim_id)
    audit_read(place, by, "claim.read", "claim", claim_id)
    return record


def _record(place: Workplace, claim_id: int) -> ClaimRecord:
    with place.reading() as db:
        record = claim_store.get(db, claim_id)
    if record is None:
        raise NotFoundError(f"no claim {claim_id}", "claim_id")
    return record


@dataclass(frozen=True)
class ClaimPage:
    """A claim with what a biller needs beside it: its neighbours in the replacement chain and
    the moves open to it."""

    record: ClaimRecord
    claim: Claim
    replaces: ClaimRecord | None
    replaced_by: ClaimRecord | None
    moves: tuple[ClaimStatus, ...]
    sendable: bool


def read_page(place: Workplace, claim_id: int, by: Person) -> ClaimPage:
    with place.reading() as db:
        record = claim_store.get(db, claim_id)
        if record is None:
            raise NotFoundError(f"no claim {claim_id}", "claim_id")
        replaces = claim_store.get(db, record.replaces_id) if record.replaces_id else None
        later = claim_store.replaced_by(db, record.id)
    moves = tuple(s for s in CLAIM_STATUSES if s in lifecycle.moves_from(record.status))  # type: ignore[arg-type]
    audit_read(place, by, "claim.read", "claim", claim_id)
    return ClaimPage(record, claim_store.claim_of(record), replaces, later, moves, may_send(record))


def may_send(record: ClaimRecord) -> bool:
    """Whether the claim's 837 may be handed out: a ready claim, or a sent one as it was sent."""
    return record.status in SENDABLE_STATUSES


def move(place: Workplace, claim_id: int, to: str, by: Person, note: str = "") -> ClaimRecord:
    """Move a claim by hand (the lifecycle says which moves are open); a void frees its days."""
    require_change(by)
    with place.changing() as db:
        record = claim_store.get(db, claim_id)
        if record is None:
            raise NotFoundError(f"no claim {claim_id}", "claim_id")
        before = record.status
        after = lifecycle.check_move(before, to)  # type: ignore[arg-type]
        if not claim_store.set_status(db, claim_id, before, after):
            raise ConflictError("the claim changed meanwhile; reload it", "status")
        if after == "void":
            ledger.release(db, claim_id)  # its days may be billed again
        claim_store.add_event(db, claim_id, by.username, before, after, note.strip()[:500])
        audit(db, by.username, "claim.status", "claim", claim_id, before=before, after=after)
        db.flush()
        db.refresh(record)
        return record


def claim_837(place: Workplace, claim_id: int, by: Person) -> tuple[ClaimRecord, str]:
    """The claim alone as an 837 (a sent claim as it was sent; an unsent one only when ready)."""
    record = _record(place, claim_id)
    if not may_send(record):
        raise ConflictError(f"a {record.status} claim is never written to an 837", "status")
    sendable = claim_store.claim_of(record).model_copy(update={"status": "ready"})
    envelope = default_envelope([sendable], place.provider.receiver.id, record.created_at.date())
    content = write_837([sendable], envelope, place.provider.receiver.name)
    audit_read(place, by, "claim.837", "claim", claim_id)
    return record, content


def claim_fhir(place: Workplace, claim_id: int, by: Person) -> tuple[ClaimRecord, str]:
    from hitclaims.formats.fhir.claim_bundle import render_fhir  # fhir.resources: imported when used

    record = _record(place, claim_id)
    content = render_fhir([claim_store.claim_of(record)])
    audit_read(place, by, "claim.fhir", "claim", claim_id)
    return record, content


def claim_pdf(place: Workplace, claim_id: int, by: Person) -> tuple[ClaimRecord, bytes]:
    from hitclaims.formats.cms1500.render import render_pdf  # reportlab: imported when used

    record = _record(place, claim_id)
    content = render_pdf([claim_store.claim_of(record)])
    audit_read(place, by, "claim.pdf", "claim", claim_id)
    return record, content


def worklist(place: Workplace) -> list[WorkItem]:
    """Everything held: claims and the findings that hold them, held days and held lines."""
    with place.reading() as db:
        return claim_store.worklist(db)


def status_counts(place: Workplace) -> dict[ClaimStatus, int]:
    with place.reading() as db:
        found = claim_store.status_counts(db)
    return {status: found.get(status, 0) for status in CLAIM_STATUSES}


def payers(place: Workplace) -> list[str]:
    with place.reading() as db:
        return claim_store.payers(db)
