"""Claims in the store: reading them, moving them through their states, exporting the ready ones.

State changes are conditional updates (`... WHERE status = <the state we saw>`), so two billers
clicking at once cannot both move a claim, and an 837 batch takes each ready claim once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from hitclaims.core.claim import Claim
from hitclaims.core.provider import Provider
from hitclaims.formats.x12 import Envelope
from hitclaims.formats.x12_837p import write_837
from hitclaims.store.models import ClaimEvent, ClaimRecord, Episode, Interchange
from hitclaims.store.runs import release
from hitclaims.store.users import audit, now

STATES = ("ready", "held", "refused", "submitted", "paid", "denied", "void")
# Where a biller may move a claim by hand. ready -> submitted also happens by export.
TRANSITIONS: dict[str, frozenset[str]] = {
    "ready": frozenset({"submitted", "void"}),
    "held": frozenset({"void"}),
    "refused": frozenset({"void"}),
    "submitted": frozenset({"paid", "denied", "void"}),
    "denied": frozenset({"submitted", "void"}),
    "paid": frozenset(),
    "void": frozenset(),
}


class StateError(Exception):
    """The move is not allowed from the claim's state (or someone moved it first)."""


def claim_of(record: ClaimRecord) -> Claim:
    return Claim.model_validate_json(json.dumps(record.content))


def find(
    db: DbSession,
    status: str | None = None,
    payer_id: str | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    episode_key: str | None = None,
    current_only: bool = True,
    limit: int = 500,
    offset: int = 0,
) -> list[ClaimRecord]:
    query: Select[ClaimRecord] = select(ClaimRecord).options(selectinload(ClaimRecord.episode))
    if current_only:
        query = query.where(ClaimRecord.is_current.is_(True))
    if status:
        query = query.where(ClaimRecord.status == status)
    if payer_id:
        query = query.where(ClaimRecord.payer_id == payer_id)
    if period_from:
        query = query.where(ClaimRecord.period_end >= period_from)
    if period_to:
        query = query.where(ClaimRecord.period_start <= period_to)
    if episode_key:
        query = query.join(Episode, Episode.id == ClaimRecord.episode_id).where(
            Episode.episode_key == episode_key
        )
    query = (
        query.order_by(ClaimRecord.period_start.desc(), ClaimRecord.claim_key, ClaimRecord.id)
        .limit(limit)
        .offset(offset)
    )
    return list(db.scalars(query))


def get(db: DbSession, claim_id: int) -> ClaimRecord | None:
    return db.scalar(
        select(ClaimRecord)
        .where(ClaimRecord.id == claim_id)
        .options(selectinload(ClaimRecord.events), selectinload(ClaimRecord.episode))
    )


def change_status(db: DbSession, claim_id: int, to: str, username: str, note: str = "") -> ClaimRecord:
    record = get(db, claim_id)
    if record is None:
        raise LookupError(f"no claim {claim_id}")
    before = record.status
    if to not in TRANSITIONS.get(before, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(before, frozenset()))) or "none"
        raise StateError(f"status: a {before} claim cannot become {to} (allowed: {allowed})")
    values: dict[str, Any] = {"status": to, "updated_at": now()}
    if to == "void":
        values["is_current"] = False
    moved = db.execute(
        update(ClaimRecord).where(ClaimRecord.id == claim_id, ClaimRecord.status == before).values(**values)
    ).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        raise StateError("status: the claim changed meanwhile; reload it")
    if to == "void":
        release(db, claim_id)  # its days may be billed again
    db.add(
        ClaimEvent(
            claim_id=claim_id, at=now(), username=username, from_status=before, to_status=to, note=note
        )
    )
    audit(db, username, "claim.status", "claim", claim_id, before=before, after=to)
    db.refresh(record)
    return record


@dataclass(frozen=True)
class Export:
    interchange_id: int
    claim_ids: list[int]
    content: str


def export_ready(
    db: DbSession, provider: Provider, username: str, zone: ZoneInfo, payer_id: str | None = None
) -> Export | None:
    """One 837 batch of the ready claims; each is marked submitted. None when nothing is ready."""
    candidates = find(db, status="ready", payer_id=payer_id, limit=10_000)
    taken: list[ClaimRecord] = []
    for record in candidates:
        moved = db.execute(
            update(ClaimRecord)
            .where(
                ClaimRecord.id == record.id, ClaimRecord.status == "ready", ClaimRecord.is_current.is_(True)
            )
            .values(status="submitted", updated_at=now())
        ).rowcount  # type: ignore[attr-defined]
        if moved == 1:
            taken.append(record)
    if not taken:
        return None
    interchange = Interchange(created_at=now(), created_by=username, claim_count=len(taken), content="")
    db.add(interchange)
    db.flush()
    claims = [claim_of(r).model_copy(update={"status": "ready"}) for r in taken]
    created = datetime.now(zone).replace(tzinfo=None, second=0, microsecond=0)
    envelope = Envelope(provider.sender_id, provider.receiver.id, created, interchange.id)
    interchange.content = write_837(claims, envelope, provider.receiver.name)
    for record in taken:
        record.interchange_id = interchange.id
        db.add(
            ClaimEvent(
                claim_id=record.id,
                at=now(),
                username=username,
                from_status="ready",
                to_status="submitted",
                note=f"837 batch {interchange.id}",
            )
        )
    audit(db, username, "claims.export", "interchange", interchange.id, claims=[r.id for r in taken])
    return Export(interchange.id, [r.id for r in taken], interchange.content)


@dataclass(frozen=True)
class WorkItem:
    claim_id: int
    claim_key: str
    episode_id: str
    payer_id: str
    status: str
    kind: str  # claim | day | line
    day: date | None
    rule: str
    message: str


def worklist(db: DbSession) -> list[WorkItem]:
    """Everything held: whole claims with the findings that hold them, and held days."""
    items: list[WorkItem] = []
    query = (
        select(ClaimRecord)
        .where(ClaimRecord.is_current.is_(True), ClaimRecord.status.in_(("held", "ready", "refused")))
        .options(selectinload(ClaimRecord.findings), selectinload(ClaimRecord.episode))
        .order_by(ClaimRecord.claim_key)
    )
    for record in db.scalars(query):
        for f in record.findings:
            if f.severity != "error":
                continue
            kind = {"day": "day", "line": "line"}.get(f.holds, "claim")
            items.append(
                WorkItem(
                    record.id,
                    record.claim_key,
                    record.episode.episode_key,
                    record.payer_id,
                    record.status,
                    kind,
                    f.day,
                    f.rule,
                    f.message,
                )
            )
    return items


def interchange(db: DbSession, interchange_id: int) -> Interchange | None:
    return db.get(Interchange, interchange_id)
