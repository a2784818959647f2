"""How X12 text is spelled, and how long each element we write may be.

Segments are values; this module knows the separators, drops trailing empty elements, scrubs
delimiter characters out of data, writes numbers without needless zeros, and writes the
name-and-address trio (NM1, N3, N4) that several loops share. `ELEMENT_SIZES` is the 837P's
length rule for every element we write, so cuts and checks read one table instead of literals;
`element_problems` checks rendered text against it and against the X12 character set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Final, NamedTuple, cast

from hitclaims.core.records import Address, x12_ascii

Element = str | tuple[str, ...]  # a simple element or a composite's components

ELEMENT_SEP: Final = "*"
COMPONENT_SEP: Final = ":"
REPETITION_SEP: Final = "^"
SEGMENT_END: Final = "~"
_DELIMITERS = re.compile(r"[*:^~\r\n\t]")
# The X12 extended character set (005010): printable ASCII. Anything else breaks the 837.
_OUTSIDE_CHARSET = re.compile(r"[^ -~]")
# A value holding one of these would move the element or segment boundaries, or switch
# `element_problems` to checking every element: `segments_pass` leaves such segments to it.
_NOT_PLAIN = re.compile(r"[^ -~]|[*~]")
_NUMBER = {"R": re.compile(r"-?[0-9]*(\.[0-9]+)?"), "N0": re.compile(r"-?[0-9]+")}


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    elements: tuple[Element, ...]

    def render(self) -> str:
        parts = [_element(e) for e in self.elements]
        while parts and parts[-1] == "":
            parts.pop()
        return ELEMENT_SEP.join([self.id, *parts]) + SEGMENT_END


def seg(segment_id: str, *elements: Element | None) -> Segment:
    if None in elements:
        return Segment(segment_id, tuple(["" if e is None else e for e in elements]))
    return Segment(segment_id, cast("tuple[Element, ...]", elements))  # no None: checked above


def _element(value: Element) -> str:
    if isinstance(value, tuple):
        parts = list(value)
        while parts and parts[-1] == "":
            parts.pop()
        return COMPONENT_SEP.join(parts)
    return value


# --- element values -------------------------------------------------------------------------------


def text(value: str | None, max_length: int) -> str:
    """Data text: accents dropped, no delimiter characters, single spaces, upper case, cut to
    the element size. What cannot be mapped stays, for `element_problems` to hold the claim
    (records refuse it at the edge): a name is never silently changed into another."""
    if not value:
        return ""
    # Folded first: a full-width asterisk folds to a delimiter.
    cleaned = " ".join(_DELIMITERS.sub(" ", x12_ascii(value)).split()).upper()
    return cleaned[:max_length].rstrip()


def fit(ref: str, value: str | None) -> str:
    """Data text cut to the longest the 837P allows in element `ref` (NM103, N301, ...)."""
    return text(value, ELEMENT_SIZES[ref].max_len)


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


# --- names and addresses (NM1, N3, N4) ------------------------------------------------------------


def nm1_organization(entity: str, name: str, id_qualifier: str, identifier: str) -> Segment:
    """NM1 for a non-person entity (NM102 2): submitter, receiver, billing provider, payer."""
    return seg("NM1", entity, "2", fit("NM103", name), None, None, None, None, id_qualifier, identifier)


def nm1_person(
    entity: str,
    last_name: str,
    first_name: str,
    id_qualifier: str | None = None,
    identifier: str | None = None,
) -> Segment:
    """NM1 for a person (NM102 1): subscriber, patient, ordering provider."""
    return seg(
        "NM1",
        entity,
        "1",
        fit("NM103", last_name),
        fit("NM104", first_name),
        None,
        None,
        None,
        id_qualifier,
        identifier,
    )


def n3_n4(address: Address) -> list[Segment]:
    """N3 street lines and N4 city, state and ZIP, as every 837P address loop writes them."""
    return [
        seg("N3", fit("N301", address.line1), fit("N302", address.line2) or None),
        seg("N4", fit("N401", address.city), address.state, address.zip),
    ]


# --- element lengths ------------------------------------------------------------------------------


class ElementSize(NamedTuple):
    """An element's X12 data type and its shortest and longest length."""

    data_type: str  # AN, ID, DT, TM, R, N0
    min_len: int
    max_len: int


# Every element the 837P writer fills, from pyx12 4.0.0's maps (x12.control.00501.xml for the
# envelope, 837.5010.X222.A1.xml for the transaction set) resolved through its dataele.xml.
# tests/test_x12.py checks this table against those files.
ELEMENT_SIZES: Final[dict[str, ElementSize]] = {
    "ISA01": ElementSize("ID", 2, 2),
    "ISA02": ElementSize("AN", 10, 10),
    "ISA03": ElementSize("ID", 2, 2),
    "ISA04": ElementSize("AN", 10, 10),
    "ISA05": ElementSize("ID", 2, 2),
    "ISA06": ElementSize("AN", 15, 15),
    "ISA07": ElementSize("ID", 2, 2),
    "ISA08": ElementSize("AN", 15, 15),
    "ISA09": ElementSize("DT", 6, 6),
    "ISA10": ElementSize("TM", 4, 4),
    "ISA11": ElementSize("AN", 1, 1),
    "ISA12": ElementSize("ID", 5, 5),
    "ISA13": ElementSize("N0", 9, 9),
    "ISA14": ElementSize("ID", 1, 1),
    "ISA15": ElementSize("ID", 1, 1),
    "ISA16": ElementSize("AN", 1, 1),
    "GS01": ElementSize("ID", 2, 2),
    "GS02": ElementSize("AN", 2, 15),
    "GS03": ElementSize("AN", 2, 15),
    "GS04": ElementSize("DT", 8, 8),
    "GS05": ElementSize("TM", 4, 8),
    "GS06": ElementSize("N0", 1, 9),
    "GS07": ElementSize("ID", 1, 2),
    "GS08": ElementSize("AN", 1, 12),
    "ST01": ElementSize("ID", 3, 3),
    "ST02": ElementSize("AN", 4, 9),
    "ST03": ElementSize("AN", 1, 35),
    "SE01": ElementSize("N0", 1, 10),
    "SE02": ElementSize("AN", 4, 9),
    "GE01": ElementSize("N0", 1, 6),
    "GE02": ElementSize("N0", 1, 9),
    "IEA01": ElementSize("N0", 1, 5),
    "IEA02": ElementSize("N0", 9, 9),
    "BHT01": ElementSize("ID", 4, 4),
    "BHT02": ElementSize("ID", 2, 2),
    "BHT03": ElementSize("AN", 1, 50),
    "BHT04": ElementSize("DT", 8, 8),
    "BHT05": ElementSize("TM", 4, 8),
    "BHT06": ElementSize("ID", 2, 2),
    "NM101": ElementSize("ID", 2, 3),
    "NM102": ElementSize("ID", 1, 1),
    "NM103": ElementSize("AN", 1, 60),
    "NM104": ElementSize("AN", 1, 35),
    "NM108": ElementSize("ID", 1, 2),
    "NM109": ElementSize("AN", 2, 80),
    "PER01": ElementSize("ID", 2, 2),
    "PER02": ElementSize("AN", 1, 60),
    "PER03": ElementSize("ID", 2, 2),
    "PER04": ElementSize("AN", 1, 256),
    "HL01": ElementSize("AN", 1, 12),
    "HL02": ElementSize("AN", 1, 12),
    "HL03": ElementSize("ID", 1, 2),
    "HL04": ElementSize("ID", 1, 1),
    "PRV01": ElementSize("ID", 1, 3),
    "PRV02": ElementSize("ID", 2, 3),
    "PRV03": ElementSize("AN", 1, 50),
    "N301": ElementSize("AN", 1, 55),
    "N302": ElementSize("AN", 1, 55),
    "N401": ElementSize("AN", 2, 30),
    "N402": ElementSize("ID", 2, 2),
    "N403": ElementSize("ID", 3, 15),
    "REF01": ElementSize("ID", 2, 3),
    "REF02": ElementSize("AN", 1, 50),
    "SBR01": ElementSize("ID", 1, 1),
    "SBR02": ElementSize("ID", 2, 2),
    "SBR03": ElementSize("AN", 1, 50),
    "SBR09": ElementSize("ID", 1, 2),
    "DMG01": ElementSize("ID", 2, 3),
    "DMG02": ElementSize("AN", 1, 35),
    "DMG03": ElementSize("ID", 1, 1),
    "PAT01": ElementSize("ID", 2, 2),
    "CLM01": ElementSize("AN", 1, 38),
    "CLM02": ElementSize("R", 1, 18),
    "CLM05-1": ElementSize("AN", 1, 2),
    "CLM05-2": ElementSize("ID", 1, 2),
    "CLM05-3": ElementSize("ID", 1, 1),
    "CLM06": ElementSize("ID", 1, 1),
    "CLM07": ElementSize("ID", 1, 1),
    "CLM08": ElementSize("ID", 1, 1),
    "CLM09": ElementSize("ID", 1, 1),
    **{f"HI{n:02d}-1": ElementSize("ID", 1, 3) for n in range(1, 13)},
    **{f"HI{n:02d}-2": ElementSize("AN", 1, 30) for n in range(1, 13)},
    "LX01": ElementSize("N0", 1, 6),
    "SV101-1": ElementSize("ID", 2, 2),
    "SV101-2": ElementSize("AN", 1, 48),
    **{f"SV101-{n}": ElementSize("AN", 2, 2) for n in range(3, 7)},
    "SV101-7": ElementSize("AN", 1, 80),
    "SV102": ElementSize("R", 1, 18),
    "SV103": ElementSize("ID", 2, 2),
    "SV104": ElementSize("R", 1, 15),
    "SV105": ElementSize("AN", 1, 2),
    **{f"SV107-{n}": ElementSize("N0", 1, 2) for n in range(1, 5)},
    "DTP01": ElementSize("ID", 3, 3),
    "DTP02": ElementSize("ID", 2, 3),
    "DTP03": ElementSize("AN", 1, 35),
    "LIN02": ElementSize("ID", 2, 2),
    "LIN03": ElementSize("AN", 1, 48),
    "CTP04": ElementSize("R", 1, 15),
    "CTP05-1": ElementSize("ID", 2, 2),
}


def length_problems(x12: str) -> list[str]:
    """Every element of `x12` whose length breaks `ELEMENT_SIZES`, in words and without its value.

    Empty elements are not checked (a missing element is pyx12's to report), nor elements the
    table does not list. Separators are read from the ISA when the text starts with one, even a
    malformed one.
    """
    problems = []
    for index, segment_id, ref, value in _elements(x12):
        problem = _size_problem(ELEMENT_SIZES[ref], value)
        if problem:
            problems.append(f"Segment {index} ({segment_id}), element {ref}: {problem}.")
    return problems


def element_problems(x12: str) -> list[str]:
    """Every element of `x12` that breaks its length, its number format or the X12 character
    set, in words and without its value: the last check before an 837 is handed out."""
    # One search of the whole text first (less the line breaks after segment terminators):
    # elements are searched only when something is there.
    odd_characters = (
        _OUTSIDE_CHARSET.search(x12.replace(SEGMENT_END + "\n", SEGMENT_END).rstrip("\n")) is not None
    )
    problems = []
    for index, segment_id, ref, value in _elements(x12, every=odd_characters):
        problem = _element_problem(ref, value, odd_characters)
        if problem:
            problems.append(f"Segment {index} ({segment_id}), element {ref}: {problem}.")
    return problems


def plain(value: str) -> bool:
    """Printable X12 text holding no element or segment separator."""
    return _NOT_PLAIN.search(value) is None


def segments_pass(segments: Iterable[Segment]) -> bool:
    """True when rendering these segments would give text in which `element_problems` finds
    nothing; False when it might find something (then render and ask it, for its words).

    Checked on the values, without rendering: the 837 guard asks this of every ready claim, and
    most segments repeat from claim to claim (the provider, the prescriber, the codes, the
    dates), so each distinct segment is judged once.
    """
    return all(map(_segment_passes, segments))


@lru_cache(maxsize=32768)
def _segment_passes(segment: Segment) -> bool:
    # The same reading as `_elements` of plain text: a listed element whole, any other one by
    # its components (a simple element is its own first component).
    for position, element in enumerate(segment.elements, start=1):
        value = _element(element)
        if not value:
            continue
        if _NOT_PLAIN.search(value):
            return False
        ref = f"{segment.id}{position:02d}"
        if ref in ELEMENT_SIZES:
            if _element_problem(ref, value, False):
                return False
            continue
        for sub, component in enumerate(value.split(COMPONENT_SEP), start=1):
            key = f"{ref}-{sub}"
            if component and key in ELEMENT_SIZES and _element_problem(key, component, False):
                return False
    return True


def _element_problem(ref: str, value: str, odd_characters: bool) -> str:
    size = ELEMENT_SIZES.get(ref)
    problem = _size_problem(size, value) if size else ""
    if not problem and odd_characters and _OUTSIDE_CHARSET.search(value):
        problem = "a character outside the X12 character set"
    if not problem and size and size.data_type in _NUMBER and not _NUMBER[size.data_type].fullmatch(value):
        problem = f"not an X12 {'decimal' if size.data_type == 'R' else 'whole'} number"
    return problem


def _size_problem(size: ElementSize, value: str) -> str:
    measured = len(value.replace("-", "").replace(".", "") if size.data_type in ("R", "N0") else value)
    if size.min_len <= measured <= size.max_len:
        return ""
    allowed = (
        f"exactly {size.min_len}" if size.min_len == size.max_len else f"{size.min_len} to {size.max_len}"
    )
    return f"{measured} character{'' if measured == 1 else 's'}, the 837P allows {allowed}"


def _elements(x12: str, every: bool = False) -> Iterator[tuple[int, str, str, str]]:
    """(segment number, segment id, element reference, value) of every non-empty element the
    table lists, or of every non-empty element and component at all (`every`)."""
    element_sep, component_sep, segment_end = ELEMENT_SEP, COMPONENT_SEP, SEGMENT_END
    start = x12.lstrip()
    isa = start.split(start[3], 16) if start.startswith("ISA") and len(start) > 3 else []
    if len(isa) == 17 and len(isa[16]) >= 2:  # ISA16 is the component separator, then the end
        element_sep, component_sep, segment_end = start[3], isa[16][0], isa[16][1]
    segments = (s.strip("\r\n") for s in start.split(segment_end))
    for index, segment in enumerate(filter(None, segments), start=1):
        segment_id, *values = segment.split(element_sep)
        for position, value in enumerate(values, start=1):
            ref = f"{segment_id}{position:02d}"
            if ref in ELEMENT_SIZES or (every and segment_id == "ISA"):
                if value:
                    yield index, segment_id, ref, value
                continue
            for sub, component in enumerate(value.split(component_sep), start=1):
                if component and (every or f"{ref}-{sub}" in ELEMENT_SIZES):
                    yield index, segment_id, f"{ref}-{sub}", component
