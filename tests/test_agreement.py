"""Every output is a renderer of one claim: JSON, the 837 read back, FHIR and the PDF's text carry
the same codes, modifiers, dates, units, charges and totals."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pypdf import PdfReader

from hitclaims.core.claim import Claim, Result
from hitclaims.core.engine import bill_episode
from hitclaims.core.records import Episode
from hitclaims.formats.cms1500.render import render_pdf
from hitclaims.formats.fhir.claim_bundle import render_fhir
from hitclaims.formats.result_json import read_json, render_json
from hitclaims.formats.x12.claim_837p import write_837
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.services.billing import Setup

from .builders import CATALOG, PROVIDER
from .strategies import scenarios
from .test_cms1500 import line_text, money
from .test_examples import CASES, bill_example
from .x12_read import read_837

Row = tuple[str, tuple[str, ...], date, date, Decimal, Decimal]
ENVELOPE = Envelope("PRAIRIEHIT", "EXCLEARING", datetime(2025, 4, 2, 0, 0), 42)  # noqa: DTZ001 (X12 wall clock)


def from_claim(claim: Claim) -> list[Row]:
    return [
        (ln.code, tuple(ln.modifiers), ln.from_, ln.to, Decimal(ln.units), ln.charge) for ln in claim.lines
    ]


def from_json(claim: Claim) -> tuple[list[Row], Decimal]:
    (back,) = read_json(render_json(Result(claims=[claim]))).claims
    return from_claim(back), back.total_charge


def from_837(claim: Claim) -> tuple[list[Row], Decimal]:
    sendable = claim.model_copy(update={"status": "ready"})
    (read,) = read_837(write_837([sendable], ENVELOPE, "Example Clearinghouse"))
    rows = [
        (ln.code, tuple(ln.modifiers), ln.start, ln.end, ln.units, ln.charge)
        for ln in read.lines
        if ln.start is not None and ln.end is not None
    ]
    return rows, read.total_charge


def from_fhir(claim: Claim) -> tuple[list[Row], Decimal]:
    bundle = json.loads(render_fhir([claim]), parse_float=Decimal)
    (fhir,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim"]
    rows = []
    for item in fhir.get("item", []):
        period = item.get("servicedPeriod")
        first = date.fromisoformat(period["start"] if period else item["servicedDate"])
        last = date.fromisoformat(period["end"] if period else item["servicedDate"])
        modifiers = tuple(m["coding"][0]["code"] for m in item.get("modifier", []))
        code = item["productOrService"]["coding"][0]["code"]
        rows.append((code, modifiers, first, last, Decimal(item["quantity"]["value"]), item["net"]["value"]))
    return rows, fhir["total"]["value"]


def pdf_text(claim: Claim) -> str:
    reader = PdfReader(io.BytesIO(render_pdf([claim])))
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_all_agree(claim: Claim) -> None:
    expected = from_claim(claim)
    for reader in (from_json, from_837, from_fhir):
        rows, total = reader(claim)
        assert rows == expected, reader.__name__
        assert total == claim.total_charge == sum((ln.charge for ln in claim.lines), Decimal("0.00"))
    text = " ".join(pdf_text(claim).split())
    for line in claim.lines:
        assert line_text(line) in text, line_text(line)
    assert money(claim.total_charge) in text


@pytest.mark.parametrize("name", CASES)
def test_json_837_fhir_and_pdf_agree_on_the_examples(name: str, setup: Setup) -> None:
    claim, _ = bill_example(name, setup)
    assert_all_agree(claim)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_json_837_fhir_and_pdf_agree_on_property_generated_claims(case: Any) -> None:
    data, pol, period = case
    claims: Sequence[Claim] = bill_episode(
        Episode.model_validate_json(json.dumps(data)), pol, CATALOG, PROVIDER, period, period.end
    )
    for claim in claims:
        if claim.lines:
            assert_all_agree(claim)
