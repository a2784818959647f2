"""Sending claims: every ready claim goes out in 837 batches and becomes submitted.

Claims are taken with conditional updates, so two exports at once never send a claim twice.
No claim is left behind: the ready claims go out in batches of `BATCH` (one interchange each)
until none is left.
"""

from __future__ import annotations

from dataclasses import dataclass

from hitclaims.core.errors import ConflictError, NotFoundError
from hitclaims.formats.x12.claim_837p import write_837
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.services.users import Person, require_change
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store.audit import audit
from hitclaims.store.models import Interchange

BATCH = 5_000  # claims per interchange: a few MB, well inside what clearinghouses take


@dataclass(frozen=True)
class Export:
    interchange_id: int
    claim_ids: list[int]
    content: str


def export_ready(place: Workplace, by: Person, payer_id: str | None = None) -> list[Export]:
    """Every ready claim (of one payer, if given), in as many 837 batches as it takes; each claim
    becomes submitted. ConflictError when no claim is ready."""
    require_change(by)
    done: list[Export] = []
    while (batch := _one_batch(place, by.username, payer_id)) is not None:
        done.append(batch)
    if not done:
        raise ConflictError("no claim is ready to send", "status")
    return done


def _one_batch(place: Workplace, username: str, payer_id: str | None) -> Export | None:
    with place.changing() as db:
        taken = [
            claim_id
            for claim_id in claim_store.ready_ids(db, payer_id, BATCH)
            if claim_store.set_status(db, claim_id, "ready", "submitted")
        ]
        if not taken:
            return None
        batch = claim_store.add_interchange(db, username, taken)
        records = claim_store.by_ids(db, taken)
        claims = [claim_store.claim_of(r).model_copy(update={"status": "ready"}) for r in records]
        created = place.clock.local_now().replace(tzinfo=None, second=0, microsecond=0)
        envelope = Envelope(place.provider.sender_id, place.provider.receiver.id, created, batch.id)
        batch.content = write_837(claims, envelope, place.provider.receiver.name)
        for claim_id in taken:
            claim_store.add_event(db, claim_id, username, "ready", "submitted", f"837 batch {batch.id}")
        audit(db, username, "claims.export", "interchange", batch.id, claims=taken)
        return Export(batch.id, taken, batch.content)


def batch(place: Workplace, interchange_id: int, by: Person) -> Interchange:
    """An 837 batch (every claim in it is PHI): its download is audited."""
    with place.changing() as db:
        found = claim_store.interchange(db, interchange_id)
        if found is None:
            raise NotFoundError(f"no 837 batch {interchange_id}", "interchange_id")
        audit(db, by.username, "batch.837", "interchange", interchange_id)
        return found


def batch_size(place: Workplace, interchange_id: int) -> int | None:
    """How many claims a batch holds (no PHI: the worklist's notice after an export)."""
    with place.reading() as db:
        found = claim_store.interchange(db, interchange_id)
        return found.claim_count if found is not None else None
