"""DOMAIN §3, the billable day: one test per rule, named after it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.core.errors import InputError

from .builders import (
    AS_OF,
    CATALOG,
    MARCH,
    PROVIDER,
    bill,
    billed_dates,
    days,
    episode,
    ledger_row,
    notes,
    per_diem,
    policy,
    rules,
)


def ev(at: str, kind: str, rate: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"at": at, "type": kind}
    if rate:
        event["rate"] = rate
    return event


# --- 3.1 runs ---------------------------------------------------------------------------------


def test_runs_separated_by_a_gap_within_continuity_gap_minutes_merge_into_one_run() -> None:
    events = [
        ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"),
        ev("2025-03-04T09:00:00-06:00", "stop"),  # 23 h
        ev("2025-03-04T10:30:00-06:00", "start", "2 mL/h"),  # 90 min later
        ev("2025-03-04T12:00:00-06:00", "stop"),
    ]
    ep = episode(pump_events=events, discontinued_at="2025-03-04T12:00:00-06:00")
    merged = bill(ep, policy(continuity_gap_minutes=120))
    assert per_diem(merged) == [("S9326", [], "2025-03-03", "2025-03-04", 2)]
    split = bill(ep, policy(continuity_gap_minutes=60))
    assert per_diem(split) == [("S9327", [], "2025-03-03", "2025-03-04", 2)]


def test_a_merged_run_lasts_from_its_first_start_to_its_last_stop() -> None:
    events = [
        ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"),
        ev("2025-03-03T22:00:00-06:00", "stop"),  # 12 h
        ev("2025-03-03T23:00:00-06:00", "start", "2 mL/h"),
        ev("2025-03-04T10:30:00-06:00", "stop"),  # 24.5 h from the first start, gap included
    ]
    claim = bill(episode(pump_events=events, discontinued_at="2025-03-04T10:30:00-06:00"))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-04", 2)]


def test_a_run_with_no_stop_ends_at_the_permanent_discontinuation() -> None:
    events = [ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h")]
    claim = bill(episode(pump_events=events, discontinued_at="2025-03-05T09:00:00-06:00"))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-05", 3)]
    assert "the permanent discontinuation" in " ".join(ledger_row(claim, "2025-03-04").reasons)


def test_a_run_with_no_stop_and_no_discontinuation_ends_at_the_end_of_the_billing_period() -> None:
    # Started on the last afternoon of the period: 14 hours up to local midnight, so intermittent.
    events = [ev("2025-03-31T10:00:00-05:00", "start", "2 mL/h")]
    ep = episode(pump_events=events, orders=[_order(start="2025-03-31")])
    claim = bill(ep)
    assert per_diem(claim) == [("S9327", [], "2025-03-31", "2025-03-31", 1)]
    assert "end of the billing period" in " ".join(ledger_row(claim, "2025-03-31").reasons)


def test_durations_are_elapsed_time_not_wall_clock_across_spring_forward() -> None:
    # 12:00 CST to 12:00 CDT the next day reads as 24 h on the wall clock but is 23 h elapsed.
    events = [ev("2025-03-08T12:00:00-06:00", "start", "2 mL/h"), ev("2025-03-09T12:00:00-05:00", "stop")]
    ep = episode(
        pump_events=events, orders=[_order(start="2025-03-08")], discontinued_at="2025-03-09T12:00:00-05:00"
    )
    assert per_diem(bill(ep)) == [("S9327", [], "2025-03-08", "2025-03-09", 2)]


def test_durations_are_elapsed_time_not_wall_clock_across_fall_back() -> None:
    # 12:00 CDT to 11:30 CST the next day reads as 23.5 h on the wall clock but is 24.5 h elapsed.
    events = [ev("2025-11-01T12:00:00-05:00", "start", "2 mL/h"), ev("2025-11-02T11:30:00-06:00", "stop")]
    ep = episode(
        pump_events=events,
        orders=[_order(start="2025-11-01")],
        discontinued_at="2025-11-02T11:30:00-06:00",
        progress_notes=notes("2025-11-01", "2025-11-02"),
    )
    period = Period(date(2025, 11, 1), date(2025, 11, 30))
    assert per_diem(bill(ep, period=period, as_of=date(2025, 12, 1))) == [
        ("S9326", [], "2025-11-01", "2025-11-02", 2)
    ]


def test_a_run_of_24_hours_or_more_is_continuous() -> None:
    events = [ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"), ev("2025-03-04T10:00:00-06:00", "stop")]
    ep = episode(pump_events=events, discontinued_at="2025-03-04T10:00:00-06:00")
    assert per_diem(bill(ep)) == [("S9326", [], "2025-03-03", "2025-03-04", 2)]


# --- 3.2 therapy period -----------------------------------------------------------------------


def test_the_therapy_period_starts_on_the_first_day_of_the_first_order() -> None:
    claim = bill()
    assert claim.ledger[0].date == date(2025, 3, 3)
    assert len(claim.ledger) == 29


def test_the_therapy_period_ends_on_the_day_of_permanent_discontinuation() -> None:
    events = [ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"), ev("2025-03-10T08:00:00-05:00", "stop")]
    claim = bill(episode(pump_events=events, discontinued_at="2025-03-10T08:00:00-05:00"))
    assert claim.ledger[-1].date == date(2025, 3, 10)
    assert billed_dates(claim) == days("2025-03-03", "2025-03-10")


def test_a_dst_day_is_one_calendar_day_and_one_unit() -> None:
    claim = bill()
    assert [row.date for row in claim.ledger].count(date(2025, 3, 9)) == 1
    assert ledger_row(claim, "2025-03-09").units == 1


# --- 3.3 at home ------------------------------------------------------------------------------


def test_a_day_wholly_inside_a_hold_is_not_at_home() -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    claim = bill(episode(holds=[hold]))
    row = ledger_row(claim, "2025-03-11")
    assert row.status == "not_billable"
    assert row.code is None
    assert "inpatient hold 2025-03-10 08:00 to 2025-03-12 16:00 covers the whole day" in row.reasons
    assert "2025-03-10" in billed_dates(claim)
    assert "2025-03-12" in billed_dates(claim)


def test_the_admission_day_is_not_billed_when_the_policy_says_bill_admission_day_false() -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    claim = bill(episode(holds=[hold]), policy(bill_admission_day=False))
    assert ledger_row(claim, "2025-03-10").status == "not_billable"
    assert "bill_admission_day: false" in " ".join(ledger_row(claim, "2025-03-10").reasons)
    assert ledger_row(claim, "2025-03-12").status == "billed"


def test_the_discharge_day_is_not_billed_when_the_policy_says_bill_discharge_day_false() -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    claim = bill(episode(holds=[hold]), policy(bill_discharge_day=False))
    assert ledger_row(claim, "2025-03-10").status == "billed"
    assert ledger_row(claim, "2025-03-12").status == "not_billable"


def test_back_to_back_holds_together_cover_a_day() -> None:
    holds = [
        {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-11T12:00:00-05:00", "reason": "inpatient"},
        {
            "start": "2025-03-11T12:00:00-05:00",
            "end": "2025-03-13T09:00:00-05:00",
            "reason": "skilled_nursing",
        },
    ]
    claim = bill(episode(holds=holds))
    assert ledger_row(claim, "2025-03-11").status == "not_billable"
    assert ledger_row(claim, "2025-03-12").status == "not_billable"
    assert ledger_row(claim, "2025-03-13").status == "billed"


def test_a_hold_with_no_end_keeps_every_later_day_off_the_claim() -> None:
    claim = bill(episode(holds=[{"start": "2025-03-20T08:00:00-05:00", "reason": "hospice"}]))
    assert ledger_row(claim, "2025-03-20").status == "billed"  # admission day, at home part
    assert all(row.status == "not_billable" for row in claim.ledger if row.date > date(2025, 3, 20))


# --- 3.4 billable day -------------------------------------------------------------------------

_GAP_EVENTS = [
    ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"),
    ev("2025-03-05T10:00:00-06:00", "stop"),
    ev("2025-03-08T10:00:00-06:00", "start", "2 mL/h"),
]


def test_access_days_bill_every_at_home_day_of_the_therapy_period() -> None:
    claim = bill(episode(pump_events=_GAP_EVENTS), policy(billable_day="access"))
    assert billed_dates(claim) == days("2025-03-03", "2025-03-31")


def test_infusion_days_bill_only_days_a_run_overlaps_the_at_home_part() -> None:
    claim = bill(episode(pump_events=_GAP_EVENTS), policy(billable_day="infusion"))
    assert "2025-03-06" not in billed_dates(claim)
    assert "2025-03-07" not in billed_dates(claim)
    assert {"2025-03-05", "2025-03-08"} <= set(billed_dates(claim))
    assert "not an infusion day" in " ".join(ledger_row(claim, "2025-03-06").reasons)


def test_infusion_days_count_a_day_with_a_nursing_visit() -> None:
    visit = {
        "date": "2025-03-06",
        "start": "2025-03-06T10:00:00-06:00",
        "end": "2025-03-06T11:00:00-06:00",
        "credential": "RN",
        "note": "Site care.",
    }
    claim = bill(episode(pump_events=_GAP_EVENTS, nursing_visits=[visit]), policy(billable_day="infusion"))
    assert "2025-03-06" in billed_dates(claim)
    assert "2025-03-07" not in billed_dates(claim)


def test_an_infusion_only_inside_a_hold_does_not_make_an_infusion_day() -> None:
    # The pump keeps running in hospital and is stopped on the morning of the discharge day.
    events = [
        ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"),
        ev("2025-03-07T10:00:00-06:00", "stop"),
        ev("2025-03-09T10:00:00-05:00", "start", "2 mL/h"),
    ]
    hold = {"start": "2025-03-05T09:00:00-06:00", "end": "2025-03-07T12:00:00-06:00", "reason": "inpatient"}
    claim = bill(episode(pump_events=events, holds=[hold]), policy(billable_day="infusion"))
    assert ledger_row(claim, "2025-03-07").status == "not_billable"  # ran only before discharge
    assert ledger_row(claim, "2025-03-05").status == "billed"  # admission day, ran at home first
    # Access days do not look at the run: the discharge day is billed.
    assert ledger_row(bill(episode(pump_events=events, holds=[hold])), "2025-03-07").status == "billed"


def test_elapsed_24h_a_continuous_run_is_worth_floor_hours_over_24_units_on_its_first_days() -> None:
    # 93 hours: 3 units, dated to the run's first three days; the 4th and 5th days are not billed.
    events = [ev("2025-03-10T14:00:00-05:00", "start", "5 mL/h"), ev("2025-03-14T11:00:00-05:00", "stop")]
    ep = episode(
        pump_events=events, orders=[_order(start="2025-03-10")], discontinued_at="2025-03-14T11:00:00-05:00"
    )
    claim = bill(ep, policy(billable_day="elapsed_24h"))
    assert billed_dates(claim) == ["2025-03-10", "2025-03-11", "2025-03-12"]
    assert "already paid all its units" in " ".join(ledger_row(claim, "2025-03-13").reasons)


def test_elapsed_24h_a_continuous_run_shorter_than_48_hours_is_still_one_unit() -> None:
    events = [ev("2025-03-10T14:00:00-05:00", "start", "5 mL/h"), ev("2025-03-12T10:00:00-05:00", "stop")]
    ep = episode(
        pump_events=events, orders=[_order(start="2025-03-10")], discontinued_at="2025-03-12T10:00:00-05:00"
    )
    assert billed_dates(bill(ep, policy(billable_day="elapsed_24h"))) == ["2025-03-10"]


def test_elapsed_24h_intermittent_days_count_one_each() -> None:
    events = []
    for d in ("2025-03-10", "2025-03-11", "2025-03-13"):
        events += [ev(f"{d}T08:00:00-05:00", "start", "100 mL/h"), ev(f"{d}T09:00:00-05:00", "stop")]
    ep = episode(pump_events=events, orders=[_order(start="2025-03-10", mode="intermittent")])
    claim = bill(ep, policy(billable_day="elapsed_24h"))
    assert billed_dates(claim) == ["2025-03-10", "2025-03-11", "2025-03-13"]
    assert {ln[0] for ln in per_diem(claim)} == {"S9327"}


# --- 3.5 the code of a day --------------------------------------------------------------------


def test_an_implanted_pump_bills_s9328() -> None:
    therapy = {"category": "pain_management", "device": "implanted_pump", "route": "intrathecal"}
    assert per_diem(bill(episode(therapy=therapy))) == [("S9328", [], "2025-03-03", "2025-03-31", 29)]


def test_a_nonspecific_payer_gets_s9325_and_never_a_specific_pain_code() -> None:
    claim = bill(pol=policy(pain_code="nonspecific", fee_schedule={"S9325": "150.00"}))
    assert {ln[0] for ln in per_diem(claim)} == {"S9325"}


def test_a_day_touched_by_a_continuous_run_is_s9326() -> None:
    assert {ln[0] for ln in per_diem(bill())} == {"S9326"}


def test_a_day_with_only_intermittent_runs_is_s9327() -> None:
    events = [ev("2025-03-10T08:00:00-05:00", "start", "100 mL/h"), ev("2025-03-10T10:00:00-05:00", "stop")]
    ep = episode(
        pump_events=events, orders=[_order(start="2025-03-10", end="2025-03-10", mode="intermittent")]
    )
    claim = bill(ep, period=Period(date(2025, 3, 10), date(2025, 3, 10)))
    assert per_diem(claim) == [("S9327", [], "2025-03-10", "2025-03-10", 1)]


def test_an_access_day_without_a_run_takes_the_code_of_the_nearest_earlier_coded_day() -> None:
    claim = bill(episode(pump_events=_GAP_EVENTS))
    row = ledger_row(claim, "2025-03-06")
    assert row.code == "S9326"
    assert "the code of 2025-03-05 (S9326) carries over" in " ".join(row.reasons)


def test_an_access_day_before_any_run_takes_the_orders_mode() -> None:
    events = [ev("2025-03-05T08:00:00-06:00", "start", "100 mL/h"), ev("2025-03-05T09:00:00-06:00", "stop")]
    ep = episode(pump_events=events, orders=[_order(mode="intermittent")])
    claim = bill(ep)
    assert ledger_row(claim, "2025-03-03").code == "S9327"
    assert "order's mode (intermittent)" in " ".join(ledger_row(claim, "2025-03-03").reasons)


# --- 3.6 no pump log --------------------------------------------------------------------------


def test_with_no_pump_log_runs_come_from_the_orders_and_the_claim_is_warned() -> None:
    claim = bill(episode(pump_events=[]))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-31", 29)]
    assert "continuity.no_pump_log" in rules(claim, "warning")
    assert claim.status == "ready"


def test_with_no_pump_log_an_intermittent_order_gives_s9327_days() -> None:
    ep = episode(pump_events=[], orders=[_order(end="2025-03-07", mode="intermittent")])
    assert per_diem(bill(ep)) == [("S9327", [], "2025-03-03", "2025-03-07", 5)]


# --- 3.7 / 3.8 --------------------------------------------------------------------------------


def test_one_unit_per_therapy_per_day_whatever_the_duplicates() -> None:
    events = [ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h")] * 3 + [
        ev("2025-03-03T11:00:00-06:00", "start", "2 mL/h")
    ]
    orders = [_order(), _order(order_id="O-2")]
    claim = bill(episode(pump_events=events, orders=orders))
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-31", 29)]


def test_every_day_of_the_therapy_period_has_a_ledger_row_with_reasons() -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    claim = bill(episode(holds=[hold], pump_events=_GAP_EVENTS), policy(billable_day="infusion"))
    assert [row.date.isoformat() for row in claim.ledger] == days("2025-03-03", "2025-03-31")
    for row in claim.ledger:
        assert row.reasons
        assert row.reasons[0].startswith("therapy period from 2025-03-03")


def _order(
    start: str = "2025-03-03",
    end: str | None = None,
    mode: str = "continuous",
    order_id: str = "O-1",
) -> dict[str, Any]:
    return {
        "id": order_id,
        "signed_at": "2025-03-01T16:00:00-06:00",
        "start": start,
        "end": end,
        "drug": "morphine",
        "dose": "2 mg/h",
        "rate": "2 mL/h",
        "mode": mode,
    }


def test_a_pump_log_that_begins_with_a_stop_takes_the_runs_start_from_the_first_order() -> None:
    events = [ev("2025-03-05T10:00:00-06:00", "stop"), ev("2025-03-06T10:00:00-06:00", "start", "2 mL/h")]
    claim = bill(episode(pump_events=events), policy(billable_day="infusion"))
    assert billed_dates(claim) == days("2025-03-03", "2025-03-31")
    assert "start taken from order O-1" in " ".join(ledger_row(claim, "2025-03-04").reasons)


def test_a_day_billed_only_for_a_nursing_visit_is_intermittent_not_a_carried_over_s9326() -> None:
    events = [ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"), ev("2025-03-05T10:00:00-06:00", "stop")]
    visit = {
        "date": "2025-03-10",
        "start": "2025-03-10T10:00:00-05:00",
        "end": "2025-03-10T11:00:00-05:00",
        "credential": "RN",
        "note": "Infusion given.",
    }
    claim = bill(episode(pump_events=events, nursing_visits=[visit]), policy(billable_day="infusion"))
    assert ledger_row(claim, "2025-03-10").code == "S9327"
    assert ledger_row(claim, "2025-03-04").code == "S9326"


def test_a_nonspecific_payer_gets_s9325_even_for_an_implanted_pump() -> None:
    therapy = {"category": "pain_management", "device": "implanted_pump", "route": "intrathecal"}
    claim = bill(episode(therapy=therapy), policy(pain_code="nonspecific", fee_schedule={"S9325": "150.00"}))
    assert {ln[0] for ln in per_diem(claim)} == {"S9325"}


def test_a_discontinuation_at_local_midnight_ends_the_therapy_the_day_before() -> None:
    events = [ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h")]
    claim = bill(episode(pump_events=events, discontinued_at="2025-03-20T00:00:00-05:00"))
    assert claim.ledger[-1].date == date(2025, 3, 19)
    assert per_diem(claim) == [("S9326", [], "2025-03-03", "2025-03-19", 17)]


def test_elapsed_24h_says_a_run_still_running_at_the_period_end_is_not_yet_a_whole_unit() -> None:
    claim = bill(pol=policy(billable_day="elapsed_24h"))
    row = ledger_row(claim, "2025-03-31")
    assert row.status == "not_billable"
    assert "still running at the end of the billing period" in row.reasons[-1]


def test_elapsed_24h_a_short_run_on_a_day_a_continuous_run_touches_adds_no_unit() -> None:
    # 30 hours (one unit, dated to 03-10), then a one-hour run late on 03-11: 03-11 is touched by
    # the continuous run, so the short run adds nothing; before the fix it billed a second S9326.
    events = [
        ev("2025-03-10T10:00:00-05:00", "start", "5 mL/h"),
        ev("2025-03-11T16:00:00-05:00", "stop"),
        ev("2025-03-11T20:00:00-05:00", "start", "5 mL/h"),
        ev("2025-03-11T21:00:00-05:00", "stop"),
        ev("2025-03-13T08:00:00-05:00", "start", "5 mL/h"),
        ev("2025-03-13T09:00:00-05:00", "stop"),
    ]
    ep = episode(
        pump_events=events, orders=[_order(start="2025-03-10")], discontinued_at="2025-03-13T12:00:00-05:00"
    )
    claim = bill(ep, policy(billable_day="elapsed_24h"))
    assert per_diem(claim) == [
        ("S9326", [], "2025-03-10", "2025-03-10", 1),
        ("S9327", [], "2025-03-13", "2025-03-13", 1),
    ]
    assert "a run under 24 hours on such a day adds none" in ledger_row(claim, "2025-03-11").reasons[-1]


def test_a_hold_within_one_day_is_both_its_admission_and_its_discharge_day() -> None:
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-10T16:00:00-05:00", "reason": "other"}
    ep = episode(holds=[hold])
    assert ledger_row(bill(ep), "2025-03-10").status == "billed"
    assert ledger_row(bill(ep, policy(bill_admission_day=False)), "2025-03-10").status == "not_billable"
    assert ledger_row(bill(ep, policy(bill_discharge_day=False)), "2025-03-10").status == "not_billable"


def test_a_day_billed_only_for_a_nursing_visit_is_s9327_even_when_a_run_touched_its_hold_part() -> None:
    # The pump ran in hospital until the morning of the discharge day; at home that afternoon the
    # nurse gave the infusion. The day is billed for the visit alone, so it is intermittent.
    events = [ev("2025-03-03T10:00:00-06:00", "start", "2 mL/h"), ev("2025-03-10T10:00:00-05:00", "stop")]
    hold = {"start": "2025-03-08T09:00:00-06:00", "end": "2025-03-10T12:00:00-05:00", "reason": "inpatient"}
    visit = {
        "date": "2025-03-10",
        "start": "2025-03-10T14:00:00-05:00",
        "end": "2025-03-10T15:00:00-05:00",
        "credential": "RN",
        "note": "Infusion given.",
    }
    ep = episode(pump_events=events, holds=[hold], nursing_visits=[visit])
    row = ledger_row(bill(ep, policy(billable_day="infusion")), "2025-03-10")
    assert (row.status, row.code) == ("billed", "S9327")
    assert "no pump run at home on this day" in row.reasons[-1]


# --- the codes come from the catalog ----------------------------------------------------------


def _catalog_with(old: str, **changes: Any) -> Any:
    entry = CATALOG.per_diem[old].model_copy(update=changes)
    per_diem = {k: v for k, v in CATALOG.per_diem.items() if k != old} | {entry.code: entry}
    return CATALOG.model_copy(update={"per_diem": per_diem})


def test_per_diem_codes_come_from_the_catalog_by_therapy_and_kind() -> None:
    catalog = _catalog_with("S9326", code="S9399")
    (claim,) = bill_episode(episode(), policy(), catalog, PROVIDER, MARCH, AS_OF)
    assert per_diem(claim) == [("S9399", [], "2025-03-03", "2025-03-31", 29)]


def test_excludes_keep_the_non_specific_code_apart_from_the_specific_ones_on_one_claim() -> None:
    # Intermittent days, then continuous ones: a specific payer bills both S9327 and S9326, a
    # non-specific payer only S9325, and no claim carries codes the catalog's excludes forbid.
    orders = [
        _order(end="2025-03-09", mode="intermittent"),
        _order(start="2025-03-10", order_id="O-2"),
    ]
    ep = episode(pump_events=[], orders=orders)
    specific = {ln[0] for ln in per_diem(bill(ep))}
    nonspecific = {ln[0] for ln in per_diem(bill(ep, policy(pain_code="nonspecific")))}
    assert (specific, nonspecific) == ({"S9326", "S9327"}, {"S9325"})
    assert CATALOG.exclusions(specific) == CATALOG.exclusions(nonspecific) == []
    assert CATALOG.exclusions(specific | nonspecific)


def test_a_catalog_whose_codes_for_one_claim_exclude_each_other_is_unusable() -> None:
    catalog = _catalog_with("S9326", excludes=["S9325", "S9327"])
    with pytest.raises(InputError) as refused:
        bill_episode(episode(), policy(), catalog, PROVIDER, MARCH, AS_OF)
    assert (refused.value.file, refused.value.field) == ("per_diem_codes.yaml", "excludes")
    assert "S9326 excludes S9327" in str(refused.value)


# --- a far-off period costs what its own days cost (issue 8, item 5) -----------------------------


def _decided_days(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> tuple[int, Any]:
    from hitclaims.core.home import home_status

    looked_at: list[date] = []

    def counted(day: date, *args: Any) -> Any:
        looked_at.append(day)
        return home_status(day, *args)

    monkeypatch.setattr("hitclaims.core.per_diem.home_status", counted)
    far = Period(date(2199, 3, 1), date(2199, 3, 31))
    claim = bill(pol=policy(**settings), period=far, as_of=date(2199, 4, 2))
    return len(looked_at), claim


@pytest.mark.parametrize("billable_day", ["access", "infusion"])
def test_a_ledger_for_year_2199_decides_only_the_periods_days(
    monkeypatch: pytest.MonkeyPatch, billable_day: str
) -> None:
    # The therapy began in March 2025 and never stopped: 174 years of days before the period.
    looked_at, claim = _decided_days(monkeypatch, billable_day=billable_day)
    assert looked_at == 31
    assert [row.date for row in claim.ledger] == [date(2199, 3, d) for d in range(1, 32)]
    assert all(row.code == "S9326" for row in claim.ledger if row.billed)


def test_a_far_period_with_no_run_of_its_own_carries_the_last_run_days_code() -> None:
    intermittent = {
        **episode().orders[0].model_dump(mode="json"),
        "mode": "intermittent",
        "end": "2025-03-20",
    }
    ep = episode(orders=[intermittent], pump_events=[], progress_notes=notes("2031-06-01", "2031-06-30"))
    claim = bill(ep, period=Period(date(2031, 6, 1), date(2031, 6, 30)), as_of=date(2031, 7, 1))
    row = ledger_row(claim, "2031-06-01")
    assert row.code == "S9327"
    assert any("the code of 2025-03-20 (S9327) carries over" in reason for reason in row.reasons)
