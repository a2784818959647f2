"""Episodes in the store: every imported version kept; an unchanged import adds nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from hitclaims.core.errors import ConflictError
from hitclaims.core.records import Episode
from hitclaims.store.audit import audit, now
from hitclaims.store.models import EpisodeRecord, EpisodeVersion, Patient


def content_of(episode: Episode) -> dict[str, Any]:
    return json.loads(episode.model_dump_json())  # type: ignore[no-any-return]


def digest(content: Any) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class EpisodeImport:
    episode_id: str
    version: int
    changed: bool


def import_episode(
    db: DbSession, episode: Episode, source: str, notes: list[str], username: str
) -> EpisodeImport:
    content = content_of(episode)
    key = digest(content)
    patient = db.scalar(select(Patient).where(Patient.patient_key == episode.patient.id))
    if patient is None:
        patient = Patient(patient_key=episode.patient.id, last_name="", first_name="")
        db.add(patient)
    patient.last_name, patient.first_name = episode.patient.last_name, episode.patient.first_name
    record = db.scalar(select(EpisodeRecord).where(EpisodeRecord.episode_key == episode.episode_id))
    if record is None:
        db.flush()
        record = EpisodeRecord(
            episode_key=episode.episode_id,
            patient_id=patient.id,
            payer_id=episode.coverage.payer_id,
            current_version=0,
            updated_at=now(),
        )
        db.add(record)
        db.flush()
    else:
        if record.patient_id != patient.id:
            raise ConflictError(f"episode {episode.episode_id} belongs to another patient", "episode_id")
        current = _version(db, record.id, record.current_version)
        if current is not None and current.content_digest == key:
            return EpisodeImport(episode.episode_id, record.current_version, changed=False)
    record.current_version += 1
    record.payer_id = episode.coverage.payer_id
    record.updated_at = now()
    db.add(
        EpisodeVersion(
            episode_id=record.id,
            version=record.current_version,
            content=content,
            content_digest=key,
            source=source,
            notes=notes,
            imported_at=now(),
            imported_by=username,
        )
    )
    audit(
        db,
        username,
        "episode.import",
        "episode",
        episode.episode_id,
        version=record.current_version,
        source=source,
    )
    return EpisodeImport(episode.episode_id, record.current_version, changed=True)


def _version(db: DbSession, episode_id: int, version: int) -> EpisodeVersion | None:
    return db.scalar(
        select(EpisodeVersion).where(
            EpisodeVersion.episode_id == episode_id, EpisodeVersion.version == version
        )
    )


def current_version(db: DbSession, record: EpisodeRecord) -> EpisodeVersion:
    version = _version(db, record.id, record.current_version)
    assert version is not None, "an episode always has its current version"
    return version


def load(version: EpisodeVersion) -> Episode:
    return Episode.model_validate_json(json.dumps(version.content))


def current_of(db: DbSession, keys: Sequence[str]) -> dict[str, tuple[EpisodeRecord, EpisodeVersion]]:
    """The listed episodes (those in the store) with their current versions, in one query."""
    rows = db.execute(
        select(EpisodeRecord, EpisodeVersion)
        .join(
            EpisodeVersion,
            (EpisodeVersion.episode_id == EpisodeRecord.id)
            & (EpisodeVersion.version == EpisodeRecord.current_version),
        )
        .where(EpisodeRecord.episode_key.in_(keys))
    )
    return {record.episode_key: (record, version) for record, version in rows}


def patients_of(db: DbSession, keys: Sequence[str]) -> dict[str, int]:
    """Each listed episode's patient (the patient row's id)."""
    rows = db.execute(
        select(EpisodeRecord.episode_key, EpisodeRecord.patient_id).where(EpisodeRecord.episode_key.in_(keys))
    )
    return dict(rows.all())


def by_key(db: DbSession, episode_key: str) -> EpisodeRecord | None:
    return db.scalar(select(EpisodeRecord).where(EpisodeRecord.episode_key == episode_key))


def missing_keys(db: DbSession, keys: Sequence[str]) -> list[str]:
    """The listed episode ids that are not in the store, in the order given."""
    known = set(db.scalars(select(EpisodeRecord.episode_key).where(EpisodeRecord.episode_key.in_(keys))))
    return [k for k in keys if k not in known]


def page(db: DbSession, limit: int, offset: int = 0) -> list[EpisodeRecord]:
    query = select(EpisodeRecord).options(selectinload(EpisodeRecord.patient))
    return list(db.scalars(query.order_by(EpisodeRecord.episode_key).limit(limit).offset(offset)))


def with_versions(db: DbSession, episode_key: str) -> EpisodeRecord | None:
    return db.scalar(
        select(EpisodeRecord)
        .where(EpisodeRecord.episode_key == episode_key)
        .options(selectinload(EpisodeRecord.patient), selectinload(EpisodeRecord.versions))
    )


def version(db: DbSession, record: EpisodeRecord, number: int) -> EpisodeVersion | None:
    return _version(db, record.id, number)
