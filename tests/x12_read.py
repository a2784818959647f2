"""Reading an 837P back into plain values, through pyx12's segment reader (not our writer's code),
so that the agreement tests can compare what the file says with the claim it was rendered from."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pyx12.x12file


@dataclass
class ReadLine:
    code: str
    modifiers: list[str]
    description: str | None
    charge: Decimal
    units: Decimal
    place_of_service: str | None
    pointers: list[int]
    start: date | None = None
    end: date | None = None
    authorization: str | None = None
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    ordering_npi: str | None = None


@dataclass
class ReadClaim:
    claim_id: str
    total_charge: Decimal
    place_of_service: str
    frequency_code: str
    diagnoses: list[str]
    authorization: str | None = None
    member_id: str | None = None
    filing_indicator: str | None = None
    lines: list[ReadLine] = field(default_factory=list)


def _date(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def read_837(content: str) -> list[ReadClaim]:
    claims: list[ReadClaim] = []
    member: str | None = None
    filing: str | None = None
    line: ReadLine | None = None
    for segment in pyx12.x12file.X12Reader(io.StringIO(content)):
        sid = segment.get_seg_id()
        value = segment.get_value
        if sid == "SBR":
            filing = value("SBR09")
        elif sid == "NM1" and value("NM101") == "IL":
            member = value("NM109")
        elif sid == "CLM":
            claims.append(
                ReadClaim(
                    claim_id=value("CLM01") or "",
                    total_charge=Decimal(value("CLM02") or "0"),
                    place_of_service=value("CLM05-1") or "",
                    frequency_code=value("CLM05-3") or "",
                    diagnoses=[],
                    member_id=member,
                    filing_indicator=filing,
                )
            )
            line = None
        elif sid == "HI":
            for i in range(1, 13):
                code = value(f"HI{i:02d}-2")
                if code:
                    claims[-1].diagnoses.append(code)
        elif sid == "REF" and value("REF01") == "G1":
            if line is None:
                claims[-1].authorization = value("REF02")
            else:
                line.authorization = value("REF02")
        elif sid == "SV1":
            modifiers = [m for m in (value(f"SV101-{i}") for i in range(3, 7)) if m]
            pointers = [int(p) for p in (value(f"SV107-{i}") for i in range(1, 5)) if p]
            line = ReadLine(
                code=value("SV101-2") or "",
                modifiers=modifiers,
                description=value("SV101-7") or None,
                charge=Decimal(value("SV102") or "0"),
                units=Decimal(value("SV104") or "0"),
                place_of_service=value("SV105") or None,
                pointers=pointers,
            )
            claims[-1].lines.append(line)
        elif sid == "DTP" and value("DTP01") == "472" and line is not None:
            raw = value("DTP03") or ""
            if value("DTP02") == "RD8":
                first, last = raw.split("-")
                line.start, line.end = _date(first), _date(last)
            else:
                line.start = line.end = _date(raw)
        elif sid == "LIN" and line is not None:
            line.ndc = value("LIN03")
        elif sid == "CTP" and line is not None:
            line.ndc_quantity = Decimal(value("CTP04") or "0")
            line.ndc_unit = value("CTP05-1")
        elif sid == "NM1" and value("NM101") == "DK" and line is not None:
            line.ordering_npi = value("NM109")
    return claims
