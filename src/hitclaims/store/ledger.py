"""The billed-day ledger: which per-diem days and which services are on a claim already.

Its unique keys make the database the judge when two runs race: a second claim for the same
patient, therapy family and day (or the same service) cannot be written. Billing reads it as the
engine's `History` and reserves a new claim's days and items in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import History
from hitclaims.core.findings import BilledElsewhere
from hitclaims.store.models import BilledDayRecord, BilledItemRecord, ClaimRecord


@dataclass(frozen=True)
class HistoryWanted:
    """Whose history to read: a patient billed to `payer`, not counting the claims being
    replaced (`own`), with the authorization numbers the episode draws on."""

    patient: str
    payer: str
    own: Sequence[int]
    auths: Sequence[str]


def histories(db: DbSession, wanted: Sequence[HistoryWanted], period: Period) -> list[History]:
    """What other claims (not the ones being replaced, `own`) already bill for each wanted
    patient: for its payer (not billed again) and for any other payer (held for coordination of
    benefits). Three queries, whatever the number of episodes. Rows come in
    the order they were written, so that a day two claims share names the same claim every time."""
    patients = sorted({w.patient for w in wanted})
    if not patients:
        return []
    days = db.execute(
        select(
            BilledDayRecord.patient_key,
            BilledDayRecord.claim_id,
            BilledDayRecord.service_date,
            ClaimRecord.claim_key,
            BilledDayRecord.payer_id,
        )
        .join(ClaimRecord, ClaimRecord.id == BilledDayRecord.claim_id)
        .where(
            BilledDayRecord.patient_key.in_(patients),
            BilledDayRecord.service_date >= period.start,
            BilledDayRecord.service_date <= period.end,
        )
        .order_by(BilledDayRecord.id)
    ).all()
    items = db.execute(
        select(
            BilledItemRecord.patient_key,
            BilledItemRecord.claim_id,
            BilledItemRecord.item_key,
            ClaimRecord.claim_key,
            BilledItemRecord.payer_id,
        )
        .join(ClaimRecord, ClaimRecord.id == BilledItemRecord.claim_id)
        .where(BilledItemRecord.patient_key.in_(patients))
        .order_by(BilledItemRecord.id)
    ).all()
    used = _auth_units(db, patients, sorted({a for w in wanted for a in w.auths}))
    day_rows, item_rows = _by_patient(days), _by_patient(items)
    return [_history_of(w, day_rows.get(w.patient, []), item_rows.get(w.patient, []), used) for w in wanted]


_Row = tuple[int, Any, str, str]  # claim id, day or item key, claim key, payer
_Used = tuple[str, str, str | None, int, int]  # patient, payer, authorization, claim id, days


def _by_patient(rows: Sequence[tuple[str, int, Any, str, str]]) -> dict[str, list[_Row]]:
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for patient, claim_id, what, key, payer in rows:
        grouped[patient].append((claim_id, what, key, payer))
    return grouped


def _history_of(w: HistoryWanted, days: list[_Row], items: list[_Row], used: Sequence[_Used]) -> History:
    own = set(w.own)
    days = [row for row in days if row[0] not in own]
    items = [row for row in items if row[0] not in own]
    # Authorization numbers are the payer's, not unique across patients: only this patient's
    # days for this payer count.
    units = dict.fromkeys(w.auths, 0)
    for patient, payer, number, claim_id, count in used:
        if patient == w.patient and payer == w.payer and number in units and claim_id not in own:
            units[number] += int(count)
    return History(
        auth_units_used=units,
        billed_days={day: key for _, day, key, on in days if on == w.payer},
        billed_items={item: key for _, item, key, on in items if on == w.payer},
        other_payer_days={day: BilledElsewhere(key, on) for _, day, key, on in days if on != w.payer},
        other_payer_items={item: BilledElsewhere(key, on) for _, item, key, on in items if on != w.payer},
    )


def _auth_units(db: DbSession, patients: Sequence[str], auths: Sequence[str]) -> Sequence[_Used]:
    """Days billed against each authorization, by patient, payer and claim, in one query."""
    if not auths:
        return []
    return db.execute(
        select(
            BilledDayRecord.patient_key,
            BilledDayRecord.payer_id,
            BilledDayRecord.authorization,
            BilledDayRecord.claim_id,
            func.count(),
        )
        .where(BilledDayRecord.authorization.in_(auths), BilledDayRecord.patient_key.in_(patients))
        .group_by(
            BilledDayRecord.patient_key,
            BilledDayRecord.payer_id,
            BilledDayRecord.authorization,
            BilledDayRecord.claim_id,
        )
    ).all()


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
