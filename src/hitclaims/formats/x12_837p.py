"""X12 837P 005010X222A1 from the neutral claim: a renderer, never a second billing engine.

One transaction set per claim: 1000A/B, the billing provider (2000A/2010AA), the subscriber and
payer (2000B/2010BA/BB), the patient (2000C) when not the subscriber, the claim (2300) and its
lines (2400) with the drug (2410) and the ordering physician (2420E) on every line, as the TR3
home infusion example does. Only `ready` claims are written: a held claim is not ready to send
and a refused one may never be sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Literal

from hitclaims.core.claim import Claim, ClaimLine
from hitclaims.core.records import Address, Person
from hitclaims.formats.x12 import Envelope, Segment, d8, interchange, number, rd8, seg, text

VERSION = "005010X222A1"
_PAT_RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8"}
MAX_DIAGNOSES = 12


class NotSendableError(ValueError):
    """A claim that is not `ready` was given to the 837 writer."""


def default_envelope(
    claims: Sequence[Claim], receiver_id: str, as_of: date, usage: Literal["P", "T"] = "P"
) -> Envelope:
    """A reproducible envelope: the same claims on the same day give the same control number.

    The store assigns real, increasing control numbers; a one-off file needs one that will not
    collide with yesterday's, which a digest of the claim ids and the date gives.
    """
    sender = claims[0].provider.sender_id
    digest = hashlib.sha256(("|".join(c.claim_id for c in claims) + as_of.isoformat()).encode()).hexdigest()
    control = int(digest, 16) % 999_999_999 + 1
    return Envelope(sender, receiver_id, datetime.combine(as_of, time(0, 0)), control, usage)


def write_837(claims: Sequence[Claim], envelope: Envelope, receiver_name: str) -> str:
    """One interchange with one transaction set per claim."""
    for claim in claims:
        if claim.status != "ready":
            raise NotSendableError(
                f"claim {claim.claim_id} is {claim.status}, not ready: it is never written to an 837"
            )
    bodies = [_transaction(claim, envelope, receiver_name) for claim in claims]
    return interchange(envelope, "837", VERSION, bodies)


def _transaction(claim: Claim, envelope: Envelope, receiver_name: str) -> list[Segment]:
    provider = claim.provider
    segments = [
        seg(
            "BHT",
            "0019",
            "00",
            text(claim.claim_id, 50),
            f"{envelope.created:%Y%m%d}",
            f"{envelope.created:%H%M}",
            "CH",
        ),
        # 1000A submitter and 1000B receiver
        seg("NM1", "41", "2", text(provider.name, 60), None, None, None, None, "46", provider.sender_id),
        seg("PER", "IC", text(provider.contact.name, 60), "TE", provider.contact.phone),
        seg("NM1", "40", "2", text(receiver_name, 60), None, None, None, None, "46", envelope.receiver_id),
        # 2000A / 2010AA billing provider
        seg("HL", "1", None, "20", "1"),
        seg("PRV", "BI", "PXC", provider.taxonomy),
        seg("NM1", "85", "2", text(provider.name, 60), None, None, None, None, "XX", provider.npi),
        *_address(provider.address),
        seg("REF", "EI", provider.tax_id),
    ]
    segments += _subscriber(claim)
    segments += _claim(claim)
    return segments


def _address(address: Address) -> list[Segment]:
    return [
        seg("N3", text(address.line1, 55), text(address.line2, 55) or None),
        seg("N4", text(address.city, 30), address.state, address.zip),
    ]


def _demographics(person: Person) -> Segment:
    return seg("DMG", "D8", d8(person.birth_date), person.sex)


def _subscriber(claim: Claim) -> list[Segment]:
    coverage = claim.coverage
    patient_is_subscriber = coverage.relationship == "self"
    subscriber: Person = claim.patient if patient_is_subscriber else _required(coverage.subscriber)
    segments = [
        seg("HL", "2", "1", "22", "0" if patient_is_subscriber else "1"),
        seg(
            "SBR",
            "P",
            "18" if patient_is_subscriber else None,
            text(coverage.group_number, 50) or None,
            None,
            None,
            None,
            None,
            None,
            claim.payer.claim_filing_indicator,
        ),
        seg(
            "NM1",
            "IL",
            "1",
            text(subscriber.last_name, 60),
            text(subscriber.first_name, 35),
            None,
            None,
            None,
            "MI",
            text(coverage.member_id, 80),
        ),
        *_address(subscriber.address),
        _demographics(subscriber),
        seg(
            "NM1",
            "PR",
            "2",
            text(claim.payer.name, 60),
            None,
            None,
            None,
            None,
            "PI",
            text(claim.payer.x12_payer_id, 80),
        ),
    ]
    if not patient_is_subscriber:
        patient = claim.patient
        segments += [
            seg("HL", "3", "2", "23", "0"),
            seg("PAT", _PAT_RELATIONSHIP[coverage.relationship]),
            seg("NM1", "QC", "1", text(patient.last_name, 60), text(patient.first_name, 35)),
            *_address(patient.address),
            _demographics(patient),
        ]
    return segments


def _required(person: Person | None) -> Person:
    if person is None:
        raise NotSendableError("the subscriber is missing for a patient who is not the subscriber")
    return person


def _claim(claim: Claim) -> list[Segment]:
    place = claim.lines[0].place_of_service if claim.lines else "12"
    segments = [
        seg(
            "CLM",
            claim.claim_id,
            number(claim.total_charge),
            None,
            None,
            (place, "B", claim.frequency_code),
            "Y",
            "A",
            "Y",
            "Y",
        ),
    ]
    if claim.original_claim_id:
        segments.append(seg("REF", "F8", text(claim.original_claim_id, 50)))
    auths = {line.authorization for line in claim.lines if line.authorization}
    claim_auth = next(iter(auths)) if len(auths) == 1 else None
    if claim_auth:
        segments.append(seg("REF", "G1", text(claim_auth, 50)))
    codes = [code.replace(".", "") for code in claim.diagnoses[:MAX_DIAGNOSES]]
    segments.append(seg("HI", *((("ABK" if i == 0 else "ABF"), code) for i, code in enumerate(codes))))
    for line in claim.lines:
        segments += _line(claim, line, place, line_auth=None if claim_auth else line.authorization)
    return segments


def _procedure(line: ClaimLine) -> tuple[str, ...]:
    modifiers = [*line.modifiers, "", "", "", ""][:4]
    description = text(line.description, 80) if line.description else ""
    return ("HC", line.code, *modifiers, description)


def _line(claim: Claim, line: ClaimLine, claim_place: str, line_auth: str | None) -> list[Segment]:
    pointers = tuple(str(p) for p in line.diagnosis_pointers[:4])
    segments = [
        seg("LX", str(line.line_number)),
        seg(
            "SV1",
            _procedure(line),
            number(line.charge),
            "UN",
            number(line.units),
            # SV105 only when the line's place differs from the claim's (TR3 situational rule).
            line.place_of_service if line.place_of_service != claim_place else None,
            None,
            pointers,
        ),
        seg("DTP", "472", "D8", d8(line.from_))
        if line.from_ == line.to
        else seg("DTP", "472", "RD8", rd8(line.from_, line.to)),
    ]
    if line_auth:
        segments.append(seg("REF", "G1", text(line_auth, 50)))
    if line.ndc and line.ndc_quantity is not None and line.ndc_unit:
        segments += [
            seg("LIN", None, "N4", line.ndc),
            seg("CTP", None, None, None, number(line.ndc_quantity), (line.ndc_unit,)),
        ]
        if line.rx_number:
            segments.append(seg("REF", "XZ", text(line.rx_number, 50)))
    prescriber = claim.prescriber
    segments.append(
        seg(
            "NM1",
            "DK",
            "1",
            text(prescriber.last_name, 60),
            text(prescriber.first_name, 35),
            None,
            None,
            None,
            "XX",
            prescriber.npi,
        )
    )
    return segments
