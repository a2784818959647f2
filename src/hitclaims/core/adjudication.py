"""A seeded payer simulator: what a payer would pay on our claims, as neutral remittances.

For the demo and the tests. The payer allows the fee schedule (each line's `expected_payment`,
which the engine priced from the payer policy; the charge when the policy has no price), writes
off the rest of the charge as contractual (CO-45), leaves the patient a coinsurance share where
the simulator's settings give one for the payer (PR-2), and denies chosen claims or lines for a
missing authorization (CO-197, remark M62) or timely filing (CO-29). The payer policy has no
patient-share setting, so it lives here, in `SimulatorSettings`. The same claims, settings and
seed always give the same remittance, to the cent and the trace number.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from hitclaims.core.claim import Claim, ClaimLine
from hitclaims.core.matching import line_control
from hitclaims.core.remittance import (
    ZERO,
    Adjustment,
    ClaimPayment,
    LinePayment,
    PatientRef,
    Payment,
    ProviderAdjustment,
    Remittance,
    total,
)
from hitclaims.core.vocabulary import DENIED_STATUS, REVERSAL_STATUS

CENT: Final = Decimal("0.01")
AUTHORIZATION_DENIAL: Final = ("197", "M62")  # CARC, RARC
TIMELY_FILING_DENIAL: Final = ("29", "")
_SENDABLE: Final = ("ready", "submitted")
# CLP06 takes a shorter code list than the 837's SBR09: what the payer writes for each.
_CLP06: Final = frozenset(
    [
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "AM",
        "CH",
        "DS",
        "HM",
        "LM",
        "MA",
        "MB",
        "MC",
        "OF",
        "TV",
        "VA",
        "WC",
        "ZZ",
    ]
)
_CLP06_FOR: Final = {"CI": "15", "BL": "12", "FI": "OF", "11": "ZZ"}


def filing_indicator(sbr09: str) -> str:
    """The 835 claim filing indicator (CLP06) for the one our 837 sent in SBR09."""
    return sbr09 if sbr09 in _CLP06 else _CLP06_FOR.get(sbr09, "ZZ")


@dataclass(frozen=True)
class SimulatorSettings:
    """What the simulated payer decides beyond its policy. A denial target is a claim id (every
    line) or `claim_id#line_number` (one line)."""

    paid_on: date
    seed: int = 0
    patient_share: Mapping[str, Decimal] = field(default_factory=dict)  # payer id -> coinsurance 0..1
    deny_authorization: frozenset[str] = frozenset()
    deny_timely_filing: frozenset[str] = frozenset()
    authorization_denial_rate: Decimal = ZERO  # chance, per line, of a seeded CO-197


def adjudicate(claims: Sequence[Claim], settings: SimulatorSettings) -> list[Remittance]:
    """One remittance per payer, in the order the payers first appear among the claims."""
    rng = random.Random(settings.seed)
    by_payer: dict[str, list[Claim]] = {}
    for claim in claims:
        if claim.status in _SENDABLE:
            by_payer.setdefault(claim.payer_id, []).append(claim)
    return [_remittance(payer_claims, settings, rng) for payer_claims in by_payer.values()]


def _remittance(claims: Sequence[Claim], settings: SimulatorSettings, rng: random.Random) -> Remittance:
    first = claims[0]
    share = settings.patient_share.get(first.payer_id, ZERO)
    paid = tuple(_claim(claim, settings, share, rng) for claim in claims)
    amount = total(c.paid for c in paid)
    trace = f"{rng.randrange(10**9, 10**10)}"
    return Remittance(
        payer_name=first.payer.name,
        payer_id=first.payer.x12_payer_id,
        payee_name=first.provider.name,
        payee_id=first.provider.npi,
        trace_number=trace,
        trace_originator="1" + first.provider.tax_id,
        payment=Payment(
            handling="I" if amount > ZERO else "H",
            amount=amount,
            credit_debit="C",
            method="ACH" if amount > ZERO else "NON",
            paid_on=settings.paid_on,
        ),
        claims=paid,
        production_date=settings.paid_on,
    )


def _denial(
    claim: Claim, line: ClaimLine, settings: SimulatorSettings, rng: random.Random
) -> tuple[str, str] | None:
    targets = (claim.claim_id, f"{claim.claim_id}#{line.line_number}")
    # Draw for every line, denied or not, so that choosing one denial does not move the others.
    drawn = rng.random() < float(settings.authorization_denial_rate)
    if any(t in settings.deny_timely_filing for t in targets):
        return TIMELY_FILING_DENIAL
    if drawn or any(t in settings.deny_authorization for t in targets):
        return AUTHORIZATION_DENIAL
    return None


def _claim(claim: Claim, settings: SimulatorSettings, share: Decimal, rng: random.Random) -> ClaimPayment:
    lines = tuple(_line(claim, line, share, _denial(claim, line, settings, rng)) for line in claim.lines)
    denied_all = bool(lines) and all(line.paid == ZERO and line.charge > ZERO for line in lines)
    patient = total(a.amount for line in lines for a in line.adjustments if a.group == "PR")
    return ClaimPayment(
        claim_id=claim.claim_id,
        status_code=DENIED_STATUS if denied_all else "1",
        charge=claim.total_charge,
        paid=total(line.paid for line in lines),
        patient_responsibility=patient,
        filing_indicator=filing_indicator(claim.payer.claim_filing_indicator),
        payer_claim_id=f"{rng.randrange(10**11, 10**12)}",
        lines=lines,
        statement_from=claim.period.from_,
        statement_to=claim.period.to,
        patient=PatientRef(claim.patient.last_name, claim.patient.first_name, claim.coverage.member_id),
    )


def _line(claim: Claim, line: ClaimLine, share: Decimal, denial: tuple[str, str] | None) -> LinePayment:
    if denial is not None:
        reason, remark = denial
        adjustments: tuple[Adjustment, ...] = (Adjustment("CO", reason, line.charge),)
        paid, allowed, remarks = ZERO, None, (remark,) if remark else ()
    else:
        # Payers pay the lesser of the charge and the fee schedule.
        allowed = min(
            line.charge, line.expected_payment if line.expected_payment is not None else line.charge
        )
        patient = (allowed * share).quantize(CENT, ROUND_HALF_UP)
        paid, remarks = allowed - patient, ()
        found = [Adjustment("CO", "45", line.charge - allowed), Adjustment("PR", "2", patient)]
        adjustments = tuple(a for a in found if a.amount != ZERO)
    return LinePayment(
        code=line.code,
        modifiers=tuple(line.modifiers),
        charge=line.charge,
        paid=paid,
        units=Decimal(line.units),
        service_from=line.from_,
        service_to=line.to,
        line_control=line_control(claim.claim_id, line.line_number),
        allowed=allowed,
        remarks=remarks,
        adjustments=adjustments,
    )


def _negated_line(line: LinePayment) -> LinePayment:
    adjustments = tuple(replace(a, amount=-a.amount) for a in line.adjustments)
    allowed = -line.allowed if line.allowed is not None else None
    return replace(line, charge=-line.charge, paid=-line.paid, allowed=allowed, adjustments=adjustments)


def reversal_of(payment: ClaimPayment) -> ClaimPayment:
    """What a payer sends to take a claim payment back: CLP02 22 with every amount negated."""
    return replace(
        payment,
        status_code=REVERSAL_STATUS,
        charge=-payment.charge,
        paid=-payment.paid,
        patient_responsibility=-payment.patient_responsibility,
        adjustments=tuple(replace(a, amount=-a.amount) for a in payment.adjustments),
        lines=tuple(_negated_line(line) for line in payment.lines),
    )


def reverse_and_correct(
    remit: Remittance, trace_number: str, corrections: Sequence[ClaimPayment]
) -> Remittance:
    """A later remittance reversing every claim payment of `remit`, each followed by its
    correction when one is given (a correction is the claim paid anew)."""
    fixed = {c.claim_id: c for c in corrections}
    claims: list[ClaimPayment] = []
    for payment in remit.claims:
        claims.append(reversal_of(payment))
        if payment.claim_id in fixed:
            claims.append(fixed[payment.claim_id])
    amount = total(c.paid for c in claims)
    notice_only = amount <= ZERO
    return replace(
        remit,
        trace_number=trace_number,
        payment=replace(
            remit.payment,
            handling="H" if notice_only else "I",
            amount=max(amount, ZERO),
            method="NON" if notice_only else remit.payment.method,
        ),
        claims=tuple(claims),
        provider_adjustments=() if amount >= ZERO else _recovery(remit, -amount),
    )


def _recovery(remit: Remittance, amount: Decimal) -> tuple[ProviderAdjustment, ...]:
    """A net negative payment is carried forward as a balance the provider owes (PLB FB with a
    negative amount, so that the payment itself is zero and still balances)."""
    return (ProviderAdjustment(remit.payee_id, remit.payment.paid_on, "FB", remit.trace_number, -amount),)
