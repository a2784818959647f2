"""Claims in the store: writing them, finding them, and moving them with conditional updates.

This module only persists: the lifecycle (core/lifecycle.py) decides what a billing does to the
claims on record and which moves are allowed, and the formats render. State changes are
conditional updates (`... WHERE status = <the state we saw>`), so two billers clicking at once
cannot both move a claim, and an 837 batch takes each ready claim once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import joinedload, selectinload

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.vocabulary import VOID, ClaimStatus, WorkKind
from hitclaims.store.audit import now
from hitclaims.store.models import (
    Base,
    ClaimEvent,
    ClaimLineRecord,
    ClaimRecord,
    EpisodeRecord,
    FindingRecord,
    HeldDayRecord,
    Interchange,
)


def claim_of(record: ClaimRecord) -> Claim:
    return Claim.model_validate_json(json.dumps(record.content))


@dataclass(frozen=True)
class ClaimFilter:
    status: ClaimStatus | None = None
    payer_id: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    episode_key: str | None = None
    current_only: bool = True


def find(
    db: DbSession, where: ClaimFilter = ClaimFilter(), limit: int = 500, offset: int = 0
) -> list[ClaimRecord]:
    query: Select[ClaimRecord] = select(ClaimRecord).options(selectinload(ClaimRecord.episode))
    if where.current_only:
        query = query.where(ClaimRecord.is_current.is_(True))
    if where.status:
        query = query.where(ClaimRecord.status == where.status)
    if where.payer_id:
        query = query.where(ClaimRecord.payer_id == where.payer_id)
    if where.period_from:
        query = query.where(ClaimRecord.period_end >= where.period_from)
    if where.period_to:
        query = query.where(ClaimRecord.period_start <= where.period_to)
    if where.episode_key:
        query = query.join(EpisodeRecord, EpisodeRecord.id == ClaimRecord.episode_id).where(
            EpisodeRecord.episode_key == where.episode_key
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
        .options(selectinload(ClaimRecord.events), joinedload(ClaimRecord.episode))
    )


def replaced_by(db: DbSession, claim_id: int) -> ClaimRecord | None:
    return db.scalar(select(ClaimRecord).where(ClaimRecord.replaces_id == claim_id))


def current_for_many(
    db: DbSession, episode_ids: Sequence[int], period: Period
) -> dict[int, list[ClaimRecord]]:
    """Each episode's current claims for exactly this period (voids excluded), parts in order,
    in one query."""
    found: dict[int, list[ClaimRecord]] = {}
    for record in db.scalars(
        select(ClaimRecord)
        .where(
            ClaimRecord.is_current.is_(True),
            ClaimRecord.episode_id.in_(episode_ids),
            ClaimRecord.period_start == period.start,
            ClaimRecord.period_end == period.end,
            ClaimRecord.frequency_code != VOID,
        )
        .order_by(ClaimRecord.episode_id, ClaimRecord.claim_key)
    ):
        found.setdefault(record.episode_id, []).append(record)
    return found


def add(
    db: DbSession,
    claim: Claim,
    episode_id: int,
    version_id: int,
    run_id: int | None,
    replaces: ClaimRecord | None,
    digest: str,
) -> ClaimRecord:
    """Write a claim with its lines, findings and held days; flushed, so it has its id."""
    stamp = now()
    record = ClaimRecord(
        claim_key=claim.claim_id,
        is_current=True,
        run_id=run_id,
        episode_id=episode_id,
        episode_version_id=version_id,
        payer_id=claim.payer_id,
        period_start=claim.period.from_,
        period_end=claim.period.to,
        status=claim.status,
        frequency_code=claim.frequency_code,
        replaces_id=replaces.id if replaces else None,
        total_charge=claim.total_charge,
        content=json.loads(claim.model_dump_json(by_alias=True)),
        content_digest=digest,
        created_at=stamp,
        updated_at=stamp,
    )
    db.add(record)
    db.flush()
    # The claim's rows go in one multi-row insert per table; its relationships load on first use.
    for table, rows in _parts_of(claim, record.id):
        if rows:
            db.execute(insert(table), rows)
    return record


def _parts_of(claim: Claim, claim_id: int) -> list[tuple[type[Base], list[dict[str, Any]]]]:
    """A claim's lines, findings and held days, as rows of their tables."""
    lines = [
        {
            "claim_id": claim_id,
            "line_number": ln.line_number,
            "kind": ln.kind,
            "code": ln.code,
            "modifiers": " ".join(ln.modifiers),
            "service_from": ln.from_,
            "service_to": ln.to,
            "units": ln.units,
            "charge": ln.charge,
            "ndc": ln.ndc if ln.ndc and len(ln.ndc) == 11 else None,
        }
        for ln in claim.lines
    ]
    findings = [
        {
            "claim_id": claim_id,
            "rule": f.rule,
            "severity": f.severity,
            "holds": f.holds,
            "day": f.date,
            "record": f.record[:120],
            "message": f.message,
        }
        for f in claim.findings
    ]
    held = [{"claim_id": claim_id, "day": h.date, "rule": h.rule} for h in claim.held_days]
    return [(ClaimLineRecord, lines), (FindingRecord, findings), (HeldDayRecord, held)]


def add_event(db: DbSession, claim_id: int, username: str, before: str | None, after: str, note: str) -> None:
    db.add(
        ClaimEvent(
            claim_id=claim_id, at=now(), username=username, from_status=before, to_status=after, note=note
        )
    )


def retire(record: ClaimRecord, void: bool) -> None:
    """No longer the current claim for its period (and void, when it was never sent)."""
    record.is_current = False
    record.updated_at = now()
    if void:
        record.status = "void"


def set_status(db: DbSession, claim_id: int, before: str, after: str, **values: Any) -> bool:
    """Move the claim only if it is still in `before`; False when someone moved it first."""
    values = {"status": after, "updated_at": now(), **values}
    if after == "void":
        values["is_current"] = False
    if after == "submitted":  # A/R ages from the first submission, not a resubmission
        values["submitted_at"] = func.coalesce(ClaimRecord.submitted_at, now())
    query = update(ClaimRecord).where(ClaimRecord.id == claim_id, ClaimRecord.status == before)
    if before == "ready" and after == "submitted":
        query = query.where(ClaimRecord.is_current.is_(True))
    moved: int = db.execute(query.values(**values)).rowcount  # type: ignore[attr-defined]
    return moved == 1


def ready_ids(db: DbSession, payer_id: str | None, limit: int) -> list[int]:
    """The next ready claims to send, oldest period first."""
    query = select(ClaimRecord.id).where(ClaimRecord.status == "ready", ClaimRecord.is_current.is_(True))
    if payer_id:
        query = query.where(ClaimRecord.payer_id == payer_id)
    return list(db.scalars(query.order_by(ClaimRecord.period_start, ClaimRecord.claim_key).limit(limit)))


def add_interchange(db: DbSession, username: str, claim_ids: list[int]) -> Interchange:
    """An 837 batch row (its control number is its id); the content is written once rendered."""
    batch = Interchange(created_at=now(), created_by=username, claim_count=len(claim_ids), content="")
    db.add(batch)
    db.flush()
    db.execute(update(ClaimRecord).where(ClaimRecord.id.in_(claim_ids)).values(interchange_id=batch.id))
    return batch


def by_ids(db: DbSession, claim_ids: list[int]) -> list[ClaimRecord]:
    rows = {r.id: r for r in db.scalars(select(ClaimRecord).where(ClaimRecord.id.in_(claim_ids)))}
    return [rows[i] for i in claim_ids]


def interchange(db: DbSession, interchange_id: int) -> Interchange | None:
    return db.get(Interchange, interchange_id)


@dataclass(frozen=True)
class WorkItem:
    claim_id: int
    claim_key: str
    episode_id: str
    payer_id: str
    status: str
    kind: WorkKind
    day: date | None
    rule: str
    message: str


def worklist(db: DbSession) -> list[WorkItem]:
    """Everything held: whole claims with the findings that hold them, and held days."""
    query = (
        select(ClaimRecord)
        .where(ClaimRecord.is_current.is_(True), ClaimRecord.status.in_(("held", "ready", "refused")))
        .options(selectinload(ClaimRecord.findings), selectinload(ClaimRecord.episode))
        .order_by(ClaimRecord.claim_key)
    )
    items: list[WorkItem] = []
    for record in db.scalars(query):
        for f in record.findings:
            if f.severity != "error":
                continue
            kind: WorkKind = "day" if f.holds == "day" else "line" if f.holds == "line" else "claim"
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


def status_counts(db: DbSession) -> dict[str, int]:
    """Current claims by status; void ones are no longer current, so they are counted apart."""
    rows = db.execute(
        select(ClaimRecord.status, func.count())
        .where(or_(ClaimRecord.is_current.is_(True), ClaimRecord.status == "void"))
        .group_by(ClaimRecord.status)
    ).all()
    return {row[0]: int(row[1]) for row in rows}


def payers(db: DbSession) -> list[str]:
    return list(db.scalars(select(ClaimRecord.payer_id).distinct().order_by(ClaimRecord.payer_id)))
