"""The neutral claim: the one object every output (JSON, 837P, FHIR, report, database) renders.

These models are also the public result document (SPEC "Result"); its JSON Schema is generated
from them. Money is Decimal and travels as a string.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hitclaims import __version__
from hitclaims.core.coding import Line, line_order
from hitclaims.core.days import Period
from hitclaims.core.findings import Finding
from hitclaims.core.per_diem import Ledger
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.provider import Contact, Provider
from hitclaims.core.records import Address, Episode, Patient, Person, Prescriber
from hitclaims.core.vocabulary import (
    MAX_LINES_PER_CLAIM,
    MAX_POINTERS,
    SEVERITY_RANK,
    DayStatus,
    EngineStatus,
    FrequencyCode,
    LineKind,
)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ClaimLine(Out):
    line_number: int
    kind: LineKind
    code: str
    modifiers: list[str]
    from_: Annotated[date, Field(alias="from")]
    to: date
    units: int
    unit_charge: Decimal
    charge: Decimal
    expected_payment: Decimal | None
    place_of_service: str
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    description: str | None = None
    rx_number: str | None = None
    authorization: str | None = None
    diagnosis_pointers: list[int]
    days: list[date] = []
    record: str = ""
    item_key: str = ""
    basis: list[str] = []


class HeldDay(Out):
    date: date
    rule: str


class FindingOut(Out):
    rule: str
    severity: Literal["error", "warning"]
    holds: Literal["day", "line", "claim", "refuse", "none"]
    date: date | None
    record: str
    message: str


class LedgerRow(Out):
    date: date
    billed: bool
    status: DayStatus
    code: str | None
    units: int
    held_by: list[str] = []
    reasons: list[str]


class PeriodOut(Out):
    from_: Annotated[date, Field(alias="from")]
    to: date


class PayerOut(Out):
    id: str
    name: str
    payer_kind: str
    x12_payer_id: str
    claim_filing_indicator: str


class CoverageOut(Out):
    member_id: str
    group_number: str | None
    relationship: Literal["self", "spouse", "child", "other"]
    subscriber: Person | None


class ProviderOut(Out):
    name: str
    npi: str
    tax_id: str
    taxonomy: str
    address: Address
    contact: Contact
    sender_id: str


class Claim(Out):
    claim_id: str
    part: int = 1
    parts: int = 1
    frequency_code: FrequencyCode = "1"
    original_claim_id: str | None = None
    episode_id: str
    payer_id: str
    status: EngineStatus
    period: PeriodOut
    as_of: date
    total_charge: Decimal
    expected_payment: Decimal | None
    patient: Patient
    coverage: CoverageOut
    payer: PayerOut
    provider: ProviderOut
    prescriber: Prescriber
    diagnoses: list[str]
    lines: list[ClaimLine]
    held_days: list[HeldDay]
    findings: list[FindingOut]
    ledger: list[LedgerRow]


class Result(Out):
    hitclaims_version: str = __version__
    claims: list[Claim]


def claim_status(findings: Sequence[Finding], per_diem_billable: int, per_diem_billed: int) -> EngineStatus:
    if any(f.holds == "refuse" for f in findings):
        return "refused"
    if any(f.holds == "claim" for f in findings):
        return "held"
    if per_diem_billable and not per_diem_billed:
        return "held"  # every per-diem day is held
    return "ready"


def held_by(claim: Claim, finding: Finding) -> Claim:
    """The claim with one more finding, found after the engine (its 837 would be invalid): a
    ready claim it holds becomes held; a held or refused one keeps its status."""
    findings = sorted(
        [*claim.findings, _finding(finding)],
        key=lambda f: (
            SEVERITY_RANK[f.severity],
            f.date.isoformat() if f.date else "",
            f.rule,
            f.record,
            f.message,
        ),
    )
    status = claim.status
    if status == "ready" and finding.holds in ("claim", "refuse"):
        status = "refused" if finding.holds == "refuse" else "held"
    return claim.model_copy(update={"findings": findings, "status": status})


def _ledger_rows(ledger: Ledger, held: dict[date, list[str]]) -> list[LedgerRow]:
    rows: list[LedgerRow] = []
    for day in ledger.days:
        rules = held.get(day.date, [])
        if not day.billable:
            status: DayStatus = "not_billable"
        elif rules:
            status = "held"
        else:
            status = "billed"
        reasons = list(day.reasons)
        if rules:
            reasons.append("held: " + ", ".join(rules))
        rows.append(
            LedgerRow(
                date=day.date,
                billed=status == "billed",
                status=status,
                code=day.code,
                units=1 if status == "billed" else 0,
                held_by=rules,
                reasons=reasons,
            )
        )
    return rows


def _claim_line(number: int, line: Line, pointers: list[int]) -> ClaimLine:
    return ClaimLine(
        line_number=number,
        kind=line.kind,
        code=line.code,
        modifiers=list(line.modifiers),
        from_=line.start,
        to=line.end,
        units=line.units,
        unit_charge=line.unit_charge,
        charge=line.charge,
        expected_payment=line.expected_payment,
        place_of_service=line.place_of_service,
        ndc=line.ndc,
        ndc_quantity=line.ndc_quantity,
        ndc_unit=line.ndc_unit,
        description=line.description,
        rx_number=line.rx_number,
        authorization=line.authorization,
        diagnosis_pointers=pointers,
        days=list(line.days) if line.kind == "per_diem" else [],
        record=line.record,
        item_key=line.item_key,
        basis=list(line.basis),
    )


def assemble(
    *,
    episode: Episode,
    policy: PayerPolicy,
    provider: Provider,
    period: Period,
    as_of: date,
    ledger: Ledger,
    lines: Sequence[Line],
    findings: Sequence[Finding],
    held: dict[date, list[str]],
) -> list[Claim]:
    """One claim per patient, payer and period, split when it has more than 50 lines."""
    ordered = sorted(lines, key=line_order)
    ordered_findings = sorted(findings, key=lambda f: f.sort_key())
    billable = len(ledger.billable_days)
    billed = sum(1 for d in ledger.billable_days if d.date not in held)
    status = claim_status(ordered_findings, billable, billed)
    base_id = f"{episode.episode_id}-{period.label()}"
    # Every part carries the whole ledger and all findings: each claim must stand on its own
    # in front of a reviewer, and a claim-level hold holds every part.
    template = Claim(
        claim_id=base_id,
        episode_id=episode.episode_id,
        payer_id=policy.id,
        status=status,
        period=PeriodOut(from_=period.start, to=period.end),
        as_of=as_of,
        total_charge=Decimal("0.00"),
        expected_payment=None,
        patient=episode.patient,
        coverage=_coverage(episode),
        payer=_payer(policy),
        provider=_provider(provider),
        prescriber=episode.prescriber,
        diagnoses=list(episode.diagnoses),
        lines=[],
        held_days=[HeldDay(date=d, rule=r) for d in sorted(held) for r in held[d]],
        findings=[_finding(f) for f in ordered_findings],
        ledger=_ledger_rows(ledger, held),
    )
    pointers = list(range(1, min(len(episode.diagnoses), MAX_POINTERS) + 1))
    return _parts(template, ordered, pointers)


def _parts(template: Claim, lines: Sequence[Line], pointers: list[int]) -> list[Claim]:
    """The claim in parts of at most 50 lines (the 837P's limit), each with its own totals."""
    chunks = [lines[i : i + MAX_LINES_PER_CLAIM] for i in range(0, len(lines), MAX_LINES_PER_CLAIM)] or [[]]
    claims: list[Claim] = []
    for part, chunk in enumerate(chunks, start=1):
        expected = [line.expected_payment for line in chunk if line.expected_payment is not None]
        claims.append(
            template.model_copy(
                update={
                    "claim_id": template.claim_id if len(chunks) == 1 else f"{template.claim_id}-{part}",
                    "part": part,
                    "parts": len(chunks),
                    "total_charge": sum((line.charge for line in chunk), Decimal("0.00")),
                    "expected_payment": sum(expected, Decimal("0.00")) if expected else None,
                    "lines": [_claim_line(n, line, pointers) for n, line in enumerate(chunk, start=1)],
                }
            )
        )
    return claims


def _coverage(episode: Episode) -> CoverageOut:
    return CoverageOut(
        member_id=episode.coverage.member_id,
        group_number=episode.coverage.group_number,
        relationship=episode.coverage.relationship,
        subscriber=episode.coverage.subscriber,
    )


def _payer(policy: PayerPolicy) -> PayerOut:
    return PayerOut(
        id=policy.id,
        name=policy.name,
        payer_kind=policy.payer_kind,
        x12_payer_id=policy.x12_payer_id,
        claim_filing_indicator=policy.claim_filing_indicator,
    )


def _provider(provider: Provider) -> ProviderOut:
    return ProviderOut(
        name=provider.name,
        npi=provider.npi,
        tax_id=provider.tax_id,
        taxonomy=provider.taxonomy,
        address=provider.address,
        contact=provider.contact,
        sender_id=provider.sender_id,
    )


def _finding(f: Finding) -> FindingOut:
    return FindingOut(
        rule=f.rule, severity=f.severity, holds=f.holds, date=f.date, record=f.record, message=f.message
    )
