"""The X12 837P: every file the suite writes passes pyx12, and its envelope counts are computed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from hitclaims.cli import app
from hitclaims.core.claim import Claim
from hitclaims.core.engine import bill_episode
from hitclaims.core.records import Episode
from hitclaims.formats.x12 import Envelope, number, text
from hitclaims.formats.x12_837p import NotSendableError, write_837
from hitclaims.formats.x12_validate import validate_x12

from .builders import BASE, CATALOG, MARCH, PROVIDER, bill, dispense, episode, policy
from .strategies import scenarios
from .test_examples import CASES, bill_example

# X12 times are the submitter's wall clock, without a zone.
ENVELOPE = Envelope("PRAIRIEHIT", "EXCLEARING", datetime(2025, 4, 2, 9, 30), 123456789)  # noqa: DTZ001
runner = CliRunner()


def write(claims: Sequence[Claim]) -> str:
    return write_837(
        [c.model_copy(update={"status": "ready"}) for c in claims], ENVELOPE, "Example Clearinghouse"
    )


def assert_valid(claims: Sequence[Claim]) -> str:
    content = write(claims)
    report = validate_x12(content)
    assert report.valid, "\n".join(p.sentence() for p in report.problems)
    assert "IK5*A" in report.acknowledgment
    return content


def segments(content: str) -> list[str]:
    return [s.strip() for s in content.split("~") if s.strip()]


# --- every 837 the suite produces passes pyx12 ------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_the_example_claims_pass_pyx12(name: str, setup: Any) -> None:
    claim, _ = bill_example(name, setup)
    assert_valid([claim])


def test_all_examples_in_one_interchange_pass_pyx12(setup: Any) -> None:
    assert_valid([bill_example(name, setup)[0] for name in CASES])


@pytest.mark.parametrize("line_format", ["daily", "span", "calendar_month"])
def test_every_line_format_passes_pyx12(line_format: str) -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    content = assert_valid([bill(episode(holds=[hold]), policy(line_format=line_format))])
    if line_format == "calendar_month":
        assert "DTP*472*RD8*20250303-20250331~" in content


def test_concurrent_modifiers_pass_pyx12() -> None:
    others = [
        {"code": "S9500", "start": "2025-03-05", "end": "2025-03-12", "rate": "220.00"},
        {"code": "S9373", "start": "2025-03-10", "end": "2025-03-20", "rate": "200.00"},
    ]
    claim = bill(episode(concurrent_therapies=others), policy(concurrent_extra_modifier="59"))
    content = assert_valid([claim])
    assert "SV1*HC:S9326:SH:59*" in content
    assert "SV1*HC:S9326:SJ:59*" in content


def test_drug_lines_with_ndc_j3490_description_and_waste_modifiers_pass_pyx12() -> None:
    dispenses = [
        dispense("morphine", "250", rx_number="RX100"),
        dispense("ketamine", "500", ndc="12345-678-90"),
        dispense(
            "ziconotide", "100", amount_unit="mcg", administered_amount="60", single_dose=True, quantity="20"
        ),
        dispense("clonidine", "2.5", administered_amount="2.5", single_dose=True, quantity="25"),
    ]
    content = assert_valid([bill(episode(dispenses=dispenses), policy(waste_modifiers=True))])
    assert "SV1*HC:J3490:::::KETAMINE HCL 500 MG*" in content
    assert "LIN**N4*00409123401~" in content
    assert "CTP****250*ML~" in content
    assert "REF*XZ*RX100~" in content
    assert "SV1*HC:J2278:JW*" in content
    assert "SV1*HC:J0735:JZ*" in content


def test_nursing_lines_with_sd_pass_pyx12() -> None:
    visits = [
        {
            "date": "2025-03-17",
            "start": "2025-03-17T13:00:00-05:00",
            "end": "2025-03-17T15:45:00-05:00",
            "credential": "RN",
            "note": "Site care.",
        },
    ]
    nursing = {"billed_by_provider": True, "sd_modifier": True}
    content = assert_valid([bill(episode(nursing_visits=visits), policy(nursing=nursing))])
    assert "SV1*HC:99601:SD*180*UN*1***1:2~" in content
    assert "SV1*HC:99602:SD*80*UN*1***1:2~" in content


def test_an_unbundled_supply_line_passes_pyx12() -> None:
    supplies = [{"date": "2025-03-03", "description": "cassettes", "hcpcs": "A4222", "quantity": 4}]
    content = assert_valid([bill(episode(supplies=supplies), policy(unbundled_items=["A4222"]))])
    assert "SV1*HC:A4222*180*UN*4***1:2~" in content


def test_a_patient_who_is_not_the_subscriber_gets_loop_2000c_and_passes_pyx12() -> None:
    subscriber = {
        "first_name": "Robert",
        "last_name": "Patient",
        "birth_date": "1948-03-04",
        "sex": "M",
        "address": {"line1": "1 Test St", "city": "Fargo", "state": "ND", "zip": "58102"},
    }
    coverage = dict(BASE["coverage"], relationship="spouse", subscriber=subscriber)
    content = assert_valid([bill(episode(coverage=coverage))])
    body = segments(content)
    assert "HL*2*1*22*1" in body
    assert "SBR*P********CI" in body
    assert "HL*3*2*23*0" in body
    assert "PAT*01" in body
    assert "NM1*QC*1*PATIENT*TEST" in body


def test_an_infusion_suite_claim_passes_pyx12_with_pos_49() -> None:
    therapy = {
        "category": "pain_management",
        "device": "external_pump",
        "route": "IV",
        "site": "infusion_suite",
    }
    content = assert_valid([bill(episode(therapy=therapy))])
    assert "CLM*EP-T1-202503*7250***49:B:1*Y*A*Y*Y~" in content
    assert "SV1*HC:S9326:SS*" in content


def test_a_claim_split_over_50_lines_passes_pyx12_part_by_part() -> None:
    dispenses = [dispense("morphine", "250", date=f"2025-03-{d:02d}") for d in range(3, 32)]
    ep = episode(dispenses=dispenses)
    claims = bill_episode(ep, policy(line_format="daily"), CATALOG, PROVIDER, MARCH, date(2025, 4, 2))
    assert [c.claim_id for c in claims] == ["EP-T1-202503-1", "EP-T1-202503-2"]
    assert [len(c.lines) for c in claims] == [50, 8]
    content = assert_valid(claims)
    assert content.count("ST*837*") == 2


def test_authorizations_go_on_the_claim_when_one_and_on_the_lines_when_several() -> None:
    one = {"number": "PA-1", "start": "2025-03-01", "end": "2025-03-31", "units": 31, "codes": ["S9326"]}
    content = assert_valid([bill(episode(coverage=dict(BASE["coverage"], prior_authorization=one)))])
    assert segments(content).count("REF*G1*PA-1") == 1
    two = [dict(one, end="2025-03-15"), dict(one, number="PA-2", start="2025-03-16")]
    content = assert_valid([bill(episode(coverage=dict(BASE["coverage"], prior_authorization=two)))])
    body = segments(content)
    assert body.index("REF*G1*PA-1") > body.index("LX*1")
    assert "REF*G1*PA-2" in body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_property_generated_claims_pass_pyx12(case: Any) -> None:
    data, pol, period = case
    ep = Episode.model_validate_json(json.dumps(data))
    claims = [c for c in bill_episode(ep, pol, CATALOG, PROVIDER, period, period.end) if c.lines]
    if claims:
        assert_valid(claims)


# --- the envelope -----------------------------------------------------------------------------


def test_counts_and_control_numbers_are_computed() -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    content = write([bill(), bill(episode(holds=[hold], episode_id="EP-T2"))])
    body = segments(content)
    assert len(body[0]) == 105  # ISA is fixed width (106 with ~)
    assert content.index("~") == 105
    assert body[1].endswith("*123456789*X*005010X222A1")
    starts = [i for i, s in enumerate(body) if s.startswith("ST*")]
    ends = [i for i, s in enumerate(body) if s.startswith("SE*")]
    for n, (st, se) in enumerate(zip(starts, ends, strict=True), start=1):
        assert body[st] == f"ST*837*{n:04d}*005010X222A1"
        assert body[se] == f"SE*{se - st + 1}*{n:04d}"
    assert body[-2] == "GE*2*123456789"
    assert body[-1] == "IEA*1*123456789"


def test_a_refused_or_held_claim_never_produces_an_837() -> None:
    refused = bill(pol=policy(payer_kind="medicare", claim_filing_indicator="MB"))
    held = bill(episode(supplies=[]))
    for claim in (refused, held):
        with pytest.raises(NotSendableError):
            write_837([claim], ENVELOPE, "Example Clearinghouse")


def test_bill_writes_no_837_when_no_claim_is_ready(tmp_path: Path) -> None:
    path = tmp_path / "ep.json"
    path.write_text(episode(coverage=dict(BASE["coverage"], payer_id="medicare-ffs")).model_dump_json())
    result = runner.invoke(
        app, ["bill", str(path), "--from", "2025-03-01", "--to", "2025-03-31", "--format", "x12"]
    )
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no claim is ready to send" in result.stderr


def test_data_text_is_scrubbed_of_delimiters_and_numbers_lose_needless_zeros() -> None:
    assert text("O'Brien*Smith~Jr:^x", 60) == "O'BRIEN SMITH JR X"
    assert number(Decimal("7250.00")) == "7250"
    assert number(Decimal("45.50")) == "45.5"
    assert number(Decimal("83.333")) == "83.333"
    assert number(Decimal("0.00")) == "0"


# --- hitclaims validate -----------------------------------------------------------------------


def test_validate_accepts_a_valid_837(tmp_path: Path) -> None:
    path = tmp_path / "ok.837"
    path.write_text(write([bill()]))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert "valid" in result.stdout


def test_validate_reports_a_broken_837_in_words_without_its_values(tmp_path: Path) -> None:
    content = write([bill()]).replace("DMG*D8*19500102*F~", "DMG*D8*19501302*F~")
    content = content.replace("SV1*HC:S9326*7250*UN*29***1:2~\n", "", 1)
    path = tmp_path / "bad.837"
    path.write_text(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    output = result.stdout.replace("\n", " ")
    assert "segment DMG (Subscriber Demographic Information) element DMG02" in output
    assert "contains an invalid date" in output
    assert 'Mandatory segment "Professional Service" (SV1) missing' in output
    assert "19501302" not in output


def test_validate_says_when_a_file_is_not_x12(tmp_path: Path) -> None:
    path = tmp_path / "x.837"
    path.write_text("hello")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "not recognise this as an X12 interchange" in result.stdout
