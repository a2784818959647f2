"""Remittances in the store: each 835 payment kept with its file, and what each CLP and SVC paid
on our claims and lines, with their adjustments.

Persistence only: services/remittances.py reads, balances, matches and decides; this module
writes what it is told and answers the queries the biller's pages need. The unique key on
(payer, trace number) makes the database the judge when the same 835 is uploaded twice at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from hitclaims.core.remittance import Adjustment, ClaimPayment, LinePayment, Money, Remittance
from hitclaims.core.vocabulary import REVERSAL_STATUS, SENT_STATUSES, VOID
from hitclaims.store.audit import now
from hitclaims.store.models import (
    AdjustmentRecord,
    ClaimLineRecord,
    ClaimPaymentRecord,
    ClaimRecord,
    LinePaymentRecord,
    RemittanceRecord,
)


def by_trace(db: DbSession, payer_id: str, trace_number: str) -> RemittanceRecord | None:
    return db.scalar(
        select(RemittanceRecord).where(
            RemittanceRecord.payer_id == payer_id, RemittanceRecord.trace_number == trace_number
        )
    )


def add(
    db: DbSession,
    remit: Remittance,
    file_name: str,
    position: int,
    source: str,
    findings: list[dict[str, Any]],
    username: str,
) -> RemittanceRecord:
    """Keep a remittance as read (held until posted); flushed, so a second copy collides now."""
    record = RemittanceRecord(
        payer_id=remit.payer_id[:80],
        payer_name=remit.payer_name[:60],
        trace_number=remit.trace_number[:80],
        paid_on=remit.payment.paid_on,
        amount=remit.payment.amount,
        method=remit.payment.method[:3],
        balanced=not findings,
        status="held",
        findings=findings,
        file_name=file_name[:200],
        position=position,
        source=source,
        received_at=now(),
        received_by=username,
    )
    db.add(record)
    db.flush()
    return record


def replace_held(
    record: RemittanceRecord,
    remit: Remittance,
    file_name: str,
    position: int,
    source: str,
    findings: list[dict[str, Any]],
    username: str,
) -> RemittanceRecord:
    """A held remittance (nothing of it posted) taken over by the payer's resend of the same trace."""
    record.payer_name, record.paid_on = remit.payer_name[:60], remit.payment.paid_on
    record.amount, record.method = remit.payment.amount, remit.payment.method[:3]
    record.balanced, record.findings = not findings, findings
    record.file_name, record.position, record.source = file_name[:200], position, source
    record.received_at, record.received_by = now(), username
    return record


def open_payments(db: DbSession, claim_ids: Sequence[int]) -> dict[int, int]:
    """Per claim, the posted payments not taken back by a reversal (payments less reversals)."""
    if not claim_ids:
        return {}
    rows = db.execute(
        select(ClaimPaymentRecord.claim_id, ClaimPaymentRecord.status_code, func.count())
        .where(ClaimPaymentRecord.claim_id.in_(claim_ids))
        .group_by(ClaimPaymentRecord.claim_id, ClaimPaymentRecord.status_code)
    ).all()
    open_: dict[int, int] = {}
    for claim_id, status_code, count in rows:
        if claim_id is None:
            continue
        sign = -1 if status_code == REVERSAL_STATUS else 1
        open_[claim_id] = open_.get(claim_id, 0) + sign * int(count)
    return open_


def mark_posted(record: RemittanceRecord, username: str, findings: list[dict[str, Any]]) -> None:
    record.status, record.posted_at, record.posted_by = "posted", now(), username
    record.findings = [*record.findings, *findings]


def add_payment(
    db: DbSession,
    remittance_id: int,
    position: int,
    payment: ClaimPayment,
    money: Money,
    claim_id: int | None,
    state: str,
    reason: str | None,
) -> ClaimPaymentRecord:
    record = ClaimPaymentRecord(
        remittance_id=remittance_id,
        claim_id=claim_id,
        position=position,
        claim_key=payment.claim_id[:40],
        status_code=payment.status_code[:2],
        state=state,
        charge=payment.charge,
        paid=payment.paid,
        patient_responsibility=payment.patient_responsibility,
        contractual=money.contractual,
        prior_payers=money.prior_payers,
        denied=money.denied,
        payer_claim_id=payment.payer_claim_id[:50],
        reason=reason,
        posted_at=now() if claim_id is not None else None,
    )
    db.add(record)
    db.flush()
    _add_adjustments(db, record.id, None, payment.adjustments)
    return record


@dataclass(frozen=True)
class LineMatched:
    """Where a payment line went: our line (by its record id and number), and how it was found."""

    claim_line_id: int | None
    line_number: int | None
    matched_by: str | None
    reason: str | None


def add_line(
    db: DbSession,
    claim_payment_id: int,
    position: int,
    line: LinePayment,
    money: Money,
    state: str,
    matched: LineMatched,
) -> None:
    record = LinePaymentRecord(
        claim_payment_id=claim_payment_id,
        claim_line_id=matched.claim_line_id,
        position=position,
        line_number=matched.line_number,
        code=line.code[:10],
        modifiers=" ".join(line.modifiers)[:20],
        charge=money.charge,
        paid=money.paid,
        contractual=money.contractual,
        patient_responsibility=money.patient_responsibility,
        prior_payers=money.prior_payers,
        denied=money.denied,
        state=state,
        matched_by=matched.matched_by,
        reason=matched.reason,
    )
    db.add(record)
    _add_adjustments(db, claim_payment_id, record, line.adjustments)


def _add_adjustments(
    db: DbSession, claim_payment_id: int, line: LinePaymentRecord | None, adjustments: Sequence[Adjustment]
) -> None:
    db.add_all(
        AdjustmentRecord(
            claim_payment_id=claim_payment_id,
            line_payment=line,
            group=a.group,
            reason=a.reason[:5],
            amount=a.amount,
            quantity=a.quantity,
        )
        for a in adjustments
    )


def claims_for(db: DbSession, claim_keys: Sequence[str]) -> dict[str, ClaimRecord]:
    """The claim each CLP01 pays: the current one with that id, else the last one sent."""
    rows = db.scalars(
        select(ClaimRecord)
        .where(ClaimRecord.claim_key.in_(claim_keys), ClaimRecord.frequency_code != VOID)
        .order_by(ClaimRecord.id)
    )
    found: dict[str, ClaimRecord] = {}
    for row in rows:
        best = found.get(row.claim_key)
        if best is None or row.is_current or (not best.is_current and row.status in SENT_STATUSES):
            found[row.claim_key] = row
    return found


def line_ids(db: DbSession, claim_id: int) -> dict[int, int]:
    """Our claim's line numbers -> their record ids."""
    rows = db.execute(
        select(ClaimLineRecord.line_number, ClaimLineRecord.id).where(ClaimLineRecord.claim_id == claim_id)
    )
    return {int(number): int(line_id) for number, line_id in rows}


def get(db: DbSession, remittance_id: int) -> RemittanceRecord | None:
    return db.scalar(
        select(RemittanceRecord)
        .where(RemittanceRecord.id == remittance_id)
        .options(
            selectinload(RemittanceRecord.payments)
            .selectinload(ClaimPaymentRecord.lines)
            .selectinload(LinePaymentRecord.adjustments),
            selectinload(RemittanceRecord.payments).selectinload(ClaimPaymentRecord.adjustments),
        )
    )


def page(db: DbSession, limit: int, offset: int = 0) -> list[RemittanceRecord]:
    query = select(RemittanceRecord).order_by(RemittanceRecord.id.desc()).limit(limit).offset(offset)
    return list(db.scalars(query))


def payments_of_claim(db: DbSession, claim_id: int) -> list[ClaimPaymentRecord]:
    return list(
        db.scalars(
            select(ClaimPaymentRecord)
            .where(ClaimPaymentRecord.claim_id == claim_id)
            .options(
                selectinload(ClaimPaymentRecord.lines).selectinload(LinePaymentRecord.adjustments),
                selectinload(ClaimPaymentRecord.adjustments),
            )
            .order_by(ClaimPaymentRecord.id)
        )
    )


def unmatched(db: DbSession, limit: int) -> list[ClaimPaymentRecord]:
    """Claim payments that found no claim of ours, and those with lines that found no line."""
    has_loose_line = select(LinePaymentRecord.claim_payment_id).where(
        LinePaymentRecord.claim_line_id.is_(None)
    )
    query = (
        select(ClaimPaymentRecord)
        .where(ClaimPaymentRecord.claim_id.is_(None) | ClaimPaymentRecord.id.in_(has_loose_line))
        .options(selectinload(ClaimPaymentRecord.lines))
        .order_by(ClaimPaymentRecord.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


@dataclass(frozen=True)
class AdjustmentTotal:
    payer_id: str
    group: str
    reason: str
    claims: int
    amount: Decimal


def adjustment_totals(db: DbSession) -> list[AdjustmentTotal]:
    """Every posted adjustment, by payer, group and reason, with the claims it touches."""
    rows = db.execute(
        select(
            RemittanceRecord.payer_id,
            AdjustmentRecord.group,
            AdjustmentRecord.reason,
            func.count(func.distinct(ClaimPaymentRecord.claim_id)),
            func.sum(AdjustmentRecord.amount),
        )
        .join(ClaimPaymentRecord, ClaimPaymentRecord.id == AdjustmentRecord.claim_payment_id)
        .join(RemittanceRecord, RemittanceRecord.id == ClaimPaymentRecord.remittance_id)
        .where(ClaimPaymentRecord.claim_id.is_not(None))
        .group_by(RemittanceRecord.payer_id, AdjustmentRecord.group, AdjustmentRecord.reason)
    )
    return [AdjustmentTotal(p, g, r, int(n), Decimal(a or 0)) for p, g, r, n, a in rows]


@dataclass(frozen=True)
class Receivable:
    """One sent claim's money: what was charged, and where it went so far."""

    claim_id: int
    claim_key: str
    payer_id: str
    submitted_at: datetime | None
    charge: Decimal
    paid: Decimal
    contractual: Decimal
    patient_responsibility: Decimal
    prior_payers: Decimal


def receivables(db: DbSession) -> list[Receivable]:
    """Every current claim at a payer (sent, paid or denied), with its posted money summed
    (a reversal's negative amounts net out what it reverses)."""
    money = (
        select(
            ClaimPaymentRecord.claim_id.label("claim_id"),
            func.sum(ClaimPaymentRecord.paid).label("paid"),
            func.sum(ClaimPaymentRecord.contractual).label("contractual"),
            func.sum(ClaimPaymentRecord.patient_responsibility).label("patient"),
            func.sum(ClaimPaymentRecord.prior_payers).label("prior"),
        )
        .where(ClaimPaymentRecord.claim_id.is_not(None))
        .group_by(ClaimPaymentRecord.claim_id)
        .subquery()
    )
    rows = db.execute(
        select(
            ClaimRecord.id,
            ClaimRecord.claim_key,
            ClaimRecord.payer_id,
            ClaimRecord.submitted_at,
            ClaimRecord.total_charge,
            money.c.paid,
            money.c.contractual,
            money.c.patient,
            money.c.prior,
        )
        .outerjoin(money, money.c.claim_id == ClaimRecord.id)
        .where(
            ClaimRecord.is_current.is_(True),
            ClaimRecord.frequency_code != VOID,
            ClaimRecord.status.in_(SENT_STATUSES),
        )
        .order_by(ClaimRecord.payer_id, ClaimRecord.claim_key)
    )
    return [Receivable(i, k, p, s, c, *(_amount(v) for v in sums)) for i, k, p, s, c, *sums in rows]


def _amount(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)
