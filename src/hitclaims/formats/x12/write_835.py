"""X12 835 005010X221A1 from neutral remittances: what the payer simulator sends.

A renderer of `core.remittance.Remittance`, so that reading back what it wrote gives the same
money. It writes what pyx12 needs for a valid 835 and what x12sdk's generator left out
(STACK-NOTES §1.2): BPR16 always, and the payer's technical contact (PER*BL). One transaction
set per remittance; the functional group is HP (claim payment/advice), not the 837's HC, so the
envelope is written here rather than with `envelope.interchange`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hitclaims.core.remittance import Adjustment, ClaimPayment, LinePayment, ProviderAdjustment, Remittance
from hitclaims.core.vocabulary import MAX_CAS_TRIPLES
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.formats.x12.segments import COMPONENT_SEP, REPETITION_SEP, Segment, d8, number, seg, text

VERSION: Final = "005010X221A1"
_PLB_PAIRS: Final = 6


@dataclass(frozen=True)
class PayerContact:
    """The payer's address and EDI help desk (1000A N3/N4 and PER*BL), which the 835 requires."""

    line1: str = "PO BOX 1000"
    city: str = "RALEIGH"
    state: str = "NC"
    zip: str = "27601"
    contact_name: str = "EDI SUPPORT"
    phone: str = "8005550100"


def write_835(remits: Sequence[Remittance], envelope: Envelope, contact: PayerContact | None = None) -> str:
    """One interchange, one HP functional group, one 835 transaction set per remittance."""
    payer = contact or PayerContact()
    lines = [_isa(envelope).render(), _gs(envelope).render()]
    for n, remit in enumerate(remits, start=1):
        control = f"{n:04d}"
        body = [seg("ST", "835", control), *_transaction(remit, payer)]  # ST03 is not used in the 835
        body.append(seg("SE", str(len(body) + 1), control))
        lines.extend(s.render() for s in body)
    lines.append(seg("GE", str(len(remits)), str(envelope.control_number)).render())
    lines.append(seg("IEA", "1", f"{envelope.control_number:09d}").render())
    return "\n".join(lines) + "\n"


def _isa(envelope: Envelope) -> Segment:
    return seg(
        "ISA", "00", " " * 10, "00", " " * 10,
        "ZZ", envelope.sender_id.upper().ljust(15)[:15], "ZZ", envelope.receiver_id.upper().ljust(15)[:15],
        f"{envelope.created:%y%m%d}", f"{envelope.created:%H%M}", REPETITION_SEP, "00501",
        f"{envelope.control_number:09d}", "0", envelope.usage, COMPONENT_SEP,
    )  # fmt: skip


def _gs(envelope: Envelope) -> Segment:
    return seg(
        "GS", "HP", envelope.sender_id.upper(), envelope.receiver_id.upper(), f"{envelope.created:%Y%m%d}",
        f"{envelope.created:%H%M}", str(envelope.control_number), "X", VERSION,
    )  # fmt: skip


def _transaction(remit: Remittance, payer: PayerContact) -> list[Segment]:
    pay = remit.payment
    paid_on = d8(pay.paid_on) if pay.paid_on else None
    if pay.method == "ACH":
        # CCP (cash concentration with addenda), then the payer's and the payee's banks.
        # The bank numbers are the simulator's placeholders: no real account is ever written.
        banks = (
            "01",
            "999999992",
            "DA",
            "123456",
            remit.trace_originator,
            None,
            "01",
            "999988880",
            "DA",
            "98765",
        )
        bpr = seg("BPR", pay.handling, number(pay.amount), pay.credit_debit, "ACH", "CCP", *banks, paid_on)
    else:
        bpr = seg("BPR", pay.handling, number(pay.amount), pay.credit_debit, pay.method,
                  *([None] * 11), paid_on)  # fmt: skip
    header = [
        bpr,
        seg("TRN", "1", remit.trace_number, remit.trace_originator),
        *([seg("DTM", "405", d8(remit.production_date))] if remit.production_date else []),
        seg("N1", "PR", text(remit.payer_name, 60), "XV", remit.payer_id),
        seg("N3", text(payer.line1, 55)),
        seg("N4", text(payer.city, 30), payer.state, payer.zip),
        seg("PER", "BL", text(payer.contact_name, 60), "TE", payer.phone),
        seg(
            "N1",
            "PE",
            text(remit.payee_name, 60),
            "XX" if len(remit.payee_id) == 10 else "FI",
            remit.payee_id,
        ),
    ]
    detail = [seg("LX", "1")] if remit.claims else []
    for claim in remit.claims:
        detail.extend(_claim(claim))
    return [*header, *detail, *_plb(remit.provider_adjustments)]


def _claim(claim: ClaimPayment) -> list[Segment]:
    out = [
        seg(
            "CLP",
            claim.claim_id,
            claim.status_code,
            number(claim.charge),
            number(claim.paid),
            number(claim.patient_responsibility),
            claim.filing_indicator,
            claim.payer_claim_id,
        ),
        *_cas(claim.adjustments),
    ]
    patient = claim.patient
    if patient is not None:
        out.append(seg("NM1", "QC", "1", text(patient.last_name, 60), text(patient.first_name, 35),
                       None, None, None, "MI", patient.member_id))  # fmt: skip
    if claim.remarks:
        out.append(seg("MOA", None, None, *claim.remarks[:5]))
    if claim.statement_from:
        out.append(seg("DTM", "232", d8(claim.statement_from)))
    if claim.statement_to:
        out.append(seg("DTM", "233", d8(claim.statement_to)))
    for line in claim.lines:
        out.extend(_line(line))
    return out


def _line(line: LinePayment) -> list[Segment]:
    procedure = (line.qualifier, line.code, *line.modifiers)
    out = [seg("SVC", procedure, number(line.charge), number(line.paid), None, number(line.units))]
    if line.service_from and line.service_from == line.service_to:
        out.append(seg("DTM", "472", d8(line.service_from)))
    else:
        if line.service_from:
            out.append(seg("DTM", "150", d8(line.service_from)))
        if line.service_to:
            out.append(seg("DTM", "151", d8(line.service_to)))
    out.extend(_cas(line.adjustments))
    if line.line_control:
        out.append(seg("REF", "6R", line.line_control))
    if line.allowed is not None:
        out.append(seg("AMT", "B6", number(line.allowed)))
    out.extend(seg("LQ", "HE", remark) for remark in line.remarks)
    return out


def _cas(adjustments: Sequence[Adjustment]) -> list[Segment]:
    """One CAS per group, up to six reason/amount/quantity triples each, in order of first use."""
    groups: dict[str, list[Adjustment]] = {}
    for a in adjustments:
        groups.setdefault(a.group, []).append(a)
    out = []
    for group, found in groups.items():
        for start in range(0, len(found), MAX_CAS_TRIPLES):
            triples: list[str | None] = []
            for a in found[start : start + MAX_CAS_TRIPLES]:
                triples += [
                    a.reason,
                    number(a.amount),
                    number(a.quantity) if a.quantity is not None else None,
                ]
            out.append(seg("CAS", group, *triples))
    return out


def _plb(adjustments: Sequence[ProviderAdjustment]) -> list[Segment]:
    """One PLB per provider and fiscal period, up to six reason/amount pairs each."""
    by_key: dict[tuple[str, str | None], list[ProviderAdjustment]] = {}
    for a in adjustments:
        period = d8(a.fiscal_period_end) if a.fiscal_period_end else None
        by_key.setdefault((a.provider_id, period), []).append(a)
    out = []
    for (provider, period), found in by_key.items():
        for start in range(0, len(found), _PLB_PAIRS):
            pairs: list[str | tuple[str, ...]] = []
            for a in found[start : start + _PLB_PAIRS]:
                pairs += [(a.reason, a.reference) if a.reference else a.reason, number(a.amount)]
            out.append(seg("PLB", provider, period, *pairs))
    return out
