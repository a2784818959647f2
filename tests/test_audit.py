"""DOMAIN §7 and SPEC "Finding rules": one test per rule id, named after it."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from hitclaims.core.days import Period
from hitclaims.core.engine import History
from hitclaims.core.findings import BilledElsewhere
from hitclaims.inputs.catalog_files import load_catalog

from .builders import (
    BASE,
    PROVIDER,
    bill,
    billed_dates,
    dispense,
    episode,
    lines_of,
    notes,
    per_diem,
    policy,
    rules,
)


def _order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = dict(BASE["orders"][0])
    order.update(changes)
    return order


def _status_and_rule(claim: Any, rule: str) -> tuple[str, list[str]]:
    return claim.status, [f.holds for f in claim.findings if f.rule == rule]


# --- what holds a day -------------------------------------------------------------------------


def test_order_missing_holds_days_no_order_covers() -> None:
    claim = bill(episode(orders=[_order(end="2025-03-20")]))
    assert [h.date.isoformat() for h in claim.held_days if h.rule == "order.missing"] == [
        f"2025-03-{d}" for d in range(21, 32)
    ]
    assert claim.status == "ready"
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-20", 18)]


def test_note_missing_holds_a_billed_day_without_a_progress_note() -> None:
    kept = [n for n in BASE["progress_notes"] if n["date"] != "2025-03-20"]
    claim = bill(episode(progress_notes=kept))
    assert [(h.date.isoformat(), h.rule) for h in claim.held_days] == [("2025-03-20", "note.missing")]
    finding = next(f for f in claim.findings if f.rule == "note.missing")
    assert (finding.severity, finding.record, finding.message) == (
        "error",
        "progress_notes",
        "No progress note for 2025-03-20.",
    )
    assert "2025-03-20" not in billed_dates(claim)


def test_note_missing_is_not_asked_for_a_day_that_is_not_billable() -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    kept = [n for n in BASE["progress_notes"] if n["date"] != "2025-03-11"]
    assert "note.missing" not in rules(bill(episode(holds=[hold], progress_notes=kept)))


def _auth(**changes: Any) -> dict[str, Any]:
    auth = {"number": "PA-1", "start": "2025-03-01", "end": "2025-03-31", "units": 31, "codes": ["S9326"]}
    auth.update(changes)
    return auth


def _covered(auth: Any) -> Any:
    return episode(coverage=dict(BASE["coverage"], prior_authorization=auth))


def test_auth_out_of_range_holds_days_outside_the_authorized_dates() -> None:
    claim = bill(_covered(_auth(end="2025-03-25")), policy(prior_authorization_required=True))
    held = [h.date.isoformat() for h in claim.held_days if h.rule == "auth.out_of_range"]
    assert held == [f"2025-03-{d}" for d in range(26, 32)]


def test_auth_units_exceeded_holds_the_latest_days_past_the_authorized_units() -> None:
    claim = bill(_covered(_auth(units=20)), policy(prior_authorization_required=True))
    held = [h.date.isoformat() for h in claim.held_days if h.rule == "auth.units_exceeded"]
    assert held == [f"2025-03-{d}" for d in range(23, 32)]
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-22", 20)]
    assert claim.lines[0].authorization == "PA-1"


def test_auth_units_exceeded_counts_units_used_in_earlier_periods() -> None:
    claim = bill(
        _covered(_auth(units=40)),
        policy(prior_authorization_required=True),
        history=History(auth_units_used={"PA-1": 30}),
    )
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-12", 10)]


def test_auth_units_exceeded_ignores_days_held_for_documentation() -> None:
    kept = [n for n in BASE["progress_notes"] if n["date"] != "2025-03-05"]
    ep = episode(coverage=dict(BASE["coverage"], prior_authorization=_auth(units=28)), progress_notes=kept)
    claim = bill(ep, policy(prior_authorization_required=True))
    assert [h.rule for h in claim.held_days] == ["note.missing"]


def test_an_authorization_only_limits_the_codes_it_lists() -> None:
    auth = _auth(units=1, codes=["S9326"])
    one = dispense("morphine", "250")
    claim = bill(
        episode(coverage=dict(BASE["coverage"], prior_authorization=auth), dispenses=[one]),
        policy(prior_authorization_required=True),
    )
    assert lines_of(claim, "drug")[0].units == 25  # the per-diem auth does not limit drug units


def test_renewed_authorizations_are_used_in_date_order() -> None:
    auths = [_auth(number="PA-2", start="2025-03-16", end="2025-04-15"), _auth(end="2025-03-15")]
    claim = bill(_covered(auths), policy(prior_authorization_required=True))
    assert [
        (ln.from_.isoformat(), ln.to.isoformat(), ln.authorization) for ln in lines_of(claim, "per_diem")
    ] == [
        ("2025-03-03", "2025-03-15", "PA-1"),
        ("2025-03-16", "2025-03-31", "PA-2"),
    ]


# --- what holds a line ------------------------------------------------------------------------


def _visit(**changes: Any) -> dict[str, Any]:
    visit: dict[str, Any] = {
        "date": "2025-03-17",
        "start": "2025-03-17T13:00:00-05:00",
        "end": "2025-03-17T15:45:00-05:00",
        "credential": "RN",
        "note": "Site check.",
    }
    visit.update(changes)
    return visit


def test_nursing_note_missing_keeps_the_visit_off_the_claim() -> None:
    claim = bill(episode(nursing_visits=[_visit(note=None)]))
    assert lines_of(claim, "nursing") == []
    assert _status_and_rule(claim, "nursing.note_missing") == ("ready", ["line"])


def test_nursing_note_missing_lets_the_days_documented_visit_carry_the_99601() -> None:
    undocumented = _visit(start="2025-03-17T09:00:00-05:00", end="2025-03-17T10:00:00-05:00", note=None)
    documented = _visit(start="2025-03-17T13:00:00-05:00", end="2025-03-17T14:30:00-05:00")
    claim = bill(episode(nursing_visits=[undocumented, documented]))
    assert [(ln.code, ln.units) for ln in lines_of(claim, "nursing")] == [("99601", 1)]
    assert "nursing.note_missing" in rules(claim, "error")


def test_nursing_times_missing_holds_only_the_99602_part() -> None:
    claim = bill(episode(nursing_visits=[_visit(start=None, end=None, duration_minutes=170)]))
    assert [(ln.code, ln.units) for ln in lines_of(claim, "nursing")] == [("99601", 1)]
    assert _status_and_rule(claim, "nursing.times_missing") == ("ready", ["line"])


def test_drug_amount_missing_holds_the_drug_line() -> None:
    one = dispense("morphine", "250")
    claim = bill(episode(dispenses=[one]), policy(drug_quantity_basis="administered"))
    assert lines_of(claim, "drug") == []
    assert _status_and_rule(claim, "drug.amount_missing") == ("ready", ["line"])


def test_drug_not_administered_bills_no_line_and_warns() -> None:
    one = dispense("morphine", "250", administered_amount="0")
    claim = bill(episode(dispenses=[one]), policy(drug_quantity_basis="administered"))
    assert lines_of(claim, "drug") == []
    assert "drug.not_administered" in rules(claim, "warning")


# --- what holds the claim ---------------------------------------------------------------------


def test_order_unsigned_holds_the_claim() -> None:
    claim = bill(episode(orders=[_order(signed_at=None)]))
    assert _status_and_rule(claim, "order.unsigned") == ("held", ["claim"])


def test_order_unsigned_when_signed_after_the_submission_date() -> None:
    claim = bill(episode(orders=[_order(signed_at="2025-04-10T09:00:00-05:00")]))
    assert _status_and_rule(claim, "order.unsigned") == ("held", ["claim"])


def test_order_incomplete_holds_the_claim_when_drug_dose_or_rate_is_missing() -> None:
    claim = bill(episode(orders=[_order(rate=None, dose=None)]))
    assert _status_and_rule(claim, "order.incomplete") == ("held", ["claim"])
    assert "does not state the dose and the rate" in next(f.message for f in claim.findings)


def test_history_missing_holds_the_claim() -> None:
    claim = bill(episode(home_infusion_reason=None))
    assert _status_and_rule(claim, "history.missing") == ("held", ["claim"])


def test_necessity_missing_holds_the_claim() -> None:
    need = {
        "continuous_infusion_indicated": True,
        "alternatives_tried": ["oral morphine"],
        "alternatives_outcome": "partly helpful",
    }
    claim = bill(episode(medical_necessity=need))
    assert _status_and_rule(claim, "necessity.missing") == ("held", ["claim"])
    assert _status_and_rule(bill(episode(medical_necessity=None)), "necessity.missing") == ("held", ["claim"])


def test_necessity_missing_when_continuous_infusion_is_billed_but_not_indicated() -> None:
    need = dict(BASE["medical_necessity"], continuous_infusion_indicated=False)
    assert "necessity.missing" in rules(bill(episode(medical_necessity=need)), "error")


def test_supplies_missing_holds_the_claim() -> None:
    assert _status_and_rule(bill(episode(supplies=[])), "supplies.missing") == ("held", ["claim"])


def test_diagnosis_unsupported_without_a_pain_code() -> None:
    assert _status_and_rule(bill(episode(diagnoses=["C79.51"])), "diagnosis.unsupported") == (
        "held",
        ["claim"],
    )


def test_diagnosis_unsupported_when_neoplasm_pain_has_no_neoplasm_code() -> None:
    assert _status_and_rule(bill(episode(diagnoses=["G89.3"])), "diagnosis.unsupported") == (
        "held",
        ["claim"],
    )


def test_diagnosis_invalid_for_a_code_deleted_before_the_date_of_service() -> None:
    claim = bill(episode(diagnoses=["G89.29", "M54.5"]))
    assert _status_and_rule(claim, "diagnosis.invalid") == ("held", ["claim"])
    assert "M54.5 is not a valid ICD-10-CM code after 2021-09-30" in " ".join(
        f.message for f in claim.findings
    )


def test_diagnosis_invalid_accepts_m54_5_before_its_deletion() -> None:
    ep = episode(
        diagnoses=["G89.29", "M54.5"],
        orders=[_order(start="2021-09-01", signed_at="2021-08-30T10:00:00-05:00")],
        pump_events=[{"at": "2021-09-01T10:00:00-05:00", "type": "start", "rate": "2 mL/h"}],
        progress_notes=notes("2021-09-01", "2021-09-30"),
    )
    claim = bill(ep, period=Period(date(2021, 9, 1), date(2021, 9, 30)), as_of=date(2021, 10, 5))
    assert "diagnosis.invalid" not in rules(claim)


def test_diagnosis_invalid_for_a_non_billable_header_code() -> None:
    claim = bill(episode(diagnoses=["G89", "G89.29"]))
    assert _status_and_rule(claim, "diagnosis.invalid") == ("held", ["claim"])


def test_auth_missing_holds_the_claim_when_the_payer_requires_authorization() -> None:
    assert _status_and_rule(bill(pol=policy(prior_authorization_required=True)), "auth.missing") == (
        "held",
        ["claim"],
    )
    assert "auth.missing" not in rules(bill(pol=policy(prior_authorization_required=False)))


def test_timely_filing_past_holds_the_claim() -> None:
    claim = bill(pol=policy(timely_filing_days=90), as_of=date(2025, 7, 15))
    assert _status_and_rule(claim, "timely_filing.past") == ("held", ["claim"])


def test_timely_filing_near_warns_at_80_percent_of_the_window() -> None:
    claim = bill(pol=policy(timely_filing_days=30), as_of=date(2025, 4, 25))  # 25 of 30 days
    assert _status_and_rule(claim, "timely_filing.near") == ("ready", ["none"])
    assert "timely_filing" not in " ".join(
        rules(bill(pol=policy(timely_filing_days=30), as_of=date(2025, 4, 20)))
    )


def test_ndc_invalid_holds_the_claim() -> None:
    one = dispense("morphine", "250", ndc="0409123401")
    claim = bill(episode(dispenses=[one]))
    assert _status_and_rule(claim, "ndc.invalid") == ("held", ["claim"])
    assert "ambiguous" in next(f.message for f in claim.findings if f.rule == "ndc.invalid")


def test_npi_invalid_holds_the_claim() -> None:
    claim = bill(episode(prescriber={"npi": "1234567890", "first_name": "Jane", "last_name": "Smith"}))
    assert _status_and_rule(claim, "npi.invalid") == ("held", ["claim"])


def test_charge_missing_holds_the_claim() -> None:
    one = dispense("lidocaine", "1000", ndc="0409-4277-01", quantity="50")
    charges = {k: v for k, v in PROVIDER.charges.items() if k != "J2001"}
    claim = bill(episode(dispenses=[one]), provider=PROVIDER.model_copy(update={"charges": charges}))
    assert _status_and_rule(claim, "charge.missing") == ("held", ["claim"])


def test_claim_empty_holds_a_claim_with_nothing_to_bill() -> None:
    hold = {"start": "2025-03-01T00:00:00-06:00", "reason": "inpatient"}
    claim = bill(episode(holds=[hold]))
    assert claim.lines == []
    assert _status_and_rule(claim, "claim.empty") == ("held", ["claim"])


def test_a_claim_whose_every_per_diem_day_is_held_is_held() -> None:
    claim = bill(episode(progress_notes=[]))
    assert per_diem(claim) == []
    assert claim.status == "held"


# --- warnings ---------------------------------------------------------------------------------


def test_continuity_no_pump_log_warns() -> None:
    assert _status_and_rule(bill(episode(pump_events=[])), "continuity.no_pump_log") == ("ready", ["none"])


def test_adjustment_unmatched_warns_about_a_rate_change_without_an_order_or_adjustment() -> None:
    events = [
        {"at": "2025-03-03T10:00:00-06:00", "type": "start", "rate": "2 mL/h"},
        {"at": "2025-03-15T09:05:00-05:00", "type": "rate_change", "rate": "3 mL/h"},
    ]
    claim = bill(episode(pump_events=events))
    assert _status_and_rule(claim, "adjustment.unmatched") == ("ready", ["none"])
    adjustment = {"at": "2025-03-15T09:00:00-05:00", "order_id": "O-1", "rate": "3 ml/hr", "reason": "pain"}
    assert "adjustment.unmatched" not in rules(bill(episode(pump_events=events, adjustments=[adjustment])))


def test_bundled_item_warns() -> None:
    supplies = [{"date": "2025-03-03", "description": "catheter kit", "hcpcs": "A4221", "quantity": 1}]
    assert _status_and_rule(bill(episode(supplies=supplies)), "bundled.item") == ("ready", ["none"])


def test_nursing_billed_elsewhere_warns() -> None:
    claim = bill(episode(nursing_visits=[_visit()]), policy(nursing={"billed_by_provider": False}))
    assert _status_and_rule(claim, "nursing.billed_elsewhere") == ("ready", ["none"])


def test_nursing_cap_warns() -> None:
    claim = bill(episode(nursing_visits=[_visit(end="2025-03-17T19:00:00-05:00")]))
    assert _status_and_rule(claim, "nursing.cap") == ("ready", ["none"])


# --- the refusal ------------------------------------------------------------------------------


def test_payer_no_s_codes_refuses_an_s_code_claim_to_medicare_and_names_the_medicare_route() -> None:
    claim = bill(pol=policy(payer_kind="medicare", claim_filing_indicator="MB"))
    assert _status_and_rule(claim, "payer.no_s_codes") == ("refused", ["refuse"])
    message = next(f.message for f in claim.findings if f.rule == "payer.no_s_codes")
    for route in ("E0779", "A4222", "KX", "G0068"):
        assert route in message


# --- severity overrides -----------------------------------------------------------------------


def test_a_policy_may_lower_an_error_to_a_warning() -> None:
    claim = bill(episode(supplies=[]), policy(severity_overrides={"supplies.missing": "warning"}))
    assert claim.status == "ready"
    assert "supplies.missing" in rules(claim, "warning")


def test_a_policy_may_raise_a_warning_to_an_error_that_holds_the_claim() -> None:
    claim = bill(episode(pump_events=[]), policy(severity_overrides={"continuity.no_pump_log": "error"}))
    assert _status_and_rule(claim, "continuity.no_pump_log") == ("held", ["claim"])


def test_a_policy_cannot_soften_payer_no_s_codes_or_ndc_invalid() -> None:
    pol = policy(
        payer_kind="medicare", claim_filing_indicator="MB", severity_overrides={"payer.no_s_codes": "warning"}
    )
    assert bill(pol=pol).status == "refused"


# --- the rule table itself --------------------------------------------------------------------


def test_every_rule_id_has_a_test_named_after_it() -> None:
    module = sys.modules[__name__]
    names = [n for n in dir(module) if n.startswith("test_")]
    for rule in load_catalog().rules:
        stem = "test_" + rule.replace(".", "_")
        assert any(n.startswith(stem) for n in names), f"no test named after {rule}"


# --- what the store knows: services already billed on other claims ----------------------------


def test_day_already_billed_is_not_billed_again_and_says_on_which_claim() -> None:
    billed = {date(2025, 3, d): "EP-OLD-202503" for d in (3, 4, 5)}
    claim = bill(history=History(billed_days=billed))
    assert per_diem(claim) == [("S9326", [], "2025-03-06", "2025-03-31", 26)]
    row = next(r for r in claim.ledger if r.date == date(2025, 3, 4))
    assert row.status == "not_billable"
    assert "already billed on claim EP-OLD-202503" in row.reasons[-1]
    assert _status_and_rule(claim, "day.already_billed") == ("ready", ["none"])


ONE_HOUR_VISIT = {
    "date": "2025-03-17",
    "start": "2025-03-17T13:00:00-05:00",
    "end": "2025-03-17T14:00:00-05:00",
    "credential": "RN",
    "note": "Site care.",
}


def test_line_already_billed_is_not_billed_again() -> None:
    first = bill(episode(nursing_visits=[ONE_HOUR_VISIT]))
    (nursing,) = lines_of(first, "nursing")
    again = bill(
        episode(nursing_visits=[ONE_HOUR_VISIT]),
        history=History(billed_items={nursing.item_key: "EP-OLD-202503"}),
    )
    assert lines_of(again, "nursing") == []
    assert _status_and_rule(again, "line.already_billed") == ("ready", ["none"])


def test_day_other_payer_is_held_naming_the_other_payers_claim() -> None:
    other = {date(2025, 3, d): BilledElsewhere("EP-B-202503", "state-medicaid-daily") for d in (3, 4, 5)}
    claim = bill(history=History(other_payer_days=other))
    assert [h.date.day for h in claim.held_days if h.rule == "day.other_payer"] == [3, 4, 5]
    assert per_diem(claim) == [("S9326", [], "2025-03-06", "2025-03-31", 26)]
    (finding, *_) = [f for f in claim.findings if f.rule == "day.other_payer"]
    assert "state-medicaid-daily on claim EP-B-202503" in finding.message
    row = next(r for r in claim.ledger if r.date == date(2025, 3, 4))
    assert row.status == "held"
    assert _status_and_rule(claim, "day.other_payer")[1] == ["day", "day", "day"]


def test_line_other_payer_is_held_naming_the_other_payers_claim() -> None:
    (nursing,) = lines_of(bill(episode(nursing_visits=[ONE_HOUR_VISIT])), "nursing")
    elsewhere = {nursing.item_key: BilledElsewhere("EP-B-202503", "state-medicaid-daily")}
    again = bill(episode(nursing_visits=[ONE_HOUR_VISIT]), history=History(other_payer_items=elsewhere))
    assert lines_of(again, "nursing") == []
    assert _status_and_rule(again, "line.other_payer") == ("ready", ["line"])


def test_auth_units_go_to_the_authorization_that_ends_first_so_no_authorized_day_is_held() -> None:
    long_auth = _auth(number="PA-A", start="2025-03-01", end="2025-03-31", units=5)
    short_auth = _auth(number="PA-B", start="2025-03-05", end="2025-03-10", units=5)
    ep = episode(
        coverage=dict(BASE["coverage"], prior_authorization=[long_auth, short_auth]),
        orders=[_order(start="2025-03-05", end="2025-03-14")],
        pump_events=[{"at": "2025-03-05T10:00:00-06:00", "type": "start", "rate": "2 mL/h"}],
        discontinued_at="2025-03-14T18:00:00-05:00",
    )
    claim = bill(ep, policy(prior_authorization_required=True))
    assert claim.held_days == []
    assert [
        (ln.from_.isoformat(), ln.to.isoformat(), ln.authorization) for ln in lines_of(claim, "per_diem")
    ] == [
        ("2025-03-05", "2025-03-09", "PA-B"),
        ("2025-03-10", "2025-03-14", "PA-A"),
    ]


# --- prior authorization: one pool of units per authorization (DOMAIN §9) ---------------------


def _two_modes(switch: str, first: str = "intermittent") -> Any:
    """No pump log: one order's mode up to the day before `switch`, the other's from it."""
    second = "continuous" if first == "intermittent" else "intermittent"
    day_before = date.fromisoformat(switch).toordinal() - 1
    orders = [
        _order(end=date.fromordinal(day_before).isoformat(), mode=first),
        _order(id="O-2", start=switch, mode=second),
    ]
    return {"pump_events": [], "orders": orders}


def test_auth_units_are_one_pool_shared_by_every_code_it_lists() -> None:
    auth = _auth(units=10, codes=["S9326", "S9327"])
    ep = episode(coverage=dict(BASE["coverage"], prior_authorization=auth), **_two_modes("2025-03-08"))
    claim = bill(ep, policy(prior_authorization_required=True))
    assert per_diem(claim) == [
        ("S9327", [], "2025-03-03", "2025-03-07", 5),
        ("S9326", [], "2025-03-08", "2025-03-12", 5),
    ]
    held = [h.date.isoformat() for h in claim.held_days if h.rule == "auth.units_exceeded"]
    assert held == [f"2025-03-{d}" for d in range(13, 32)]


def test_auth_units_exceeded_holds_the_latest_days_whatever_their_code() -> None:
    auth = _auth(units=15, codes=["S9326", "S9327"])
    ep = episode(
        coverage=dict(BASE["coverage"], prior_authorization=auth),
        **_two_modes("2025-03-21", first="continuous"),
    )
    claim = bill(ep, policy(prior_authorization_required=True))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-17", 15)]
    assert [h.date.isoformat() for h in claim.held_days] == [f"2025-03-{d}" for d in range(18, 32)]
    message = next(f.message for f in claim.findings if f.rule == "auth.units_exceeded")
    assert "15 S9326/S9327 unit(s) prior authorization PA-1" in message


def test_auth_units_pool_is_not_used_by_days_held_for_documentation() -> None:
    kept = [n for n in BASE["progress_notes"] if n["date"] not in ("2025-03-04", "2025-03-09")]
    auth = _auth(units=27, codes=["S9326", "S9327"])
    ep = episode(
        coverage=dict(BASE["coverage"], prior_authorization=auth),
        progress_notes=kept,
        **_two_modes("2025-03-08"),
    )
    claim = bill(ep, policy(prior_authorization_required=True))
    assert [(h.date.isoformat(), h.rule) for h in claim.held_days] == [
        ("2025-03-04", "note.missing"),
        ("2025-03-09", "note.missing"),
    ]


def test_span_lines_split_where_the_authorization_changes() -> None:
    auths = [_auth(end="2025-03-15", codes=["S9326", "S9327"]), _auth(number="PA-2", start="2025-03-16")]
    for line_format in ("span", "calendar_month"):
        claim = bill(_covered(auths), policy(prior_authorization_required=True, line_format=line_format))
        assert [(ln[2], ln[3], ln[4]) for ln in per_diem(claim)] == [
            ("2025-03-03", "2025-03-15", 13),
            ("2025-03-16", "2025-03-31", 16),
        ]
        assert [ln.authorization for ln in lines_of(claim, "per_diem")] == ["PA-1", "PA-2"]


# --- the Medicare refusal names the episode's own drugs (DOMAIN §9) ---------------------------


def _medicare_message(ep: Any) -> str:
    claim = bill(ep, policy(payer_kind="medicare", claim_filing_indicator="MB"))
    return next(f.message for f in claim.findings if f.rule == "payer.no_s_codes")


def test_payer_no_s_codes_names_the_episodes_own_drug_j_codes() -> None:
    assert "with the drug's J-code (J2270) and KX, GA or GZ" in _medicare_message(episode())
    order = _order(drug=["hydromorphone", "bupivacaine"])
    assert "the drugs' J-codes (J0665, J1170)" in _medicare_message(episode(orders=[order]))


def test_payer_no_s_codes_names_j7799_only_for_a_drug_without_a_code() -> None:
    assert "J7799" not in _medicare_message(episode())
    ketamine = dispense("ketamine", "500")
    assert "the drugs' J-codes (J2270, J7799)" in _medicare_message(episode(dispenses=[ketamine]))


# --- timely filing ----------------------------------------------------------------------------


def test_timely_filing_near_counts_exact_days_not_rounded_ones() -> None:
    # 80 % of 33 days is 26.4: day 26 is still short of it, day 27 is past it.
    pol = policy(timely_filing_days=33)
    assert "timely_filing.near" not in rules(bill(pol=pol, as_of=date(2025, 4, 26)))
    assert "timely_filing.near" in rules(bill(pol=pol, as_of=date(2025, 4, 27)), "warning")


def test_claim_x12_invalid_holds_a_ready_claim_whose_clm02_and_sv102_are_too_long() -> None:
    from decimal import Decimal

    from hitclaims.inputs.loading import PolicyBook
    from hitclaims.services.billing import Setup, guard_sendable

    # Every input within its bounds, yet 99,999,999,900 units at 999,999,999.99 a unit is a
    # 20-digit charge: the engine calls it ready, the 837 check holds it.
    grams = dispense("morphine", "999999999", quantity="999999999", amount_unit="g")
    provider = PROVIDER.model_copy(update={"charges": {**PROVIDER.charges, "J2270": Decimal("999999999.99")}})
    claim = bill(episode(dispenses=[grams]), provider=provider)
    assert claim.status == "ready"
    [guarded] = guard_sendable([claim], Setup(load_catalog(), PolicyBook({}), provider))
    assert guarded.status == "held"
    [finding] = [f for f in guarded.findings if f.rule == "claim.x12_invalid"]
    assert (finding.severity, finding.holds) == ("error", "claim")
    assert "element CLM02: 20 characters, the 837P allows 1 to 18" in finding.message
    assert "99999999899000007251" not in finding.message
