"""Payer policies in the store: the YAML files in use, kept as text and read back to bill."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib.resources.abc import Traversable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.catalog import Catalog
from hitclaims.inputs.loading import PolicyBook, book_of, parse_policy, policy_files, read_text
from hitclaims.store.audit import audit, now
from hitclaims.store.models import PolicyRecord


def sync_policies(
    db: DbSession, folders: Sequence[Path | Traversable], catalog: Catalog, username: str
) -> int:
    """Store every policy file of the folders (new or changed ones); returns how many changed."""
    changed = 0
    for folder in folders:
        for file in policy_files(folder):
            text = read_text(file)
            policy = parse_policy(file.name, text, catalog)
            digest = hashlib.sha256(text.encode()).hexdigest()
            row = db.scalar(
                select(PolicyRecord).where(
                    PolicyRecord.payer_id == policy.id, PolicyRecord.effective_from == policy.effective.from_
                )
            )
            if row is not None and row.digest == digest:
                continue
            if row is None:
                row = PolicyRecord(payer_id=policy.id, effective_from=policy.effective.from_)
                db.add(row)
            row.name, row.effective_to = policy.name, policy.effective.to
            row.source_file, row.yaml_text, row.digest, row.loaded_at = file.name, text, digest, now()
            audit(db, username, "policy.load", "policy", policy.id, file=file.name)
            changed += 1
    return changed


def policy_book(db: DbSession, catalog: Catalog) -> PolicyBook:
    """The policies on record; overlapping date ranges of one payer are unusable, as on the command
    line (the server used to bill with the older one)."""
    rows = db.scalars(select(PolicyRecord).order_by(PolicyRecord.payer_id, PolicyRecord.effective_from))
    return book_of((row.source_file, parse_policy(row.source_file, row.yaml_text, catalog)) for row in rows)
