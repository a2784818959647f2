"""Remittances as billers work them: take in a payer's 835, post what balances to the right
claims and lines, keep what does not balance for a biller, and show what each claim was paid.

Money is conserved or nothing is posted: a remittance whose line, claim or payment totals do not
add up is kept with `remit.unbalanced` and waits for a biller. The same payment (payer and trace
number) is posted once, however often or however concurrently it is uploaded. A reversal (CLP02
22) is posted with its negative amounts, so it undoes exactly what it reverses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session as DbSession

from hitclaims.core import lifecycle
from hitclaims.core.errors import ConflictError, NotFoundError
from hitclaims.core.matching import match_remittance
from hitclaims.core.remittance import (
    ClaimPayment,
    RemitFinding,
    Remittance,
    balance_findings,
    claim_money,
    claim_states,
    line_money,
    line_state,
)
from hitclaims.core.vocabulary import RemitState
from hitclaims.formats.x12.remit_835 import read_835
from hitclaims.services.users import Person, require_change
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store import remittances as remit_store
from hitclaims.store.audit import audit
from hitclaims.store.models import ClaimPaymentRecord, ClaimRecord, RemittanceRecord
from hitclaims.store.remittances import LineMatched

Received = Literal["posted", "held", "already_posted"]


@dataclass(frozen=True)
class Upload:
    """What became of one payment (ST-SE) of an uploaded 835."""

    remittance_id: int
    payer_id: str
    trace_number: str
    outcome: Received
    claims_posted: int = 0
    unmatched_claims: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)


def finding_data(finding: RemitFinding) -> dict[str, Any]:
    """A remittance finding as stored and shown: the amounts as two-decimal strings."""
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "record": finding.record,
        "message": finding.message,
        "amounts": {name: f"{amount:.2f}" for name, amount in finding.amounts},
    }


def upload(place: Workplace, name: str, text: str, by: Person) -> list[Upload]:
    """Read an 835 file whole (an unreadable file posts nothing), then keep and post each payment."""
    require_change(by)
    remits = read_835(text, name)
    return [
        _receive(place, name, text, position, remit, by.username) for position, remit in enumerate(remits)
    ]


def _receive(
    place: Workplace, name: str, text: str, position: int, remit: Remittance, username: str
) -> Upload:
    try:
        with place.changing() as db:
            known = remit_store.by_trace(db, remit.payer_id[:80], remit.trace_number[:80])
            if known is not None and known.status == "posted":
                return _already(known)
            findings = [finding_data(f) for f in balance_findings(remit)] + _conflicts(db, remit)
            if known is not None:  # held before: the payer's resend of the same trace replaces it
                record = remit_store.replace_held(known, remit, name, position, text, findings, username)
            else:
                record = remit_store.add(db, remit, name, position, text, findings, username)
            audit(db, username, "remittance.receive", "remittance", record.id, balanced=not findings)
            if findings:
                return Upload(record.id, record.payer_id, record.trace_number, "held", findings=findings)
            return _post(db, record, remit, username)
    except ConflictError:
        # The same payment uploaded at the same moment: the other upload holds it now.
        with place.reading() as db:
            known = remit_store.by_trace(db, remit.payer_id[:80], remit.trace_number[:80])
        if known is None:
            raise
        return _already(known)


def _conflicts(db: DbSession, remit: Remittance) -> list[dict[str, Any]]:
    """What posting would get wrong, so the remittance waits for a biller instead: a second
    payment for a claim already paid, or a reversal of a claim with no payment to reverse."""
    ours = remit_store.claims_for(db, [c.claim_id for c in remit.claims])
    paid = {key: rec.status == "paid" for key, rec in ours.items()}
    open_payments = remit_store.open_payments(db, [rec.id for rec in ours.values()])
    found: list[dict[str, Any]] = []
    for payment in remit.claims:
        record = ours.get(payment.claim_id)
        if record is None:
            continue  # the unmatched queue takes it
        where = f"claim {payment.claim_id}"
        if payment.is_reversal:
            if open_payments.get(record.id, 0) <= 0:
                found.append(
                    _finding("remit.nothing_to_reverse", where, "it reverses a payment that was never posted")
                )
            open_payments[record.id] = open_payments.get(record.id, 0) - 1
            paid[payment.claim_id] = False
        elif paid.get(payment.claim_id):
            found.append(
                _finding(
                    "remit.duplicate_payment",
                    where,
                    "the claim is already paid: a second payment without a reversal",
                )
            )
        else:
            open_payments[record.id] = open_payments.get(record.id, 0) + 1
            paid[payment.claim_id] = payment.paid > 0
    return found


def _finding(rule: str, record: str, problem: str) -> dict[str, Any]:
    return {
        "rule": rule,
        "severity": "error",
        "record": record,
        "message": f"{record}: {problem}.",
        "amounts": {},
    }


def _already(record: RemittanceRecord) -> Upload:
    return Upload(record.id, record.payer_id, record.trace_number, "already_posted")


def post_held(place: Workplace, remittance_id: int, by: Person) -> Upload:
    """A biller posts a remittance that was held (after checking why it does not balance)."""
    require_change(by)
    with place.changing() as db:
        record = remit_store.get(db, remittance_id)
        if record is None:
            raise NotFoundError(f"no remittance {remittance_id}", "remittance_id")
        if record.status != "held":
            raise ConflictError(f"remittance {remittance_id} is already posted", "status")
        remit = read_835(record.source, record.file_name)[record.position]
        audit(db, by.username, "remittance.post_held", "remittance", record.id)
        return _post(db, record, remit, by.username)


def _post(db: DbSession, record: RemittanceRecord, remit: Remittance, username: str) -> Upload:
    """Match every CLP to our claims and lines and write what each paid; move the claims."""
    ours = remit_store.claims_for(db, [c.claim_id for c in remit.claims])
    matched = match_remittance(remit, [claim_store.claim_of(r) for r in ours.values()])
    states = claim_states(remit.claims)
    posted = 0
    for found, payment, state in zip(matched.claims, remit.claims, states, strict=True):
        claim = ours.get(payment.claim_id) if found.found else None
        row = remit_store.add_payment(
            db,
            record.id,
            found.payment_index,
            payment,
            claim_money(payment),
            claim.id if claim else None,
            state,
            found.reason,
        )
        line_ids = remit_store.line_ids(db, claim.id) if claim else {}
        for line_match, line in zip(found.lines, payment.lines, strict=True):
            number = line_match.line_number
            where = LineMatched(
                line_ids.get(number) if number else None, number, line_match.matched_by, line_match.reason
            )
            remit_store.add_line(
                db, row.id, line_match.payment_line, line, line_money(line), line_state(line), where
            )
        if claim is not None:
            _settle(db, claim, payment, state, record, username)
            posted += 1
    underpaid = [finding_data(f) for f in matched.findings]
    remit_store.mark_posted(record, username, underpaid)
    audit(db, username, "remittance.post", "remittance", record.id, claims=posted)
    unmatched = len(remit.claims) - posted
    return Upload(record.id, record.payer_id, record.trace_number, "posted", posted, unmatched, underpaid)


def _settle(
    db: DbSession,
    claim: ClaimRecord,
    payment: ClaimPayment,
    state: RemitState,
    record: RemittanceRecord,
    username: str,
) -> None:
    """The claim's status and payment state from this payment, with an event naming it."""
    before, after = claim.status, lifecycle.status_after_payment(state)
    note = f"835 trace {record.trace_number}: {state.replace('_', ' ')}, paid {payment.paid:.2f}"
    if before != after:
        claim_store.set_status(db, claim.id, before, after, payment_state=state)
    else:
        claim.payment_state = state
    claim_store.add_event(db, claim.id, username, before, after, note)


# --- reading -----------------------------------------------------------------------------------


def page(place: Workplace, limit: int = 200) -> list[RemittanceRecord]:
    with place.reading() as db:
        return remit_store.page(db, limit)


def read(place: Workplace, remittance_id: int, by: Person) -> RemittanceRecord:
    """A remittance with its payments (whose claims are patients'): the read is audited."""
    with place.changing() as db:
        record = remit_store.get(db, remittance_id)
        if record is None:
            raise NotFoundError(f"no remittance {remittance_id}", "remittance_id")
        audit(db, by.username, "remittance.read", "remittance", remittance_id)
        return record


def claim_payments(place: Workplace, claim_id: int, by: Person) -> list[ClaimPaymentRecord]:
    """Every payment posted to a claim, reversals included, oldest first; the read is audited."""
    with place.changing() as db:
        audit(db, by.username, "claim.payments", "claim", claim_id)
        return remit_store.payments_of_claim(db, claim_id)


def unmatched(place: Workplace, by: Person, limit: int = 500) -> list[ClaimPaymentRecord]:
    """The queue of payments that found no claim of ours, or lines that found no line (claim ids
    and money of patients): the read is audited."""
    with place.changing() as db:
        audit(db, by.username, "remittance.unmatched", "remittance", "queue")
        return remit_store.unmatched(db, limit)
