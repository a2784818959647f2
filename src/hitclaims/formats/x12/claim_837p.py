"""X12 837P 005010X222A1 from the neutral claim: a renderer, never a second billing engine.

One transaction set per claim: 1000A/B, the billing provider (2000A/2010AA), the subscriber and
payer (2000B/2010BA/BB), the patient (2000C) when not the subscriber, the claim (2300) and its
lines (2400) with the drug (2410) and the ordering physician (2420E) on every line, as the TR3
home infusion example does. Only `ready` claims are written: a held claim is not ready to send
and a refused one may never be sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from hitclaims.core.claim import Claim, ClaimLine
from hitclaims.core.errors import ConflictError
from hitclaims.core.matching import line_control
from hitclaims.core.records import Person
from hitclaims.core.vocabulary import MAX_DIAGNOSES, MAX_MODIFIERS, MAX_POINTERS
from hitclaims.formats.x12.envelope import Envelope, interchange, rendered_interchange
from hitclaims.formats.x12.segments import (
    Segment,
    d8,
    element_problems,
    fit,
    n3_n4,
    nm1_organization,
    nm1_person,
    number,
    plain,
    rd8,
    seg,
    segments_pass,
)

VERSION: Final = "005010X222A1"
_PAT_RELATIONSHIP: Final = {"spouse": "01", "child": "19", "other": "G8"}
_HOME: Final = "12"  # place of service of a claim without lines


class NotSendableError(ConflictError):
    """A claim that is not `ready`, or lacks what an 837 needs, was given to the 837 writer."""


def write_837(claims: Sequence[Claim], envelope: Envelope, receiver_name: str) -> str:
    """One interchange with one transaction set per claim."""
    for claim in claims:
        _require_ready(claim)
    bodies = [_transaction(claim, envelope, receiver_name) for claim in claims]
    return interchange(envelope, "837", VERSION, bodies)


def rendered_transaction(claim: Claim, envelope: Envelope, receiver_name: str) -> list[str]:
    """A ready claim's transaction set body as `write_837` renders it, a segment per string (ST
    and SE are the interchange's): `write_rendered_837` puts such bodies in a file."""
    _require_ready(claim)
    return [s.render() for s in _transaction(claim, envelope, receiver_name)]


def _require_ready(claim: Claim) -> None:
    if claim.status != "ready":
        raise NotSendableError(
            f"claim {claim.claim_id} is {claim.status}, not ready: it is never written to an 837", "status"
        )


def write_rendered_837(envelope: Envelope, bodies: Sequence[Sequence[str]]) -> str:
    """One interchange of bodies from `rendered_transaction`, made with this envelope's date
    and receiver: the same text `write_837` gives for their claims."""
    return rendered_interchange(envelope, "837", VERSION, bodies)


def certainly_valid_837(claim: Claim, envelope: Envelope, receiver_name: str) -> bool:
    """True when `write_837([claim], envelope, receiver_name)` certainly gives text in which
    `element_problems` finds nothing; False when it might (render it and ask, for the words).

    The claim's segments are judged on their values without rendering. The envelope's own
    segments are rendered around an empty transaction set: only their counts and control
    numbers differ from the real file's, and those always fit. Its ids must hold no separator,
    or the real file could split where this one does not.
    """
    if not (plain(envelope.sender_id) and plain(envelope.receiver_id)):
        return False
    if element_problems(interchange(envelope, "837", VERSION, [[]])):
        return False
    return segments_pass(_transaction(claim, envelope, receiver_name))


def _transaction(claim: Claim, envelope: Envelope, receiver_name: str) -> list[Segment]:
    provider = claim.provider
    return [
        seg(
            "BHT",
            "0019",
            "00",
            fit("BHT03", claim.claim_id),
            f"{envelope.created:%Y%m%d}",
            f"{envelope.created:%H%M}",
            "CH",
        ),
        # 1000A submitter and 1000B receiver
        nm1_organization("41", provider.name, "46", provider.sender_id),
        seg("PER", "IC", fit("PER02", provider.contact.name), "TE", provider.contact.phone),
        nm1_organization("40", receiver_name, "46", envelope.receiver_id),
        # 2000A / 2010AA billing provider
        seg("HL", "1", None, "20", "1"),
        seg("PRV", "BI", "PXC", provider.taxonomy),
        nm1_organization("85", provider.name, "XX", provider.npi),
        *n3_n4(provider.address),
        seg("REF", "EI", provider.tax_id),
        *_subscriber(claim),
        *_claim(claim),
    ]


def _demographics(person: Person) -> Segment:
    return seg("DMG", "D8", d8(person.birth_date), person.sex)


def _subscriber(claim: Claim) -> list[Segment]:
    """2000B/2010BA/2010BB, and 2000C/2010CA when the patient is not the subscriber."""
    coverage = claim.coverage
    patient_is_subscriber = coverage.relationship == "self"
    subscriber: Person = claim.patient if patient_is_subscriber else _required(coverage.subscriber)
    segments = [
        seg("HL", "2", "1", "22", "0" if patient_is_subscriber else "1"),
        seg(
            "SBR",
            "P",
            "18" if patient_is_subscriber else None,
            fit("SBR03", coverage.group_number) or None,
            None,
            None,
            None,
            None,
            None,
            claim.payer.claim_filing_indicator,
        ),
        nm1_person("IL", subscriber.last_name, subscriber.first_name, "MI", fit("NM109", coverage.member_id)),
        *n3_n4(subscriber.address),
        _demographics(subscriber),
        nm1_organization("PR", claim.payer.name, "PI", fit("NM109", claim.payer.x12_payer_id)),
    ]
    if not patient_is_subscriber:
        patient = claim.patient
        segments += [
            seg("HL", "3", "2", "23", "0"),
            seg("PAT", _PAT_RELATIONSHIP[coverage.relationship]),
            nm1_person("QC", patient.last_name, patient.first_name),
            *n3_n4(patient.address),
            _demographics(patient),
        ]
    return segments


def _required(person: Person | None) -> Person:
    if person is None:
        raise NotSendableError(
            "the subscriber is missing for a patient who is not the subscriber", "coverage.subscriber"
        )
    return person


def _claim(claim: Claim) -> list[Segment]:
    """2300 and its 2400 lines; one prior authorization goes on the claim, several on the lines."""
    place = claim.lines[0].place_of_service if claim.lines else _HOME
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
        segments.append(seg("REF", "F8", fit("REF02", claim.original_claim_id)))
    auths = {line.authorization for line in claim.lines if line.authorization}
    claim_auth = next(iter(auths)) if len(auths) == 1 else None
    if claim_auth:
        segments.append(seg("REF", "G1", fit("REF02", claim_auth)))
    codes = [code.replace(".", "") for code in claim.diagnoses[:MAX_DIAGNOSES]]
    segments.append(seg("HI", *((("ABK" if i == 0 else "ABF"), code) for i, code in enumerate(codes))))
    # 2420E, the same on every line: made once per claim.
    prescriber = claim.prescriber
    ordering = nm1_person("DK", prescriber.last_name, prescriber.first_name, "XX", prescriber.npi)
    for line in claim.lines:
        line_auth = None if claim_auth else line.authorization
        segments += _line(claim.claim_id, line, place, line_auth, ordering)
    return segments


def _procedure(line: ClaimLine) -> tuple[str, ...]:
    modifiers = [*line.modifiers, *[""] * MAX_MODIFIERS][:MAX_MODIFIERS]
    description = fit("SV101-7", line.description) if line.description else ""
    return ("HC", line.code, *modifiers, description)


def _line(
    claim_id: str, line: ClaimLine, claim_place: str, line_auth: str | None, ordering: Segment
) -> list[Segment]:
    pointers = tuple(str(p) for p in line.diagnosis_pointers[:MAX_POINTERS])
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
        segments.append(seg("REF", "G1", fit("REF02", line_auth)))
    # The line item control number the payer echoes in its 835 (REF*6R), so the payment finds
    # this very line.
    segments.append(seg("REF", "6R", line_control(claim_id, line.line_number)))
    if line.ndc and line.ndc_quantity is not None and line.ndc_unit:
        segments += [
            seg("LIN", None, "N4", line.ndc),
            seg("CTP", None, None, None, number(line.ndc_quantity), (line.ndc_unit,)),
        ]
        if line.rx_number:
            segments.append(seg("REF", "XZ", fit("REF02", line.rx_number)))
    segments.append(ordering)
    return segments
