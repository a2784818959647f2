"""Claims: list and read them, download their 837, FHIR and PDF, move them, see what is held,
and export the ready ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from hitclaims.api import schemas as s
from hitclaims.api.deps import AUTH, BAD, CONFLICT, NOT_FOUND, CurrentPerson, Place, RecordNumber
from hitclaims.core.vocabulary import ClaimStatus
from hitclaims.services import claims, exports
from hitclaims.services.claims import ClaimFilter
from hitclaims.store.models import ClaimRecord

router = APIRouter(tags=["claims"])


def _summary(record: ClaimRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "claim_id": record.claim_key,
        "episode_id": record.episode.episode_key,
        "payer_id": record.payer_id,
        "period_from": record.period_start,
        "period_to": record.period_end,
        "status": record.status,
        "frequency_code": record.frequency_code,
        "total_charge": record.total_charge,
        "is_current": record.is_current,
    }


def claim_out(record: ClaimRecord) -> s.ClaimOut:
    return s.ClaimOut(
        **_summary(record),
        replaces=record.replaces_id,
        claim=record.content,
        events=[
            s.EventOut(
                at=e.at, username=e.username, from_status=e.from_status, to_status=e.to_status, note=e.note
            )
            for e in record.events
        ],
    )


@router.get("/claims", responses={**AUTH, **BAD})
def list_claims(
    person: CurrentPerson,
    place: Place,
    status: ClaimStatus | None = None,
    payer_id: str | None = None,
    period_from: Annotated[s.IsoDate | None, Query(alias="from")] = None,
    period_to: Annotated[s.IsoDate | None, Query(alias="to")] = None,
    episode_id: str | None = None,
    include_replaced: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[s.ClaimSummary]:
    where = ClaimFilter(status, payer_id, period_from, period_to, episode_id, not include_replaced)
    return [s.ClaimSummary(**_summary(r)) for r in claims.find(place, where, limit, offset)]


@router.get("/claims/{claim_id}", responses={**AUTH, **NOT_FOUND})
def read_claim(claim_id: RecordNumber, person: CurrentPerson, place: Place) -> s.ClaimOut:
    """A claim with its lines, findings, held days and the reasons behind each day."""
    return claim_out(claims.read(place, claim_id, person))


def _download(content: str | bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/claims/{claim_id}/837",
    responses={**AUTH, **NOT_FOUND, **CONFLICT, 200: {"content": {"text/plain": {}}}},
    response_class=Response,
)
def download_837(claim_id: RecordNumber, person: CurrentPerson, place: Place) -> Response:
    record, content = claims.claim_837(place, claim_id, person)
    return _download(content, "text/plain", f"{record.claim_key}.837")


@router.get(
    "/claims/{claim_id}/fhir",
    responses={**AUTH, **NOT_FOUND, 200: {"content": {"application/fhir+json": {}}}},
    response_class=Response,
)
def download_fhir(claim_id: RecordNumber, person: CurrentPerson, place: Place) -> Response:
    record, content = claims.claim_fhir(place, claim_id, person)
    return _download(content, "application/fhir+json", f"{record.claim_key}.fhir.json")


@router.get(
    "/claims/{claim_id}/pdf",
    responses={**AUTH, **NOT_FOUND, 200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
def download_pdf(claim_id: RecordNumber, person: CurrentPerson, place: Place) -> Response:
    record, content = claims.claim_pdf(place, claim_id, person)
    return _download(content, "application/pdf", f"{record.claim_key}.pdf")


@router.post("/claims/{claim_id}/status", responses={**AUTH, **NOT_FOUND, **CONFLICT, **BAD})
def move_claim(
    claim_id: RecordNumber, body: s.StatusChange, person: CurrentPerson, place: Place
) -> s.ClaimOut:
    claims.move(place, claim_id, body.status, person, body.note)
    return claim_out(claims.read(place, claim_id, person))


@router.get("/worklist", responses=AUTH)
def worklist(person: CurrentPerson, place: Place) -> list[s.WorkItemOut]:
    """Everything held: claims and the findings that hold them, held days and held lines."""
    return [
        s.WorkItemOut(
            claim=w.claim_id,
            claim_id=w.claim_key,
            episode_id=w.episode_id,
            payer_id=w.payer_id,
            status=w.status,
            holds=w.kind,
            date=w.day,
            rule=w.rule,
            message=w.message,
        )
        for w in claims.worklist(place)
    ]


@router.post("/exports", status_code=201, responses={**AUTH, **BAD, **CONFLICT})
def export_claims(body: s.ExportRequest, person: CurrentPerson, place: Place) -> s.ExportOut:
    """Every ready claim (of one payer, if given) in 837 batches; they become submitted."""
    done = exports.export_ready(place, person, body.payer_id)
    return s.ExportOut(
        interchange=done[0].interchange_id,
        claims=[c for batch in done for c in batch.claim_ids],
        interchanges=[batch.interchange_id for batch in done],
    )


@router.get(
    "/exports/{interchange_id}/837",
    responses={**AUTH, **NOT_FOUND, 200: {"content": {"text/plain": {}}}},
    response_class=Response,
)
def download_export(interchange_id: RecordNumber, person: CurrentPerson, place: Place) -> Response:
    batch = exports.batch(place, interchange_id, person)
    return _download(batch.content, "text/plain", f"batch-{interchange_id:09d}.837")
