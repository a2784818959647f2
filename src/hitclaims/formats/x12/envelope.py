"""The X12 envelope: ISA/GS around transaction sets, ST/SE around each, GE/IEA closing.

Control numbers and segment counts are computed here, never kept by hand. The interchange
control number (ISA13, also GS06) comes from the `Envelope`; a store assigns increasing ones,
and `default_envelope` derives a reproducible one for a one-off file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final, Literal

from hitclaims.core.claim import Claim
from hitclaims.formats.x12.segments import (
    COMPONENT_SEP,
    ELEMENT_SIZES,
    REPETITION_SEP,
    Segment,
    seg,
)

MAX_CONTROL_NUMBER: Final = 999_999_999  # ISA13 has nine digits


@dataclass(frozen=True)
class Envelope:
    """Who sends to whom, when, and the interchange control number (ISA13)."""

    sender_id: str
    receiver_id: str
    created: datetime  # local time of the submitter
    control_number: int
    usage: Literal["P", "T"] = "P"

    def __post_init__(self) -> None:
        if not 1 <= self.control_number <= MAX_CONTROL_NUMBER:
            raise ValueError("the interchange control number must have 1 to 9 digits")


def default_envelope(
    claims: Sequence[Claim], receiver_id: str, as_of: date, usage: Literal["P", "T"] = "P"
) -> Envelope:
    """A reproducible envelope: the same claims on the same day give the same control number.

    The store assigns real, increasing control numbers; a one-off file needs one that will not
    collide with yesterday's, which a digest of the claim ids and the date gives.
    """
    return envelope_for([c.claim_id for c in claims], claims[0].provider.sender_id, receiver_id, as_of, usage)


def envelope_for(
    claim_ids: Sequence[str], sender_id: str, receiver_id: str, as_of: date, usage: Literal["P", "T"] = "P"
) -> Envelope:
    """`default_envelope` from the claims' ids alone (for claims already rendered)."""
    digest = hashlib.sha256(("|".join(claim_ids) + as_of.isoformat()).encode()).hexdigest()
    control = int(digest, 16) % MAX_CONTROL_NUMBER + 1
    return Envelope(sender_id, receiver_id, datetime.combine(as_of, time(0, 0)), control, usage)


def _padded(value: str, ref: str) -> str:
    """A fixed-width ISA element: upper case, space-filled and cut to its one allowed length."""
    width = ELEMENT_SIZES[ref].max_len
    return value.upper().ljust(width)[:width]


def _isa(envelope: Envelope) -> Segment:
    return seg(
        "ISA",
        "00",
        _padded("", "ISA02"),
        "00",
        _padded("", "ISA04"),
        "ZZ",
        _padded(envelope.sender_id, "ISA06"),
        "ZZ",
        _padded(envelope.receiver_id, "ISA08"),
        f"{envelope.created:%y%m%d}",
        f"{envelope.created:%H%M}",
        REPETITION_SEP,
        "00501",
        f"{envelope.control_number:09d}",
        "0",
        envelope.usage,
        COMPONENT_SEP,
    )


def _gs(envelope: Envelope, version: str) -> Segment:
    return seg(
        "GS",
        "HC",
        envelope.sender_id.upper(),
        envelope.receiver_id.upper(),
        f"{envelope.created:%Y%m%d}",
        f"{envelope.created:%H%M}",
        str(envelope.control_number),
        "X",
        version,
    )


def interchange(
    envelope: Envelope, set_id: str, version: str, transactions: Sequence[Sequence[Segment]]
) -> str:
    """ISA/GS around transaction set bodies; ST/SE, numbers and counts are added here."""
    return rendered_interchange(
        envelope, set_id, version, [[s.render() for s in body] for body in transactions]
    )


def rendered_interchange(
    envelope: Envelope, set_id: str, version: str, transactions: Sequence[Sequence[str]]
) -> str:
    """`interchange` around bodies already rendered, a segment per string: a transaction set's
    body does not depend on where in the file it goes, so a batch renders it where it bills."""
    lines = [_isa(envelope).render(), _gs(envelope, version).render()]
    for number, body in enumerate(transactions, start=1):
        st_control = f"{number:04d}"
        lines.append(seg("ST", set_id, st_control, version).render())
        lines.extend(body)
        lines.append(seg("SE", str(len(body) + 2), st_control).render())
    lines.append(seg("GE", str(len(transactions)), str(envelope.control_number)).render())
    lines.append(seg("IEA", "1", f"{envelope.control_number:09d}").render())
    return "\n".join(lines) + "\n"
