"""Remittances: upload an 835, list and read what was received, post a held one, a claim's
payments, the unmatched queue, the denial worklist and accounts receivable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hitclaims.api import remit_schemas as r
from hitclaims.api import schemas as s
from hitclaims.api.deps import AUTH, BAD, CONFLICT, NOT_FOUND, CurrentPerson, Place, RecordNumber
from hitclaims.services import receivables, remittances
from hitclaims.services.remittances import Upload
from hitclaims.store.models import AdjustmentRecord, ClaimPaymentRecord, RemittanceRecord

router = APIRouter(tags=["remittances"])


def _upload_out(done: Upload) -> r.UploadOut:
    return r.UploadOut(
        remittance=done.remittance_id,
        payer_id=done.payer_id,
        trace_number=done.trace_number,
        outcome=done.outcome,
        claims_posted=done.claims_posted,
        unmatched_claims=done.unmatched_claims,
        findings=done.findings,
    )


def _adjustments(rows: list[AdjustmentRecord]) -> list[r.AdjustmentOut]:
    return [r.AdjustmentOut(group=a.group, reason=a.reason, amount=a.amount) for a in rows]


def payment_out(p: ClaimPaymentRecord) -> r.ClaimPaymentOut:
    return r.ClaimPaymentOut(
        remittance=p.remittance_id,
        claim=p.claim_id,
        claim_id=p.claim_key,
        status_code=p.status_code,
        state=p.state,
        charge=p.charge,
        paid=p.paid,
        patient_responsibility=p.patient_responsibility,
        payer_claim_id=p.payer_claim_id,
        reason=p.reason,
        adjustments=_adjustments(p.adjustments),
        lines=[
            r.LinePaymentOut(
                line_number=ln.line_number,
                code=ln.code,
                modifiers=ln.modifiers,
                charge=ln.charge,
                paid=ln.paid,
                contractual=ln.contractual,
                patient_responsibility=ln.patient_responsibility,
                denied=ln.denied,
                balance_left=ln.charge - ln.paid - ln.contractual - ln.prior_payers,
                state=ln.state,
                matched_by=ln.matched_by,
                reason=ln.reason,
                adjustments=_adjustments(ln.adjustments),
            )
            for ln in p.lines
        ],
    )


def _remittance_out(rec: RemittanceRecord) -> r.RemittanceOut:
    return r.RemittanceOut(
        id=rec.id,
        payer_id=rec.payer_id,
        payer_name=rec.payer_name,
        trace_number=rec.trace_number,
        paid_on=rec.paid_on,
        amount=rec.amount,
        method=rec.method,
        balanced=rec.balanced,
        status=rec.status,
        findings=rec.findings,
        file_name=rec.file_name,
        received_at=rec.received_at,
        received_by=rec.received_by,
        posted_at=rec.posted_at,
    )


@router.post("/remittances", status_code=201, responses={**AUTH, **BAD})
def upload(body: r.RemittanceUpload, person: CurrentPerson, place: Place) -> list[r.UploadOut]:
    """An 835 (its text in `content`): each payment balanced and posted, or held for a biller;
    the same payment posted again is answered `already_posted` and changes nothing."""
    return [_upload_out(d) for d in remittances.upload(place, body.file_name, body.content, person)]


@router.get("/remittances", responses=AUTH)
def list_remittances(
    person: CurrentPerson, place: Place, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[r.RemittanceOut]:
    return [_remittance_out(rec) for rec in remittances.page(place, limit)]


@router.get("/remittances/unmatched", responses=AUTH)
def unmatched(person: CurrentPerson, place: Place) -> list[r.ClaimPaymentOut]:
    """Payments that found no claim of ours, or lines that found no line, with the reason."""
    return [payment_out(p) for p in remittances.unmatched(place, person)]


@router.get("/remittances/{remittance_id}", responses={**AUTH, **NOT_FOUND})
def read_remittance(remittance_id: RecordNumber, person: CurrentPerson, place: Place) -> r.RemittanceDetail:
    rec = remittances.read(place, remittance_id, person)
    return r.RemittanceDetail(
        **_remittance_out(rec).model_dump(), payments=[payment_out(p) for p in rec.payments]
    )


@router.post("/remittances/{remittance_id}/post", responses={**AUTH, **NOT_FOUND, **CONFLICT})
def post_held(remittance_id: RecordNumber, person: CurrentPerson, place: Place) -> r.UploadOut:
    """Post a remittance held because it does not balance (a biller's decision, audited)."""
    return _upload_out(remittances.post_held(place, remittance_id, person))


@router.get("/claims/{claim_id}/payments", responses={**AUTH, **NOT_FOUND})
def claim_payments(claim_id: RecordNumber, person: CurrentPerson, place: Place) -> list[r.ClaimPaymentOut]:
    return [payment_out(p) for p in remittances.claim_payments(place, claim_id, person)]


@router.get("/denials", responses=AUTH)
def denials(person: CurrentPerson, place: Place) -> list[r.DenialOut]:
    """Every denial by reason and payer, with the amount, the next action and the rule of ours
    that should have caught it."""
    return [
        r.DenialOut(
            payer_id=g.payer_id,
            code=g.code,
            description=g.description,
            next_action=g.next_action,
            our_rules=list(g.our_rules),
            claims=g.claims,
            amount=g.amount,
        )
        for g in receivables.denials(place)
    ]


@router.get("/receivables", responses={**AUTH, **BAD})
def accounts_receivable(person: CurrentPerson, place: Place, as_of: s.IsoDate | None = None) -> r.AgingOut:
    """The outstanding balance by payer in aging buckets (0-30 ... over 120 days since submission)."""
    aging = receivables.aging(place, as_of)
    return r.AgingOut(
        as_of=aging.as_of,
        payers=[
            r.AgingRow(
                payer_id=p.payer_id,
                claims=p.claims,
                buckets=p.buckets,
                total=p.total,
                patient_balance=p.patient_balance,
            )
            for p in aging.payers
        ],
        totals=aging.totals,
        total=aging.total,
    )
