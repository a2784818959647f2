"""The one neutral remittance: what a payer's 835 says it paid, and whether the money adds up.

Every reading of an 835 becomes a `Remittance`; posting, the denial worklist and A/R are all
computed from it, never from the file. Money is Decimal. The balancing rules of the 835 guide
(005010X221A1 section 1.10.2) are pure functions named after their rule; a remittance that
breaks one gets a `remit.unbalanced` finding with the amounts and is never posted automatically.
The state of a claim or a line (paid, partially paid, denied, reversed, corrected) and its
balance are read from the money too, and a line paid below the payer's fee schedule gets
`remit.underpaid` with the difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from hitclaims.core.vocabulary import (
    CONTRACTUAL_REASONS,
    DENIED_STATUS,
    REVERSAL_STATUS,
    AdjustmentGroup,
    RemitState,
    Severity,
)

ZERO: Final = Decimal("0.00")
UNBALANCED: Final = "remit.unbalanced"
UNDERPAID: Final = "remit.underpaid"
PRIOR_PAYER_REASON: Final = "23"  # OA-23: the impact of prior payers' adjudication


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triple: why part of the charge was not paid, and by whom it is owed."""

    group: AdjustmentGroup
    reason: str  # the CARC
    amount: Decimal
    quantity: Decimal | None = None

    @property
    def code(self) -> str:
        """The usual way billers write it: CO-45, PR-2."""
        return f"{self.group}-{self.reason}"


@dataclass(frozen=True, slots=True)
class LinePayment:
    """Loop 2110: what the payer did with one service line."""

    code: str  # SVC01-2 as adjudicated
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal  # SVC05, one when left out
    qualifier: str = "HC"  # SVC01-1
    submitted_code: str | None = None  # SVC06-2, when the payer changed the code
    submitted_modifiers: tuple[str, ...] = ()
    submitted_units: Decimal | None = None  # SVC07
    service_from: date | None = None  # DTM*472 or DTM*150
    service_to: date | None = None  # DTM*472 or DTM*151
    line_control: str | None = None  # REF*6R, our line control number echoed
    allowed: Decimal | None = None  # AMT*B6
    remarks: tuple[str, ...] = ()  # LQ*HE
    adjustments: tuple[Adjustment, ...] = ()
    segment_line: int = 0  # where the SVC is in the file

    @property
    def billed_code(self) -> str:
        """The code we sent: SVC06 when the payer changed it, else SVC01."""
        return self.submitted_code or self.code

    @property
    def billed_modifiers(self) -> tuple[str, ...]:
        return self.submitted_modifiers if self.submitted_code else self.modifiers

    @property
    def billed_units(self) -> Decimal:
        return self.submitted_units if self.submitted_units is not None else self.units


@dataclass(frozen=True, slots=True)
class PatientRef:
    """NM1*QC: whom the payer says the claim is for; the unmatched queue needs it to find them."""

    last_name: str
    first_name: str
    member_id: str


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """Loop 2100: one CLP and what belongs to it."""

    claim_id: str  # CLP01, our patient control number
    status_code: str  # CLP02
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str  # CLP06
    payer_claim_id: str  # CLP07
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # MOA and MIA remark codes
    lines: tuple[LinePayment, ...] = ()
    statement_from: date | None = None  # DTM*232
    statement_to: date | None = None  # DTM*233
    patient: PatientRef | None = None  # NM1*QC
    segment_line: int = 0

    @property
    def is_reversal(self) -> bool:
        return self.status_code == REVERSAL_STATUS


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment: money taken (positive) or given (negative) outside any claim."""

    provider_id: str
    fiscal_period_end: date | None
    reason: str  # PLB03-1: WO overpayment recovery, L6 interest, CT capitation ...
    reference: str | None  # PLB03-2, often the claim it is about
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Payment:
    """BPR: how much was paid, how, and when."""

    handling: str  # BPR01: I (remittance and payment), H (notification only) ...
    amount: Decimal
    credit_debit: str  # BPR03: C or D
    method: str  # BPR04: ACH, CHK, NON, BOP, FWT
    paid_on: date | None  # BPR16


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction set (ST to SE): one payment to one payee, and its claims."""

    payer_name: str
    payer_id: str  # N1*PR id (XV) or REF*2U, else TRN03
    payee_name: str
    payee_id: str  # N1*PE id (NPI or tax id)
    trace_number: str  # TRN02, the check or EFT trace number
    trace_originator: str  # TRN03
    payment: Payment
    claims: tuple[ClaimPayment, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    production_date: date | None = None  # DTM*405
    control_number: str = ""  # ST02

    @property
    def key(self) -> tuple[str, str]:
        """What makes one payment unique: the payer and the trace number (posting once)."""
        return (self.payer_id, self.trace_number)


@dataclass(frozen=True, slots=True)
class RemitFinding:
    """What the money says that a biller must look at, with the amounts as data."""

    rule: str
    severity: Severity
    record: str  # "payment TRN02", "claim CLP01", "claim CLP01 line 2"
    message: str
    amounts: tuple[tuple[str, Decimal], ...] = ()


def total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


# --- the balancing rules ----------------------------------------------------------------------------


def line_charge_less_paid_equals_adjustments(claim: ClaimPayment, number: int) -> RemitFinding | None:
    """Each line: charge − paid = the sum of its adjustments."""
    line = claim.lines[number - 1]
    adjusted = total(a.amount for a in line.adjustments)
    if line.charge - line.paid == adjusted:
        return None
    return _unbalanced(
        f"claim {claim.claim_id} line {number}",
        f"line charge {_money(line.charge)} less paid {_money(line.paid)} is "
        f"{_money(line.charge - line.paid)}, but its adjustments add up to {_money(adjusted)}",
        (("charge", line.charge), ("paid", line.paid), ("adjustments", adjusted)),
    )


def claim_charge_less_paid_equals_adjustments(claim: ClaimPayment) -> RemitFinding | None:
    """Each claim: charge − paid = its claim-level plus its line-level adjustments."""
    adjusted = total(a.amount for a in claim.adjustments) + total(
        a.amount for line in claim.lines for a in line.adjustments
    )
    if claim.charge - claim.paid == adjusted:
        return None
    return _unbalanced(
        f"claim {claim.claim_id}",
        f"claim charge {_money(claim.charge)} less paid {_money(claim.paid)} is "
        f"{_money(claim.charge - claim.paid)}, but claim and line adjustments add up to {_money(adjusted)}",
        (("charge", claim.charge), ("paid", claim.paid), ("adjustments", adjusted)),
    )


def payment_equals_claims_paid_less_provider_adjustments(remit: Remittance) -> RemitFinding | None:
    """The payment: BPR amount = the sum of the claims' paid amounts − the PLB adjustments."""
    paid = total(c.paid for c in remit.claims)
    taken = total(p.amount for p in remit.provider_adjustments)
    # A debit (BPR03 = D) is money the payee pays back: the same sum, negative.
    amount = -remit.payment.amount if remit.payment.credit_debit == "D" else remit.payment.amount
    if amount == paid - taken:
        return None
    return _unbalanced(
        f"payment {remit.trace_number}",
        f"payment amount {_money(amount)} differs from claims paid {_money(paid)} less "
        f"provider adjustments {_money(taken)} = {_money(paid - taken)}",
        (("payment", amount), ("claims_paid", paid), ("provider_adjustments", taken)),
    )


def _unbalanced(record: str, message: str, amounts: tuple[tuple[str, Decimal], ...]) -> RemitFinding:
    return RemitFinding(
        UNBALANCED, "error", record, message + ": not posted until a biller checks it.", amounts
    )


def claim_balance_findings(claim: ClaimPayment) -> list[RemitFinding]:
    """Every line rule, then the claim rule, for one claim."""
    found = [line_charge_less_paid_equals_adjustments(claim, n) for n in range(1, len(claim.lines) + 1)]
    found.append(claim_charge_less_paid_equals_adjustments(claim))
    return [f for f in found if f is not None]


def balance_findings(remit: Remittance) -> list[RemitFinding]:
    """All three balancing rules over a remittance; an empty list means it balances."""
    found = [f for claim in remit.claims for f in claim_balance_findings(claim)]
    payment = payment_equals_claims_paid_less_provider_adjustments(remit)
    if payment is not None:
        found.append(payment)
    return found


def balances(remit: Remittance) -> bool:
    return not balance_findings(remit)


# --- states and balances from the money -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Money:
    """Where one line's (or claim's) charge went."""

    charge: Decimal
    paid: Decimal
    contractual: Decimal  # CO written off for good: the contract's price (CO-45 ...)
    patient_responsibility: Decimal  # PR: bill the patient
    prior_payers: Decimal  # OA-23: what earlier payers already paid or adjusted
    denied: Decimal  # everything else not paid: CO denials, OA, PI, CR, to work or appeal

    @property
    def balance_left(self) -> Decimal:
        """What is still owed to us after this payment: the patient's share and the denials."""
        return self.charge - self.paid - self.contractual - self.prior_payers


def split(charge: Decimal, paid: Decimal, adjustments: Iterable[Adjustment]) -> Money:
    contractual = patient = prior = ZERO
    for a in adjustments:
        if a.group == "PR":
            patient += a.amount
        elif a.group == "CO" and a.reason in CONTRACTUAL_REASONS:
            contractual += a.amount
        elif a.group == "OA" and a.reason == PRIOR_PAYER_REASON:
            prior += a.amount
    # Whatever the adjustments do not explain counts as denied, so that an unbalanced line
    # can never look settled.
    denied = charge - paid - contractual - patient - prior
    return Money(charge, paid, contractual, patient, prior, denied)


def line_money(line: LinePayment) -> Money:
    return split(line.charge, line.paid, line.adjustments)


def claim_money(claim: ClaimPayment) -> Money:
    adjustments = [*claim.adjustments, *(a for line in claim.lines for a in line.adjustments)]
    return split(claim.charge, claim.paid, adjustments)


def state_of(money: Money) -> RemitState:
    """Paid: nothing left to work with the payer (a patient share may remain). Denied: nothing
    paid and something denied. Partially paid: something paid and something denied."""
    if money.denied == ZERO or money.charge == ZERO:
        return "paid"
    return "partially_paid" if money.paid > ZERO else "denied"


def line_state(line: LinePayment) -> RemitState:
    return state_of(line_money(line))


def claim_states(claims: Sequence[ClaimPayment]) -> list[RemitState]:
    """The state of each CLP in file order: a reversal is reversed, and the next CLP for the same
    claim after a reversal is its correction (corrected when it pays, denied when it does not)."""
    states: list[RemitState] = []
    reversed_ids: set[str] = set()
    for claim in claims:
        if claim.is_reversal:
            states.append("reversed")
            reversed_ids.add(claim.claim_id)
        elif claim.claim_id in reversed_ids:
            reversed_ids.discard(claim.claim_id)
            denied = claim.status_code == DENIED_STATUS or state_of(claim_money(claim)) == "denied"
            states.append("denied" if denied else "corrected")
        elif claim.status_code == DENIED_STATUS:
            states.append("denied")
        else:
            states.append(state_of(claim_money(claim)))
    return states


# --- paid below the contract ------------------------------------------------------------------------


def underpaid(
    claim: ClaimPayment, number: int, expected_payment: Decimal | None, our_line: int
) -> RemitFinding | None:
    """`remit.underpaid` when the payer allowed less than the fee schedule expects.

    What the payer allowed is what it paid plus the patient's share; comparing that, not the
    payment alone, keeps a coinsurance from looking like an underpayment. A denied line is a
    denial to work, not an underpayment, and a reversal pays nothing by design.
    """
    line = claim.lines[number - 1]
    if expected_payment is None or claim.is_reversal:
        return None
    money = line_money(line)
    if state_of(money) == "denied":
        return None
    allowed = money.paid + money.patient_responsibility
    if allowed >= expected_payment:
        return None
    difference = expected_payment - allowed
    return RemitFinding(
        UNDERPAID,
        "warning",
        f"claim {claim.claim_id} line {our_line}",
        f"paid {_money(money.paid)} plus patient share {_money(money.patient_responsibility)} is "
        f"{_money(difference)} below the expected payment {_money(expected_payment)}.",
        (("expected", expected_payment), ("allowed", allowed), ("difference", difference)),
    )
