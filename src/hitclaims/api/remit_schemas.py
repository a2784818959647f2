"""The API's remittance documents: uploads, remittances with their payments, denials and A/R.
Money travels as a two-decimal string, as everywhere in the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import StringConstraints

from hitclaims.api.schemas import Doc, Money
from hitclaims.core.vocabulary import NextAction


class RemittanceUpload(Doc):
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "upload.835"
    content: Annotated[str, StringConstraints(min_length=1)]


class UploadOut(Doc):
    remittance: int
    payer_id: str
    trace_number: str
    outcome: str  # posted | held | already_posted
    claims_posted: int
    unmatched_claims: int
    findings: list[dict[str, Any]]


class AdjustmentOut(Doc):
    group: str
    reason: str
    amount: Money


class LinePaymentOut(Doc):
    line_number: int | None
    code: str
    modifiers: str
    charge: Money
    paid: Money
    contractual: Money
    patient_responsibility: Money
    denied: Money
    balance_left: Money
    state: str
    matched_by: str | None
    reason: str | None
    adjustments: list[AdjustmentOut]


class ClaimPaymentOut(Doc):
    remittance: int
    claim: int | None
    claim_id: str
    status_code: str
    state: str
    charge: Money
    paid: Money
    patient_responsibility: Money
    payer_claim_id: str
    reason: str | None
    adjustments: list[AdjustmentOut]
    lines: list[LinePaymentOut]


class RemittanceOut(Doc):
    id: int
    payer_id: str
    payer_name: str
    trace_number: str
    paid_on: date | None
    amount: Money
    method: str
    balanced: bool
    status: str
    findings: list[dict[str, Any]]
    file_name: str
    received_at: datetime
    received_by: str
    posted_at: datetime | None


class RemittanceDetail(RemittanceOut):
    payments: list[ClaimPaymentOut]


class DenialOut(Doc):
    payer_id: str
    code: str
    description: str
    next_action: NextAction
    our_rules: list[str]
    claims: int
    amount: Money


class AgingRow(Doc):
    payer_id: str
    claims: int
    buckets: dict[str, Money]
    total: Money
    patient_balance: Money


class AgingOut(Doc):
    as_of: date
    payers: list[AgingRow]
    totals: dict[str, Money]
    total: Money
