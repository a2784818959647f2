"""Matching payments to our claims and lines: REF*6R first, then the service, ties in line order,
never two payments to one line, and the unmatched with their reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from hitclaims.core.claim import Claim
from hitclaims.core.matching import line_control, match_lines, match_remittance
from hitclaims.core.remittance import Adjustment, ClaimPayment, LinePayment, Payment, Remittance
from tests.builders import bill

D = Decimal


@pytest.fixture(scope="module")
def ours() -> Claim:
    claim = bill()
    first = claim.lines[0]
    # Two identical lines, so that ties and "never two payments to one line" can be seen.
    twin = first.model_copy(update={"line_number": 2})
    return claim.model_copy(update={"lines": [first, twin]})


def pay(claim: Claim, n: int, control: str | None = None, **changes: object) -> LinePayment:
    line = claim.lines[n - 1]
    base = LinePayment(
        code=line.code,
        modifiers=tuple(line.modifiers),
        charge=line.charge,
        paid=line.charge - D(1),
        units=D(line.units),
        service_from=line.from_,
        service_to=line.to,
        line_control=control,
        adjustments=(Adjustment("CO", "45", D(1)),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def clp(claim_id: str, *lines: LinePayment) -> ClaimPayment:
    return ClaimPayment(
        claim_id,
        "1",
        sum((x.charge for x in lines), D(0)),
        sum((x.paid for x in lines), D(0)),
        D(0),
        "15",
        "P1",
        lines=lines,
    )


def test_line_control_is_unique_short_and_basic() -> None:
    long_id = "ep-ünïcode*" + "X" * 60
    controls = {line_control(long_id, n) for n in range(1, 51)}
    assert len(controls) == 50
    for c in controls:
        assert len(c) <= 50
        assert all(ch.isupper() or ch.isdigit() or ch in "-./ " for ch in c)
    assert line_control("EP-1-202503", 3) == "EP-1-202503-L3"


def test_line_found_by_ref_6r(ours: Claim) -> None:
    second = pay(ours, 2, control=line_control(ours.claim_id, 2))
    (match,) = match_lines(clp(ours.claim_id, second), ours)
    assert (match.line_number, match.matched_by) == (2, "line_control")


def test_without_ref_6r_tie_goes_to_first_line_and_never_two_payments_to_one_line(ours: Claim) -> None:
    a, b, c = pay(ours, 1), pay(ours, 1), pay(ours, 1)
    matches = match_lines(clp(ours.claim_id, a, b, c), ours)
    assert [(m.line_number, m.matched_by) for m in matches] == [(1, "service"), (2, "service"), (None, None)]
    assert matches[2].reason is not None
    assert "already has a payment" in matches[2].reason


def test_echoed_control_wins_over_an_earlier_service_match(ours: Claim) -> None:
    plain, named = pay(ours, 1), pay(ours, 1, control=line_control(ours.claim_id, 1))
    matches = match_lines(clp(ours.claim_id, plain, named), ours)
    assert [m.line_number for m in matches] == [2, 1]


def test_line_without_dates_matches_on_the_rest(ours: Claim) -> None:
    (match,) = match_lines(clp(ours.claim_id, pay(ours, 1, service_from=None, service_to=None)), ours)
    assert match.line_number == 1


def test_different_service_is_unmatched_with_reason(ours: Claim) -> None:
    (match,) = match_lines(clp(ours.claim_id, pay(ours, 1, service_from=date(2024, 1, 1))), ours)
    assert match.line_number is None
    assert match.reason is not None
    assert "no line" in match.reason


def test_reversal_line_matches_like_the_original(ours: Claim) -> None:
    line = pay(ours, 1)
    reversed_line = replace(line, charge=-line.charge, paid=-line.paid)
    (match,) = match_lines(clp(ours.claim_id, reversed_line), ours)
    assert match.line_number == 1


def test_unknown_claim_is_unmatched_with_reason_and_underpaid_found(ours: Claim) -> None:
    low = pay(
        ours,
        1,
        control=line_control(ours.claim_id, 1),
        paid=D(1),
        adjustments=(Adjustment("CO", "45", ours.lines[0].charge - D(1)),),
    )
    remit = Remittance(
        "P",
        "P1",
        "H",
        "1",
        "T",
        "1",
        Payment("I", D(1), "C", "CHK", None),
        (clp("NOT-OURS", pay(ours, 1)), clp(ours.claim_id, low)),
    )
    result = match_remittance(remit, [ours])
    lost, found = result.claims
    assert not lost.found
    assert lost.reason is not None
    assert lost.lines[0].line_number is None
    assert found.complete
    assert result.unmatched == (lost,)
    assert [f.rule for f in result.findings] == ["remit.underpaid"]
