"""A small typed X12 segment writer: segments as values, counts computed, never hand-kept.

Segments are built by typed functions (`nm1`, `sv1`, ...) elsewhere; this module knows only
how X12 text is spelled: separators, the fixed-width ISA, trailing empty elements dropped,
data scrubbed of the delimiter characters, numbers without needless zeros.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

Element = str | tuple[str, ...]  # a simple element or a composite's components

ELEMENT_SEP = "*"
COMPONENT_SEP = ":"
REPETITION_SEP = "^"
SEGMENT_END = "~"
_DELIMITERS = re.compile(r"[*:^~\r\n\t]")


@dataclass(frozen=True)
class Segment:
    id: str
    elements: tuple[Element, ...]

    def render(self) -> str:
        parts = [_element(e) for e in self.elements]
        while parts and parts[-1] == "":
            parts.pop()
        return ELEMENT_SEP.join([self.id, *parts]) + SEGMENT_END


def seg(segment_id: str, *elements: Element | None) -> Segment:
    return Segment(segment_id, tuple("" if e is None else e for e in elements))


def _element(value: Element) -> str:
    if isinstance(value, tuple):
        parts = list(value)
        while parts and parts[-1] == "":
            parts.pop()
        return COMPONENT_SEP.join(parts)
    return value


def text(value: str | None, max_length: int) -> str:
    """Data text: no delimiter characters, single spaces, upper case, cut to the element size."""
    if not value:
        return ""
    cleaned = " ".join(_DELIMITERS.sub(" ", value).split()).upper()
    return cleaned[:max_length].rstrip()


def number(value: Decimal | int) -> str:
    """X12 'R' and 'N' values: no exponent, no trailing zeros after the point (7250.00 -> 7250)."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def d8(day: date) -> str:
    return f"{day:%Y%m%d}"


def rd8(first: date, last: date) -> str:
    return f"{first:%Y%m%d}-{last:%Y%m%d}"


@dataclass(frozen=True)
class Envelope:
    """Who sends to whom, when, and the interchange control number (ISA13)."""

    sender_id: str
    receiver_id: str
    created: datetime  # local time of the submitter
    control_number: int
    usage: Literal["P", "T"] = "P"

    def __post_init__(self) -> None:
        if not 1 <= self.control_number <= 999_999_999:
            raise ValueError("the interchange control number must have 1 to 9 digits")


def interchange(
    envelope: Envelope, set_id: str, version: str, transactions: Sequence[Sequence[Segment]]
) -> str:
    """ISA/GS around transaction set bodies; ST/SE, numbers and counts are added here."""
    control = f"{envelope.control_number:09d}"
    isa = seg(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        envelope.sender_id.upper().ljust(15)[:15],
        "ZZ",
        envelope.receiver_id.upper().ljust(15)[:15],
        f"{envelope.created:%y%m%d}",
        f"{envelope.created:%H%M}",
        REPETITION_SEP,
        "00501",
        control,
        "0",
        envelope.usage,
        COMPONENT_SEP,
    )
    gs = seg(
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
    lines = [isa.render(), gs.render()]
    for number_, body in enumerate(transactions, start=1):
        st_control = f"{number_:04d}"
        segments = [seg("ST", set_id, st_control, version), *body]
        segments.append(seg("SE", str(len(segments) + 1), st_control))
        lines.extend(s.render() for s in segments)
    lines.append(seg("GE", str(len(transactions)), str(envelope.control_number)).render())
    lines.append(seg("IEA", "1", control).render())
    return "\n".join(lines) + "\n"
