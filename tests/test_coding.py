"""DOMAIN §4–6: lines, concurrent therapies, bundled items, drugs and nursing; one test per rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from hitclaims.core.days import Period
from hitclaims.core.drugs import hcpcs_units
from hitclaims.core.engine import bill_episode
from hitclaims.core.ndc import NdcError, normalise_ndc
from hitclaims.core.nursing import extra_hours
from hitclaims.inputs.catalog_files import load_catalog

from .builders import (
    AS_OF,
    MARCH,
    PROVIDER,
    bill,
    dispense,
    episode,
    lines_of,
    notes,
    per_diem,
    policy,
    rules,
)

HOLD = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}


# --- 4. line formats --------------------------------------------------------------------------


def test_daily_line_format_gives_one_line_per_billed_day() -> None:
    claim = bill(pol=policy(line_format="daily"))
    lines = per_diem(claim)
    assert len(lines) == 29
    assert all(ln[2] == ln[3] and ln[4] == 1 for ln in lines)


def test_span_line_format_joins_contiguous_days_and_splits_at_a_day_not_billed() -> None:
    claim = bill(episode(holds=[HOLD]), policy(line_format="span"))
    assert per_diem(claim) == [
        ("S9326", [], "2025-03-03", "2025-03-10", 8),
        ("S9326", [], "2025-03-12", "2025-03-31", 20),
    ]


def test_span_line_format_honours_max_span_days() -> None:
    claim = bill(pol=policy(line_format="span", max_span_days=7))
    assert [ln[4] for ln in per_diem(claim)] == [7, 7, 7, 7, 1]


def test_calendar_month_line_format_gives_one_line_per_month_from_first_to_last_billed_day() -> None:
    claim = bill(episode(holds=[HOLD]), policy(line_format="calendar_month"))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-31", 28)]
    assert claim.lines[0].days[7:9] == [date(2025, 3, 10), date(2025, 3, 12)]


def test_calendar_month_line_format_splits_at_the_month_boundary() -> None:
    period = Period(date(2025, 3, 1), date(2025, 4, 30))
    ep = episode(progress_notes=notes("2025-03-01", "2025-04-30"))
    claim = bill(ep, policy(line_format="calendar_month"), period=period, as_of=date(2025, 5, 2))
    assert [(ln[2], ln[3], ln[4]) for ln in per_diem(claim)] == [
        ("2025-03-03", "2025-03-31", 29),
        ("2025-04-01", "2025-04-30", 30),
    ]


def test_per_diem_units_equal_the_billed_days_a_line_covers() -> None:
    claim = bill(episode(holds=[HOLD]), policy(line_format="calendar_month"))
    for line in lines_of(claim, "per_diem"):
        assert line.units == len(line.days)


def test_place_of_service_is_home_12_on_every_line() -> None:
    claim = bill(episode(nursing_visits=[_visit("2025-03-03", 60)]))
    assert {ln.place_of_service for ln in claim.lines} == {"12"}


def test_an_infusion_suite_therapy_bills_pos_49_with_modifier_ss() -> None:
    therapy = {
        "category": "pain_management",
        "device": "external_pump",
        "route": "IV",
        "site": "infusion_suite",
    }
    line = lines_of(bill(episode(therapy=therapy)), "per_diem")[0]
    assert line.place_of_service == "49"
    assert line.modifiers == ["SS"]


# --- 4. concurrent therapies ------------------------------------------------------------------


def _concurrent(
    code: str, rate: str, start: str = "2025-03-05", end: str | None = "2025-03-12"
) -> dict[str, Any]:
    return {"code": code, "start": start, "end": end, "rate": rate}


def test_a_concurrent_therapy_with_a_higher_rate_makes_the_pain_line_sh() -> None:
    claim = bill(episode(concurrent_therapies=[_concurrent("S9500", "220.00")]))
    assert per_diem(claim) == [
        ("S9326", [], "2025-03-03", "2025-03-04", 2),
        ("S9326", ["SH"], "2025-03-05", "2025-03-12", 8),
        ("S9326", [], "2025-03-13", "2025-03-31", 19),
    ]


def test_the_pain_therapy_with_the_highest_rate_stays_unmodified() -> None:
    claim = bill(episode(concurrent_therapies=[_concurrent("S9500", "120.00")]))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-31", 29)]


def test_the_third_concurrent_therapy_and_later_carry_sj() -> None:
    others = [_concurrent("S9500", "220.00"), _concurrent("S9373", "200.00")]
    claim = bill(episode(concurrent_therapies=others))
    assert ("S9326", ["SJ"], "2025-03-05", "2025-03-12", 8) in per_diem(claim)


def test_on_equal_rates_the_therapy_that_started_first_is_primary() -> None:
    earlier = bill(episode(concurrent_therapies=[_concurrent("S9500", "175.00", start="2025-03-01")]))
    assert per_diem(earlier)[0] == ("S9326", ["SH"], "2025-03-03", "2025-03-12", 10)
    later = bill(episode(concurrent_therapies=[_concurrent("S9500", "175.00", start="2025-03-05")]))
    assert per_diem(later) == [("S9326", [], "2025-03-03", "2025-03-31", 29)]


def test_on_equal_rates_and_the_same_start_the_pain_therapy_is_primary() -> None:
    claim = bill(episode(concurrent_therapies=[_concurrent("S9500", "175.00", start="2025-03-03")]))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-31", 29)]


def test_concurrent_primary_first_started_ignores_the_rates() -> None:
    claim = bill(
        episode(concurrent_therapies=[_concurrent("S9500", "500.00")]),
        policy(concurrent_primary="first_started"),
    )
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-31", 29)]


def test_concurrent_extra_modifier_adds_59_beside_sh() -> None:
    claim = bill(
        episode(concurrent_therapies=[_concurrent("S9500", "220.00")]),
        policy(concurrent_extra_modifier="59"),
    )
    assert ("S9326", ["SH", "59"], "2025-03-05", "2025-03-12", 8) in per_diem(claim)


def test_concurrent_payment_factors_set_the_expected_payment() -> None:
    claim = bill(
        episode(concurrent_therapies=[_concurrent("S9500", "220.00")]),
        policy(concurrent_payment_factors=["1.0", "0.5", "0.0"]),
    )
    sh = next(ln for ln in lines_of(claim, "per_diem") if ln.modifiers == ["SH"])
    assert sh.expected_payment == Decimal("175.00") * 8 / 2


# --- 4. bundled items -------------------------------------------------------------------------


def test_a_bundled_supply_is_not_billed_and_is_warned() -> None:
    supplies = [{"date": "2025-03-03", "description": "cassettes", "hcpcs": "A4222", "quantity": 4}]
    claim = bill(episode(supplies=supplies))
    assert not lines_of(claim, "supply")
    assert "bundled.item" in rules(claim, "warning")


def test_an_item_the_policy_unbundles_is_its_own_line() -> None:
    supplies = [{"date": "2025-03-03", "description": "cassettes", "hcpcs": "A4222", "quantity": 4}]
    claim = bill(episode(supplies=supplies), policy(unbundled_items=["A4222"]))
    (line,) = lines_of(claim, "supply")
    assert (line.code, line.units, line.charge) == ("A4222", 4, Decimal("180.00"))
    assert "bundled.item" not in rules(claim)


# --- 5. drugs ---------------------------------------------------------------------------------

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("drug", "amount", "unit", "units"),
    [
        ("morphine", "250", "mg", 25),
        ("morphine", "15", "mg", 2),  # "up to 10 mg": 15 mg is 2 units
        ("morphine", "3", "mg", 1),  # less than one unit is still 1
        ("morphine_pf", "500", "mg", 50),
        ("hydromorphone", "25", "mg", 7),
        ("hydromorphone", "1", "g", 250),
        ("fentanyl", "2500", "mcg", 25),
        ("meperidine", "250", "mg", 3),
        ("methadone", "48", "mg", 5),
        ("ziconotide", "500", "mcg", 500),
        ("ropivacaine", "540", "mg", 540),
        ("clonidine", "0.3", "mg", 1),
        ("clonidine", "2.5", "mg", 3),
        ("bupivacaine", "625", "mg", 1250),
        ("ketamine", "500", "mg", 1),  # J3490: one unit a line
    ],
)
def test_drug_units_are_max_1_ceil_amount_over_unit_size(
    drug: str, amount: str, unit: str, units: int
) -> None:
    assert hcpcs_units(Decimal(amount), unit, CATALOG.drug(drug)) == units


@pytest.mark.parametrize(
    ("text", "eleven"),
    [
        ("0409-1234-01", "00409123401"),  # 4-4-2
        ("12345-123-12", "12345012312"),  # 5-3-2
        ("12345-1234-1", "12345123401"),  # 5-4-1
        ("12345-1234-12", "12345123412"),  # 5-4-2
        ("12345123412", "12345123412"),
    ],
)
def test_a_ten_digit_ndc_is_converted_by_its_hyphen_pattern(text: str, eleven: str) -> None:
    assert normalise_ndc(text) == eleven


@pytest.mark.parametrize("text", ["0409123401", "409-1234-01", "00409-1234-001", "abc", "0409-1234-0A"])
def test_an_unhyphenated_ten_digit_or_malformed_ndc_is_refused(text: str) -> None:
    with pytest.raises(NdcError):
        normalise_ndc(text)


def test_every_drug_line_carries_the_11_digit_ndc_its_quantity_and_unit() -> None:
    (line,) = lines_of(bill(episode(dispenses=[dispense("morphine", "250")])), "drug")
    assert (line.code, line.units, line.ndc, line.ndc_quantity, line.ndc_unit) == (
        "J2270",
        25,
        "00409123401",
        Decimal("250"),
        "ML",
    )


def test_a_drug_with_no_specific_code_is_j3490_with_its_description_and_one_unit() -> None:
    (line,) = lines_of(bill(episode(dispenses=[dispense("ketamine", "500")])), "drug")
    assert (line.code, line.units) == ("J3490", 1)
    assert line.description == "Ketamine HCl 500 mg"
    assert line.charge == Decimal("3.25") * 250


def test_a_mixture_bills_one_line_per_ingredient_in_the_orders_sequence() -> None:
    order = dict(episode().orders[0].model_dump(mode="json"), drug=["hydromorphone", "bupivacaine"])
    dispenses = [dispense("bupivacaine", "625", ndc="0409-1159-02"), dispense("hydromorphone", "25")]
    claim = bill(episode(orders=[order], dispenses=dispenses))
    assert [ln.code for ln in lines_of(claim, "drug")] == ["J1170", "J0665"]


def test_drug_quantity_basis_administered_bills_what_was_given() -> None:
    ep = episode(dispenses=[dispense("morphine", "250", administered_amount="180")])
    (line,) = lines_of(bill(ep, policy(drug_quantity_basis="administered")), "drug")
    assert (line.units, line.ndc_quantity) == (18, Decimal("180"))


def test_drug_quantity_basis_administered_without_an_administered_amount_holds_the_line() -> None:
    claim = bill(episode(dispenses=[dispense("morphine", "250")]), policy(drug_quantity_basis="administered"))
    assert not lines_of(claim, "drug")
    assert "drug.amount_missing" in rules(claim, "error")
    assert claim.status == "ready"  # a line hold, not a claim hold


def test_waste_modifiers_put_jz_on_a_single_dose_product_with_nothing_discarded() -> None:
    ep = episode(
        dispenses=[
            dispense("ziconotide", "100", amount_unit="mcg", administered_amount="100", single_dose=True)
        ]
    )
    (line,) = lines_of(bill(ep, policy(waste_modifiers=True)), "drug")
    assert (line.code, line.units, line.modifiers) == ("J2278", 100, ["JZ"])


def test_waste_modifiers_bill_the_discarded_part_of_a_single_dose_product_on_a_jw_line() -> None:
    ep = episode(
        dispenses=[
            dispense("ziconotide", "100", amount_unit="mcg", administered_amount="60", single_dose=True)
        ]
    )
    lines = lines_of(bill(ep, policy(waste_modifiers=True)), "drug")
    assert [(ln.units, ln.modifiers) for ln in lines] == [(60, []), (40, ["JW"])]


def test_waste_modifiers_never_apply_to_multi_dose_products_or_when_the_policy_is_off() -> None:
    multi = episode(dispenses=[dispense("morphine", "250", administered_amount="200")])
    assert lines_of(bill(multi, policy(waste_modifiers=True)), "drug")[0].modifiers == []
    single = episode(dispenses=[dispense("ziconotide", "100", amount_unit="mcg", single_dose=True)])
    assert lines_of(bill(single, policy(waste_modifiers=False)), "drug")[0].modifiers == []


# --- 6. nursing -------------------------------------------------------------------------------


def _visit(day: str, minutes: int, start: str = "09:00", **more: Any) -> dict[str, Any]:
    hour, minute = (int(x) for x in start.split(":"))
    end_total = hour * 60 + minute + minutes
    offset = "-06:00" if day < "2025-03-09" else "-05:00"
    visit = {
        "date": day,
        "start": f"{day}T{start}:00{offset}",
        "end": f"{day}T{end_total // 60:02d}:{end_total % 60:02d}:00{offset}",
        "credential": "RN",
        "note": "Site check.",
    }
    visit.update(more)
    return visit


def _nursing(claim: Any) -> list[tuple[str, str, int, list[str]]]:
    return [(ln.code, ln.from_.isoformat(), ln.units, ln.modifiers) for ln in lines_of(claim, "nursing")]


@pytest.mark.parametrize(
    ("extra", "units"), [(0, 0), (30, 0), (31, 1), (60, 1), (90, 1), (91, 2), (150, 2), (151, 3)]
)
def test_a_started_extra_hour_counts_once_it_reaches_the_threshold(extra: int, units: int) -> None:
    assert extra_hours(extra, 31) == units


def test_99601_once_per_visit_covers_up_to_two_hours() -> None:
    claim = bill(episode(nursing_visits=[_visit("2025-03-03", 120)]))
    assert _nursing(claim) == [("99601", "2025-03-03", 1, [])]


def test_99602_counts_each_additional_hour_past_the_threshold() -> None:
    claim = bill(episode(nursing_visits=[_visit("2025-03-17", 165)]))
    assert _nursing(claim) == [("99601", "2025-03-17", 1, []), ("99602", "2025-03-17", 1, [])]


def test_the_nursing_extra_minutes_setting_moves_the_threshold() -> None:
    nursing = {"billed_by_provider": True, "extra_minutes": 46}
    claim = bill(episode(nursing_visits=[_visit("2025-03-17", 165)]), policy(nursing=nursing))
    assert _nursing(claim) == [("99601", "2025-03-17", 1, [])]


def test_a_later_visit_the_same_day_adds_its_time_and_never_a_second_99601() -> None:
    visits = [_visit("2025-03-17", 60, "08:00"), _visit("2025-03-17", 100, "15:00")]
    claim = bill(episode(nursing_visits=visits))  # 160 min: 40 beyond the first 2 hours
    assert _nursing(claim) == [("99601", "2025-03-17", 1, []), ("99602", "2025-03-17", 1, [])]


def test_the_days_visits_are_added_up_before_the_first_two_hours_are_taken_off() -> None:
    short = [_visit("2025-03-05", 30, "08:00"), _visit("2025-03-05", 40, "15:00")]
    assert _nursing(bill(episode(nursing_visits=short))) == [("99601", "2025-03-05", 1, [])]
    # 120 + 40 + 40 = 200 min: 80 beyond 2 hours is one hour and 20 minutes, under 31: one 99602.
    three = [
        _visit("2025-03-06", 120, "08:00"),
        _visit("2025-03-06", 40, "12:00"),
        _visit("2025-03-06", 40, "16:00"),
    ]
    assert _nursing(bill(episode(nursing_visits=three))) == [
        ("99601", "2025-03-06", 1, []),
        ("99602", "2025-03-06", 1, []),
    ]


def test_99602_is_capped_by_max_hours_per_day() -> None:
    claim = bill(episode(nursing_visits=[_visit("2025-03-17", 330)]))  # 5.5 h
    assert _nursing(claim)[1] == ("99602", "2025-03-17", 2, [])
    assert "nursing.cap" in rules(claim, "warning")


def test_99602_is_capped_by_max_hours_per_week() -> None:
    visits = [_visit(d, 240) for d in ("2025-03-17", "2025-03-18", "2025-03-19")]
    nursing = {"billed_by_provider": True, "max_hours_per_day": 4, "max_hours_per_week": 10}
    claim = bill(episode(nursing_visits=visits), policy(nursing=nursing))
    extra = [units for code, _, units, _ in _nursing(claim) if code == "99602"]
    assert sum(extra) + 2 * 3 == 10
    assert extra == [2, 2]


def test_the_sd_modifier_marks_rn_visits_when_the_policy_asks() -> None:
    nursing = {"billed_by_provider": True, "sd_modifier": True}
    claim = bill(episode(nursing_visits=[_visit("2025-03-03", 60)]), policy(nursing=nursing))
    assert _nursing(claim) == [("99601", "2025-03-03", 1, ["SD"])]
    lpn = bill(episode(nursing_visits=[_visit("2025-03-03", 60, credential="LPN")]), policy(nursing=nursing))
    assert _nursing(lpn) == [("99601", "2025-03-03", 1, [])]


def test_nursing_is_not_billed_when_the_payer_takes_it_from_a_home_health_agency() -> None:
    claim = bill(
        episode(nursing_visits=[_visit("2025-03-03", 60)]), policy(nursing={"billed_by_provider": False})
    )
    assert _nursing(claim) == []
    assert "nursing.billed_elsewhere" in rules(claim, "warning")


def test_drug_lines_of_an_infusion_suite_therapy_carry_pos_49_and_nursing_stays_home() -> None:
    therapy = {
        "category": "pain_management",
        "device": "external_pump",
        "route": "IV",
        "site": "infusion_suite",
    }
    claim = bill(
        episode(
            therapy=therapy,
            dispenses=[dispense("morphine", "250")],
            nursing_visits=[_visit("2025-03-03", 60)],
        )
    )
    assert {ln.kind: ln.place_of_service for ln in claim.lines} == {
        "per_diem": "49",
        "drug": "49",
        "nursing": "12",
    }


def test_the_99601_goes_on_the_days_first_documented_visit() -> None:
    later = _visit("2025-03-17", 60, "15:00", id="V-1")
    earlier = _visit("2025-03-17", 30, "08:00", id="V-2")
    undocumented = _visit("2025-03-17", 30, "07:00", id="V-3", note=None)
    claim = bill(episode(nursing_visits=[later, undocumented, earlier]))
    assert [(ln.code, ln.record) for ln in lines_of(claim, "nursing")] == [("99601", "nursing visit V-2")]


# --- the modifiers come from the catalog ------------------------------------------------------


def test_modifiers_come_from_the_modifier_catalog_by_use() -> None:
    renamed = {"SH": "X2", "SS": "X9", "JZ": "X0"}
    modifiers = {
        renamed.get(code, code): entry.model_copy(update={"code": renamed.get(code, code)})
        for code, entry in CATALOG.modifiers.items()
    }
    catalog = CATALOG.model_copy(update={"modifiers": modifiers})
    therapy = {
        "category": "pain_management",
        "device": "external_pump",
        "route": "IV",
        "site": "infusion_suite",
    }
    ep = episode(
        therapy=therapy,
        concurrent_therapies=[_concurrent("S9500", "220.00")],
        dispenses=[
            dispense("ziconotide", "100", amount_unit="mcg", administered_amount="100", single_dose=True)
        ],
    )
    (claim,) = bill_episode(ep, policy(waste_modifiers=True), catalog, PROVIDER, MARCH, AS_OF)
    assert ("S9326", ["X2", "X9"], "2025-03-05", "2025-03-12", 8) in per_diem(claim)
    assert lines_of(claim, "drug")[0].modifiers == ["X0"]
