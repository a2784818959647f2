"""Episodes: import (episode JSON or a FHIR Bundle), list, read, and the day ledger of a period."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from hitclaims.api import schemas as s
from hitclaims.api.deps import AUTH, BAD, NOT_FOUND, CurrentPerson, Place
from hitclaims.services import episodes

router = APIRouter(tags=["episodes"])


@router.post("/episodes", status_code=201, responses={**AUTH, **BAD})
def add_episode(
    person: CurrentPerson,
    place: Place,
    body: Annotated[dict[str, Any], Body(description="An episode (SPEC v1) or a FHIR R4 Bundle.")],
) -> s.ImportOut:
    done = episodes.import_document(place, json.dumps(body), "request body", person)
    return s.ImportOut(
        episode_id=done.episode_id, version=done.version, changed=done.changed, notes=done.notes
    )


@router.get("/episodes", responses=AUTH)
def list_episodes(
    person: CurrentPerson,
    place: Place,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[s.EpisodeSummary]:
    return [
        s.EpisodeSummary(
            episode_id=e.episode_key,
            patient_id=e.patient.patient_key,
            payer_id=e.payer_id,
            version=e.current_version,
            updated_at=e.updated_at,
        )
        for e in episodes.page(place, limit, offset)
    ]


@router.get("/episodes/{episode_id}", responses={**AUTH, **NOT_FOUND})
def read_episode(episode_id: str, person: CurrentPerson, place: Place) -> s.EpisodeOut:
    found = episodes.read(place, episode_id, person)
    record = found.record
    return s.EpisodeOut(
        episode_id=record.episode_key,
        patient_id=record.patient.patient_key,
        payer_id=record.payer_id,
        version=record.current_version,
        versions=[
            s.VersionOut(
                version=v.version, imported_at=v.imported_at, imported_by=v.imported_by, source=v.source
            )
            for v in record.versions
        ],
        records=found.content,
    )


@router.get("/episodes/{episode_id}/ledger", responses={**AUTH, **NOT_FOUND, **BAD})
def episode_ledger(
    episode_id: str,
    person: CurrentPerson,
    place: Place,
    period_from: Annotated[s.IsoDate, Query(alias="from")],
    period_to: Annotated[s.IsoDate, Query(alias="to")],
    as_of: s.IsoDate | None = None,
) -> s.LedgerOut:
    """The day ledger for a period: what is billed, held or not billable, and why.

    Computed now from the current records and what other claims already bill."""
    found = episodes.period_ledger(place, episode_id, period_from, period_to, person, as_of, strict=True)
    return s.LedgerOut(
        episode_id=episode_id,
        period_from=found.period.start,
        period_to=found.period.end,
        claim_ids=found.current_claims,
        days=[
            s.LedgerDay(date=r.date, status=r.status, code=r.code, reasons=r.reasons, held_by=r.held_by)
            for r in found.rows
        ],
    )
