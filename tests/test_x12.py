"""The X12 837P: every file the suite writes passes pyx12, and its envelope counts are computed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pyx12
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from hitclaims.cli import app
from hitclaims.core.claim import Claim
from hitclaims.core.engine import bill_episode
from hitclaims.core.records import Episode
from hitclaims.formats.x12.claim_837p import (
    NotSendableError,
    rendered_transaction,
    write_837,
    write_rendered_837,
)
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.formats.x12.segments import (
    ELEMENT_SIZES,
    ElementSize,
    element_problems,
    length_problems,
    number,
    text,
)
from hitclaims.formats.x12.validate import validate_x12

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
    assert length_problems(content) == []
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
        with pytest.raises(NotSendableError) as refusal:
            write_837([claim], ENVELOPE, "Example Clearinghouse")
        assert refusal.value.field == "status"


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


def test_validate_messages_keep_the_segment_id_and_drop_every_value_from_the_file(tmp_path: Path) -> None:
    # pyx12 quotes values in some messages ("Segment N3*<street> not found", len("<name>")); an
    # 837 is all personal data, and a validation report gets pasted into tickets.
    content = (
        write([bill()])
        .replace("DMG*D8*19500102*F~", "DMG*D8*19501302*Q~\nN3*77 SECRETSTREET LANE~", 1)
        .replace("NM1*IL*1*PATIENT*TEST", "NM1*IL*1*" + "SECRETSURNAME" * 5 + "*SECRET\x07FIRST", 1)
        .replace("*MI*M123~", "*MI*SECRETMEMBER ~", 1)
    )
    path = tmp_path / "bad.837"
    path.write_text(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    output = result.stdout.replace("\n", " ")
    assert "Segment N3 not found" in output
    assert "(NM103) is too long: length 65 > 60" in output
    assert "element NM104" in output
    assert "element NM109" in output
    assert "not a valid code for Subscriber Gender Code (DMG03)" in output
    for value in ("SECRET", "19501302", "(Q)", "\x07", "<BEL>"):
        assert value not in output


def test_validate_says_when_a_file_is_not_x12(tmp_path: Path) -> None:
    path = tmp_path / "x.837"
    path.write_text("hello")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "not recognise this as an X12 interchange" in result.stdout


# --- element lengths ----------------------------------------------------------------------------


def _pyx12_sizes() -> dict[str, set[ElementSize]]:
    """Each element reference's size in pyx12's 837P and envelope maps, read from its XML."""
    maps = Path(pyx12.__file__).parent / "map"
    types = {
        e.get("ele_num"): ElementSize(
            str(e.get("data_type")), int(e.get("min_len", 0)), int(e.get("max_len", 0))
        )
        for e in ET.parse(maps / "dataele.xml").getroot()
    }
    envelope = {"ISA", "GS", "GE", "IEA"}  # the 837 map repeats them as 00401 had them: not ours
    sizes: dict[str, set[ElementSize]] = {}
    for name, envelope_only in (("x12.control.00501.xml", True), ("837.5010.X222.A1.xml", False)):
        for segment in ET.parse(maps / name).getroot().iter("segment"):
            if (segment.get("xid") in envelope) != envelope_only:
                continue
            for element in segment.iter("element"):
                ref = str(element.get("xid"))
                if "-" in ref:  # a component: SV101-02 is written SV101-2
                    ref = f"{ref.split('-')[0]}-{int(ref.split('-')[1])}"
                sizes.setdefault(ref, set()).add(types[element.findtext("data_ele")])
    return sizes


def test_the_element_length_table_is_the_one_in_pyx12s_maps() -> None:
    sizes = _pyx12_sizes()
    for ref, size in ELEMENT_SIZES.items():
        assert sizes[ref] == {size}, ref


def test_every_element_the_837_writer_fills_is_in_the_length_table(setup: Any) -> None:
    claims = [bill_example(name, setup)[0] for name in CASES]
    subscriber = {
        "first_name": "R",
        "last_name": "P",
        "birth_date": "1948-03-04",
        "sex": "M",
        "address": {"line1": "1 Test St", "line2": "Apt 2", "city": "Fargo", "state": "ND", "zip": "58102"},
    }
    claims.append(
        bill(episode(coverage=dict(BASE["coverage"], relationship="spouse", subscriber=subscriber)))
    )
    claims.append(bill(episode(dispenses=[dispense("ketamine", "500", rx_number="RX1")])))
    missing = set()
    for segment in segments(write(claims)):
        segment_id, *values = segment.split("*")
        for position, value in enumerate(values, start=1):
            ref = f"{segment_id}{position:02d}"
            if value and ref not in ELEMENT_SIZES:
                parts = value.split(":")
                missing |= {f"{ref}-{n}" for n, part in enumerate(parts, start=1) if part} - set(
                    ELEMENT_SIZES
                )
    assert missing == set()


def test_length_problems_name_the_segment_element_and_limits_without_the_value() -> None:
    content = (
        write([bill()])
        .replace("NM1*IL*1*PATIENT*TEST", "NM1*IL*1*" + "SECRETSURNAME" * 5 + "*TEST", 1)
        .replace("N4*FARGO*ND*58102~", "N4*F*ND*58102~", 1)
        .replace("HI*ABK:", "HI*ABK:" + "SECRETCODE" * 4, 1)
    )
    body = segments(content)
    nm1 = body.index(next(s for s in body if s.startswith("NM1*IL"))) + 1
    hi = body.index(next(s for s in body if s.startswith("HI*"))) + 1
    assert length_problems(content) == [
        f"Segment {nm1} (NM1), element NM103: 65 characters, the 837P allows 1 to 60.",
        f"Segment {nm1 + 2} (N4), element N401: 1 character, the 837P allows 2 to 30.",
        f"Segment {hi} (HI), element HI01-2: 44 characters, the 837P allows 1 to 30.",
    ]


def test_length_problems_count_digits_only_in_numbers_and_check_fixed_widths() -> None:
    content = write([bill()])
    clm = next(s for s in segments(content) if s.startswith("CLM*"))
    charge = clm.split("*")[2]
    eighteen_digits = content.replace(f"*{charge}***", "*12345678901234567.8***", 1)
    assert length_problems(eighteen_digits) == []
    nineteen_digits = content.replace(f"*{charge}***", "*123456789012345678.9***", 1)
    (problem,) = length_problems(nineteen_digits)
    assert problem.endswith("(CLM), element CLM02: 19 characters, the 837P allows 1 to 18.")
    short_isa = content.replace("*ZZ*PRAIRIEHIT     *", "*ZZ*PRAIRIEHIT*", 1)
    assert "Segment 1 (ISA), element ISA06: 10 characters, the 837P allows exactly 15." in length_problems(
        short_isa
    )


# --- a ready claim always renders a valid 837 (issue 8, item 2) ----------------------------------


def _guarded(claims: Sequence[Claim]) -> list[Claim]:
    from hitclaims.inputs.loading import PolicyBook
    from hitclaims.services.billing import Setup, guard_sendable

    return guard_sendable(claims, Setup(CATALOG, PolicyBook({}), PROVIDER))


def test_non_ascii_in_sbr03_and_names_is_mapped_and_the_837_passes_pyx12() -> None:
    data = json.loads(episode().model_dump_json())
    data["coverage"]["group_number"] = "Grüne Straße Œuvre"
    data["patient"]["first_name"] = "José"
    data["patient"]["address"]["city"] = "Bogotá"
    claim = bill(Episode.model_validate_json(json.dumps(data)))
    content = assert_valid([claim])
    assert "SBR*P*18*GRUNE STRASSE OEUVRE*" in content
    assert "*JOSE*" in content
    assert _guarded([claim])[0].status == "ready"


def test_a_ready_claim_whose_ctp04_is_over_15_characters_is_held_as_claim_x12_invalid() -> None:
    claim = bill(episode(dispenses=[dispense("morphine", "250")]))
    lines = [
        ln.model_copy(update={"ndc_quantity": Decimal("1234567890.1234567")}) if ln.ndc else ln
        for ln in claim.lines
    ]
    [guarded] = _guarded([claim.model_copy(update={"lines": lines})])
    assert guarded.status == "held"
    messages = [f.message for f in guarded.findings if f.rule == "claim.x12_invalid"]
    assert len(messages) == 1
    assert "element CTP04: 17 characters" in messages[0]
    assert "1234567890" not in messages[0]


def test_a_ready_claim_whose_sv104_is_too_long_is_held() -> None:
    claim = bill()
    lines = [claim.lines[0].model_copy(update={"units": 10**16}), *claim.lines[1:]]
    [guarded] = _guarded([claim.model_copy(update={"lines": lines})])
    assert guarded.status == "held"
    assert "element SV104" in guarded.findings[0].message


def test_text_an_837_cannot_carry_is_found_and_held_never_silently_dropped() -> None:
    claim = bill()
    odd = claim.model_copy(update={"payer": claim.payer.model_copy(update={"name": "Payer \u2603"})})
    assert "\u2603" in write([odd])
    [guarded] = _guarded([odd])
    assert guarded.status == "held"
    assert "a character outside the X12 character set" in guarded.findings[0].message


def test_element_problems_names_segment_and_element_never_the_value() -> None:
    content = write([bill()])
    assert element_problems(content) == []
    broken = content.replace("NM1*IL*1*PATIENT*TEST", "NM1*IL*1*PATIENTÉ*TEST", 1).replace(
        "SV1*HC:S9326*7250*", "SV1*HC:S9326*72E50*", 1
    )
    problems = element_problems(broken)
    assert any("(NM1), element NM103: a character outside the X12 character set" in p for p in problems)
    assert any("(SV1), element SV102: not an X12 decimal number" in p for p in problems)
    assert not any("PATIENT" in p or "72E50" in p for p in problems)


def test_held_and_refused_claims_pass_the_guard_unchanged() -> None:
    held = bill(episode(supplies=[]))
    assert _guarded([held]) == [held]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_claims_rendered_where_billed_give_the_same_837_as_rendered_together(case: Any) -> None:
    """The batch renders each ready claim's transaction set in the worker that bills it and only
    wraps them in the 837 step: the file must be the one `write_837` writes, byte for byte."""
    data, pol, period = case
    claims = [
        c.model_copy(update={"status": "ready"})
        for c in bill_episode(
            Episode.model_validate_json(json.dumps(data)), pol, CATALOG, PROVIDER, period, period.end
        )
    ]
    bodies = [rendered_transaction(c, ENVELOPE, "Example Clearinghouse") for c in claims]
    assert write_rendered_837(ENVELOPE, bodies) == write_837(claims, ENVELOPE, "Example Clearinghouse")


def test_only_a_ready_claim_is_rendered_for_a_batch_837() -> None:
    held = bill(episode(), policy(), MARCH).model_copy(update={"status": "held"})
    with pytest.raises(NotSendableError):
        rendered_transaction(held, ENVELOPE, "Example Clearinghouse")
