"""The audit log: one row for every change, every read of PHI (an episode, a claim, a download,
a ledger), and every sign-in, refused or throttled sign-in and sign-out.

Rows carry the user, the action, the record and ids, counts or the client address only, never
personal values or passwords.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from hitclaims.store.models import AuditEntry


def now() -> datetime:
    """The store's timestamps are UTC instants; the pharmacy's zone is for showing them."""
    return datetime.now(UTC)


def audit(db: DbSession, username: str, action: str, entity: str, entity_id: object, **detail: Any) -> None:
    """Record a change. `detail` carries ids and counts only, never personal data."""
    db.add(
        AuditEntry(
            at=now(), username=username, action=action, entity=entity, entity_id=str(entity_id), detail=detail
        )
    )


def recent(db: DbSession, limit: int) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
