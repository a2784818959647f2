"""The three seed examples produce exactly the lines, held days and findings they expect."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.services.billing import Setup, bill_files

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CASES = sorted(p.name.removesuffix(".expected.json") for p in EXAMPLES.glob("*.expected.json"))


def bill_example(name: str, setup: Setup) -> tuple[Claim, dict[str, Any]]:
    expected = json.loads((EXAMPLES / f"{name}.expected.json").read_text())
    first, last = (date.fromisoformat(d) for d in expected["period"])
    outcome = bill_files(
        [EXAMPLES / f"{name}.json"], setup, Period(first, last), date.fromisoformat(expected["as_of"])
    )
    assert not outcome.errors
    assert len(outcome.claims) == 1
    return outcome.claims[0], expected


def test_there_are_three_examples() -> None:
    assert len(CASES) == 3


@pytest.mark.parametrize("name", CASES)
def test_example_matches_its_expectation(name: str, setup: Setup) -> None:
    claim, expected = bill_example(name, setup)
    assert claim.status == expected["status"]
    assert [
        {
            "code": ln.code,
            "modifiers": ln.modifiers,
            "from": ln.from_.isoformat(),
            "to": ln.to.isoformat(),
            "units": ln.units,
        }
        for ln in claim.lines
        if ln.kind == "per_diem"
    ] == expected["per_diem_lines"]
    assert [
        {
            "code": ln.code,
            "date": ln.from_.isoformat(),
            "units": ln.units,
            "ndc": ln.ndc,
            "ndc_quantity": str(ln.ndc_quantity),
            "ndc_unit": ln.ndc_unit,
        }
        for ln in claim.lines
        if ln.kind == "drug"
    ] == expected["drug_lines"]
    assert [
        {"code": ln.code, "date": ln.from_.isoformat(), "units": ln.units}
        for ln in claim.lines
        if ln.kind == "nursing"
    ] == expected["nursing_lines"]
    assert [{"date": h.date.isoformat(), "rule": h.rule} for h in claim.held_days] == expected["held_days"]
    assert sorted({f.rule for f in claim.findings if f.severity == "error"}) == expected["error_rules"]


@pytest.mark.parametrize("name", CASES)
def test_every_ledger_row_has_a_reason(name: str, setup: Setup) -> None:
    claim, _ = bill_example(name, setup)
    assert claim.ledger
    for row in claim.ledger:
        assert row.reasons, row.date
        if row.status != "billed":
            assert any("hold" in r or "held" in r or "not" in r for r in row.reasons), row


@pytest.mark.parametrize("name", CASES)
def test_example_claim_total_is_the_sum_of_its_lines(name: str, setup: Setup) -> None:
    claim, _ = bill_example(name, setup)
    assert claim.total_charge == sum(ln.charge for ln in claim.lines)
