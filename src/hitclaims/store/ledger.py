"""The billed-day ledger: which per-diem days and which services are on a claim already.

Its unique keys make the database the judge when two runs race: a second claim for the same
patient, therapy family and day (or the same service) cannot be written. Billing reads it as the
engine's `History` and reserves a new claim's days and items in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import ColumnElement, delete, func, insert, select, true
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import History
from hitclaims.core.findings import BilledElsewhere
from hitclaims.store.models import BilledDayRecord, BilledItemRecord, ClaimRecord


def history(
    db: DbSession, patient: str, payer: str, own: Sequence[int], period: Period, auths: Sequence[str]
) -> History:
    """What other claims (not the ones being replaced, `own`) already bill for this patient: for
    this payer (not billed again) and for any other payer (held for coordination of benefits)."""
    not_own_day = BilledDayRecord.claim_id.not_in(own) if own else true()
    not_own_item = BilledItemRecord.claim_id.not_in(own) if own else true()
    days = db.execute(
        select(BilledDayRecord.service_date, ClaimRecord.claim_key, BilledDayRecord.payer_id)
        .join(ClaimRecord, ClaimRecord.id == BilledDayRecord.claim_id)
        .where(
            BilledDayRecord.patient_key == patient,
            BilledDayRecord.service_date >= period.start,
            BilledDayRecord.service_date <= period.end,
            not_own_day,
        )
    ).all()
    items = db.execute(
        select(BilledItemRecord.item_key, ClaimRecord.claim_key, BilledItemRecord.payer_id)
        .join(ClaimRecord, ClaimRecord.id == BilledItemRecord.claim_id)
        .where(BilledItemRecord.patient_key == patient, not_own_item)
    ).all()
    return History(
        auth_units_used=_auth_units_used(db, patient, payer, not_own_day, auths),
        billed_days={day: key for day, key, on in days if on == payer},
        billed_items={item: key for item, key, on in items if on == payer},
        other_payer_days={day: BilledElsewhere(key, on) for day, key, on in days if on != payer},
        other_payer_items={item: BilledElsewhere(key, on) for item, key, on in items if on != payer},
    )


def _auth_units_used(
    db: DbSession, patient: str, payer: str, not_own: ColumnElement[bool], auths: Sequence[str]
) -> dict[str, int]:
    """Units each authorization already paid for, in one query. Authorization numbers are the
    payer's, not unique across patients: only this patient's days count."""
    if not auths:
        return {}
    rows = db.execute(
        select(BilledDayRecord.authorization, func.count())
        .where(
            BilledDayRecord.authorization.in_(auths),
            BilledDayRecord.patient_key == patient,
            BilledDayRecord.payer_id == payer,
            not_own,
        )
        .group_by(BilledDayRecord.authorization)
    ).all()
    used = {number: int(count) for number, count in rows}
    return {number: used.get(number, 0) for number in auths}


def reserve(
    db: DbSession, claim_id: int, claim: Claim, patient: str, family_of: Callable[[str], str]
) -> None:
    """Write the claim's days and items into the ledger: the unique keys reject a second biller.
    Each table in one multi-row insert, not an object per day."""
    if claim.status == "refused":
        return  # a refused claim is never sent: it bills nothing
    days = [
        {
            "patient_key": patient,
            "family": family_of(line.code),
            "service_date": day,
            "payer_id": claim.payer_id,
            "code": line.code,
            "authorization": line.authorization,
            "claim_id": claim_id,
        }
        for line in claim.lines
        if line.kind == "per_diem"
        for day in line.days
    ]
    items = [
        {"patient_key": patient, "payer_id": claim.payer_id, "item_key": line.item_key, "claim_id": claim_id}
        for line in claim.lines
        if line.kind != "per_diem" and line.item_key
    ]
    if days:
        db.execute(insert(BilledDayRecord), days)
    if items:
        db.execute(insert(BilledItemRecord), items)


def release(db: DbSession, claim_id: int) -> None:
    """Free a claim's days and items (it was voided or is being replaced)."""
    db.execute(delete(BilledDayRecord).where(BilledDayRecord.claim_id == claim_id))
    db.execute(delete(BilledItemRecord).where(BilledItemRecord.claim_id == claim_id))


def billed_days(db: DbSession, patient: str, period: Period) -> dict[date, tuple[int, str]]:
    """Each billed day of the period for a patient, whoever the payer, with the claim (id, key)."""
    rows = db.execute(
        select(BilledDayRecord.service_date, ClaimRecord.id, ClaimRecord.claim_key)
        .join(ClaimRecord, ClaimRecord.id == BilledDayRecord.claim_id)
        .where(
            BilledDayRecord.patient_key == patient,
            BilledDayRecord.service_date >= period.start,
            BilledDayRecord.service_date <= period.end,
        )
    ).all()
    return {day: (claim_id, key) for day, claim_id, key in rows}
