"""The balancing rules, one test each, named after the rule; states and balances from the money;
a line paid below the fee schedule."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hitclaims.core.remittance import (
    Adjustment,
    ClaimPayment,
    LinePayment,
    Payment,
    ProviderAdjustment,
    Remittance,
    balance_findings,
    claim_charge_less_paid_equals_adjustments,
    claim_states,
    line_charge_less_paid_equals_adjustments,
    line_money,
    line_state,
    payment_equals_claims_paid_less_provider_adjustments,
    underpaid,
)

D = Decimal


def line(charge: str = "1000", paid: str = "700", *adjustments: Adjustment) -> LinePayment:
    adj = adjustments or (Adjustment("CO", "45", D(charge) - D(paid)),)
    return LinePayment(
        code="S9326", modifiers=(), charge=D(charge), paid=D(paid), units=D(4), adjustments=adj
    )


def claim(*lines: LinePayment, status: str = "1", claim_id: str = "C1") -> ClaimPayment:
    lines = lines or (line(),)
    return ClaimPayment(
        claim_id=claim_id,
        status_code=status,
        charge=sum((x.charge for x in lines), D(0)),
        paid=sum((x.paid for x in lines), D(0)),
        patient_responsibility=D(0),
        filing_indicator="15",
        payer_claim_id="P1",
        lines=lines,
    )


def remit(*claims: ClaimPayment, amount: str = "700", plb: tuple[ProviderAdjustment, ...] = ()) -> Remittance:
    return Remittance(
        payer_name="P",
        payer_id="P1",
        payee_name="H",
        payee_id="1679576722",
        trace_number="T1",
        trace_originator="1411234567",
        payment=Payment("I", D(amount), "C", "CHK", None),
        claims=claims or (claim(),),
        provider_adjustments=plb,
    )


def test_line_charge_less_paid_equals_adjustments() -> None:
    good = claim(line())
    assert line_charge_less_paid_equals_adjustments(good, 1) is None
    bad = claim(line("1000", "700", Adjustment("CO", "45", D(250))))
    finding = line_charge_less_paid_equals_adjustments(bad, 1)
    assert finding is not None
    assert finding.rule == "remit.unbalanced"
    assert dict(finding.amounts) == {"charge": D(1000), "paid": D(700), "adjustments": D(250)}
    assert "300.00" in finding.message
    assert "250.00" in finding.message


def test_claim_charge_less_paid_equals_adjustments() -> None:
    good = claim(line())
    assert claim_charge_less_paid_equals_adjustments(good) is None
    with_claim_level = replace(good, adjustments=(Adjustment("OA", "23", D(5)),))
    finding = claim_charge_less_paid_equals_adjustments(with_claim_level)
    assert finding is not None
    assert dict(finding.amounts)["adjustments"] == D(305)


def test_payment_equals_claims_paid_less_provider_adjustments() -> None:
    assert payment_equals_claims_paid_less_provider_adjustments(remit()) is None
    interest = ProviderAdjustment("1679576722", None, "L6", None, D("-12.50"))
    assert (
        payment_equals_claims_paid_less_provider_adjustments(remit(amount="712.50", plb=(interest,))) is None
    )
    finding = payment_equals_claims_paid_less_provider_adjustments(remit(amount="690"))
    assert finding is not None
    assert dict(finding.amounts) == {
        "payment": D(690),
        "claims_paid": D(700),
        "provider_adjustments": D(0),
    }


def test_unbalanced_remittance_is_flagged_with_every_broken_rule() -> None:
    bad = claim(line("1000", "700", Adjustment("CO", "45", D(1))))
    rules = [(f.rule, f.record) for f in balance_findings(remit(bad, amount="1"))]
    assert rules == [
        ("remit.unbalanced", "claim C1 line 1"),
        ("remit.unbalanced", "claim C1"),
        ("remit.unbalanced", "payment T1"),
    ]


def test_line_states_and_money() -> None:
    paid = line("1000", "700", Adjustment("CO", "45", D(200)), Adjustment("PR", "2", D(100)))
    money = line_money(paid)
    assert (money.contractual, money.patient_responsibility, money.denied, money.balance_left) == (
        D(200),
        D(100),
        D(0),
        D(100),
    )
    assert line_state(paid) == "paid"
    assert line_state(line("1000", "0", Adjustment("CO", "197", D(1000)))) == "denied"
    part = line("1000", "500", Adjustment("CO", "45", D(200)), Adjustment("CO", "151", D(300)))
    assert line_state(part) == "partially_paid"
    assert line_money(part).balance_left == D(300)


def test_claim_states_reversed_corrected_denied() -> None:
    reversal = claim(line("-1000", "-700", Adjustment("CO", "45", D(-300))), status="22")
    states = claim_states(
        [reversal, claim(), claim(line("1000", "0", Adjustment("CO", "29", D(1000))), claim_id="C2")]
    )
    assert states == ["reversed", "corrected", "denied"]
    assert claim_states([claim(status="4")]) == ["denied"]


def test_underpaid_line_is_flagged_with_the_difference() -> None:
    c = claim(line("1000", "600", Adjustment("CO", "45", D(250)), Adjustment("PR", "2", D(150))))
    finding = underpaid(c, 1, D(800), our_line=1)
    assert finding is not None
    assert finding.rule == "remit.underpaid"
    assert dict(finding.amounts)["difference"] == D(50)
    assert underpaid(c, 1, D(750), our_line=1) is None  # paid 600 + patient 150 = the contract
    denied = claim(line("1000", "0", Adjustment("CO", "197", D(1000))))
    assert underpaid(denied, 1, D(800), our_line=1) is None


def test_carc_rarc_catalog_links_denials_to_our_rules() -> None:
    from hitclaims.inputs.remit_codes import load_remit_codes

    codes = load_remit_codes()
    assert codes.source.carc.startswith("X12 ")
    rules = {code: entry.our_rules for code, entry in codes.carc.items()}
    assert rules["197"] == ("auth.missing",)
    assert rules["29"] == ("timely_filing.past",)
    assert "note.missing" in rules["16"]
    for code in (
        "1",
        "2",
        "3",
        "4",
        "16",
        "18",
        "22",
        "23",
        "27",
        "29",
        "45",
        "50",
        "96",
        "97",
        "109",
        "119",
        "151",
        "197",
        "204",
        "242",
        "253",
    ):
        assert codes.reason(code) is not None, code
    for remark in ("M15", "M20", "M51", "M62", "N130", "N362", "MA130", "N4"):
        assert codes.remark(remark) is not None, remark
