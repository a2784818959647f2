"""The 835 reader: the guide's example shapes read and balance, payer quirks are tolerated, and a
file that cannot be read is refused with its line and segment, never a value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from hitclaims.core.errors import InputError
from hitclaims.core.remittance import balance_findings, claim_states
from hitclaims.formats.x12.remit_835 import read_835
from hitclaims.formats.x12.validate import validate_x12

FIXTURES = Path(__file__).parent / "fixtures" / "835"
GUIDE_EXAMPLES = [
    "managed_care.835",
    "cob_contractual.835",
    "secondary_tertiary.835",
    "medicare_part_a.835",
    "reversal_correction.835",
]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize("name", GUIDE_EXAMPLES)
def test_guide_examples_are_valid_read_and_balance(name: str) -> None:
    text = fixture(name)
    assert validate_x12(text).valid
    (remit,) = read_835(text, name)
    assert balance_findings(remit) == []


def test_managed_care_reads_payment_claims_lines_and_plb() -> None:
    (remit,) = read_835(fixture("managed_care.835"))
    assert (remit.payer_name, remit.payer_id, remit.trace_number) == (
        "MIDLANDS HEALTH PLAN",
        "MHP01",
        "EFT20250415A",
    )
    assert (remit.payment.amount, remit.payment.method, remit.payment.paid_on) == (
        Decimal("3550"),
        "ACH",
        date(2025, 4, 15),
    )
    first, denied = remit.claims
    assert (first.claim_id, first.status_code, first.payer_claim_id) == (
        "EP-MC1-202503",
        "1",
        "MC20250414001",
    )
    assert (first.charge, first.paid, first.patient_responsibility) == (
        Decimal(1500),
        Decimal(1050),
        Decimal(150),
    )
    svc = first.lines[0]
    assert (svc.code, svc.units, svc.service_from, svc.service_to) == (
        "S9326",
        Decimal(7),
        date(2025, 3, 1),
        date(2025, 3, 7),
    )
    assert svc.line_control == "EP-MC1-202503-L1"
    assert [a.code for a in svc.adjustments] == ["CO-45", "PR-2"]
    assert first.lines[1].service_from == first.lines[1].service_to == date(2025, 3, 5)  # DTM*472
    assert denied.remarks == ("MA130",)
    assert denied.lines[0].remarks == ("M62",)
    (plb,) = remit.provider_adjustments
    assert (plb.reason, plb.amount) == ("CT", Decimal("-2500"))
    assert claim_states(remit.claims) == ["paid", "denied"]


def test_cas_with_several_triples_keeps_each_quantity() -> None:
    (remit,) = read_835(fixture("cob_contractual.835"))
    adjustments = remit.claims[0].lines[0].adjustments
    assert [(a.code, a.amount, a.quantity) for a in adjustments] == [
        ("CO-45", Decimal(300), None),
        ("PR-1", Decimal(100), Decimal(1)),
        ("PR-2", Decimal(40), None),
    ]


def test_medicare_part_a_claim_level_adjustments_mia_remarks_and_plb_references() -> None:
    (remit,) = read_835(fixture("medicare_part_a.835"))
    (claim,) = remit.claims
    assert claim.lines == ()
    assert [a.code for a in claim.adjustments] == ["CO-45", "PR-1"]
    assert claim.remarks == ("MA01",)
    assert [(p.reason, p.reference, p.amount) for p in remit.provider_adjustments] == [
        ("L6", "EP-MA1-202503", Decimal("-25.5")),
        ("WO", "EP-MA0-202502", Decimal(300)),
    ]


def test_reversal_then_correction() -> None:
    (remit,) = read_835(fixture("reversal_correction.835"))
    assert [c.status_code for c in remit.claims] == ["22", "1"]
    assert claim_states(remit.claims) == ["reversed", "corrected"]


def test_payer_quirks_are_tolerated() -> None:
    """No PER, CRLF and spaces between segments, a line with no dates and no SVC05, no LX, and a
    trailing space in CLP01."""
    (remit,) = read_835(fixture("quirks.835"))
    (claim,) = remit.claims
    assert claim.claim_id == "EP-QK1-202503"
    (line,) = claim.lines
    assert (line.service_from, line.units) == (None, Decimal(1))
    assert balance_findings(remit) == []


def test_repeated_terminators_do_not_cut_the_file_short() -> None:
    text = fixture("managed_care.835").replace("~\nLX*1", "~~\n~LX*1")
    (remit,) = read_835(text)
    assert len(remit.claims) == 2


def _problem(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read_835(text, "remit.835")
    return caught.value


def test_no_isa_is_unreadable_and_names_line_1() -> None:
    error = _problem("GS*HP*X~ST*835*1~")
    assert (error.record, error.field) == ("line 1", "ISA")


def test_cut_off_file_is_unreadable() -> None:
    text = fixture("managed_care.835")
    error = _problem(text[: text.index("CLP*EP-MC2")])
    assert "cut off" in error.problem


def test_unknown_segment_where_money_should_be_names_line_and_segment_not_values() -> None:
    text = fixture("managed_care.835").replace("SVC*HC:S9327*800*0**4", "XYZ*HC:S9327*800*0**4")
    error = _problem(text)
    assert error.field == "XYZ"
    assert error.record is not None
    assert error.record.startswith("line ")
    assert "800" not in str(error)
    assert "S9327" not in str(error)


def test_unreadable_amount_names_the_element_never_the_value() -> None:
    text = fixture("managed_care.835").replace("CLP*EP-MC2-202503*4*800", "CLP*EP-MC2-202503*4*8O0")
    error = _problem(text)
    assert error.field == "CLP03"
    assert "8O0" not in str(error)
    assert "EP-MC2" not in str(error)


def test_wrong_segment_count_means_lost_segments() -> None:
    text = fixture("managed_care.835")
    error = _problem(text.replace("LQ*HE*M62~\n", ""))
    assert error.field == "SE"


def test_money_segment_before_any_claim_is_refused() -> None:
    text = fixture("managed_care.835").replace("LX*1~\n", "LX*1~\nCAS*CO*45*1~\n")
    text = text.replace("SE*39*", "SE*40*")
    assert _problem(text).field == "CAS"


def test_nothing_is_half_read_from_a_file_that_fails_late() -> None:
    good = fixture("cob_contractual.835")
    bad = fixture("managed_care.835").replace("PLB*", "PLX*")
    with pytest.raises(InputError):
        read_835(good + bad)


def test_a_ge_before_any_gs_is_unusable_input_naming_the_line_not_a_crash() -> None:
    broken = fixture("managed_care.835").replace("GS*HP*", "GE*HP*", 1)
    with pytest.raises(InputError, match="line"):
        read_835(broken, "ge_first.835")


def test_an_unknown_segment_shaped_like_a_value_never_repeats_the_value() -> None:
    # A name wrapped onto its own line looks like a segment called "RIVERA".
    wrapped = fixture("managed_care.835").replace("NM1*QC*1*RIVERA*", "NM1*QC*1~RIVERA*", 1)
    with pytest.raises(InputError) as caught:
        read_835(wrapped, "wrapped.835")
    assert "RIVERA" not in str(caught.value)
    assert "not a segment of the 835" in str(caught.value)


def test_a_denied_lines_explicit_zero_units_stay_zero_and_an_absent_svc05_is_one() -> None:
    text = fixture("managed_care.835").replace("SVC*HC:S9326*1300*900**7", "SVC*HC:S9326*1300*900**0", 1)
    (remit,) = read_835(text)
    assert remit.claims[0].lines[0].units == Decimal(0)
    absent = fixture("managed_care.835").replace("SVC*HC:S9326*1300*900**7", "SVC*HC:S9326*1300*900", 1)
    assert read_835(absent)[0].claims[0].lines[0].units == Decimal(1)


def test_a_correction_that_pays_nothing_after_a_reversal_is_denied_not_corrected() -> None:
    from dataclasses import replace

    (remit,) = read_835(fixture("reversal_correction.835"))
    states = claim_states(remit.claims)
    assert "corrected" in states
    fixed = [
        replace(c, status_code="4") if s == "corrected" else c
        for c, s in zip(remit.claims, states, strict=True)
    ]
    assert "corrected" not in claim_states(fixed)
    assert claim_states(fixed)[states.index("corrected")] == "denied"
