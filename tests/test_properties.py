"""Invariants that must hold for any episode (hypothesis)."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitclaims.core.claim import Claim, Result
from hitclaims.core.engine import bill_episode
from hitclaims.core.records import Episode
from hitclaims.formats.result_json import render_json

from .builders import CATALOG, PROVIDER
from .strategies import scenarios

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(data: dict[str, Any], pol: Any, period: Any) -> list[Claim]:
    episode = Episode.model_validate_json(json.dumps(data))
    return bill_episode(episode, pol, CATALOG, PROVIDER, period, period.end + timedelta(days=2))


def per_diem_days(claims: list[Claim]) -> list[Any]:
    days = []
    for claim in claims:
        for line in claim.lines:
            if line.kind == "per_diem":
                days.extend(line.days)
    return days


@SETTINGS
@given(scenarios())
def test_never_two_per_diem_units_for_one_therapy_on_one_day(case: Any) -> None:
    days = per_diem_days(run(*case))
    assert not [d for d, n in Counter(days).items() if n > 1]


@SETTINGS
@given(scenarios())
def test_per_diem_units_equal_the_billed_days(case: Any) -> None:
    claims = run(*case)
    units = sum(line.units for c in claims for line in c.lines if line.kind == "per_diem")
    billed = [row.date for row in claims[0].ledger if row.status == "billed"]
    assert units == len(billed) == len(per_diem_days(claims))
    assert sorted(per_diem_days(claims)) == billed


@SETTINGS
@given(scenarios())
def test_claim_total_equals_the_sum_of_its_lines(case: Any) -> None:
    for claim in run(*case):
        assert claim.total_charge == sum((line.charge for line in claim.lines), start=claim.total_charge * 0)
        assert claim.total_charge.as_tuple().exponent == -2
        assert len(claim.lines) <= 50


@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_input_events(case: Any, rnd: random.Random) -> None:
    data, pol, period = case
    shuffled = json.loads(json.dumps(data))
    for key in (
        "pump_events",
        "holds",
        "progress_notes",
        "dispenses",
        "nursing_visits",
        "concurrent_therapies",
        "supplies",
    ):
        rnd.shuffle(shuffled[key])
    first = render_json(Result(claims=run(data, pol, period)))
    second = render_json(Result(claims=run(shuffled, pol, period)))
    assert first == second


@SETTINGS
@given(scenarios())
def test_billing_twice_gives_byte_identical_output(case: Any) -> None:
    assert render_json(Result(claims=run(*case))) == render_json(Result(claims=run(*case)))


@SETTINGS
@given(scenarios())
def test_dst_days_count_once_and_the_ledger_has_one_row_per_day_with_reasons(case: Any) -> None:
    claim = run(*case)[0]
    dates = [row.date for row in claim.ledger]
    assert len(dates) == len(set(dates))
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(dates))
    assert all(row.reasons for row in claim.ledger)
    assert all(row.units in (0, 1) for row in claim.ledger)


@SETTINGS
@given(scenarios())
def test_the_line_format_never_changes_which_days_are_billed(case: Any) -> None:
    data, pol, period = case
    billed = {
        fmt: sorted(per_diem_days(run(data, pol.model_copy(update={"line_format": fmt}), period)))
        for fmt in ("daily", "span", "calendar_month")
    }
    assert billed["daily"] == billed["span"] == billed["calendar_month"]


@SETTINGS
@given(scenarios())
def test_a_held_or_refused_day_always_says_why(case: Any) -> None:
    claim = run(*case)[0]
    for row in claim.ledger:
        if row.status == "held":
            assert row.held_by
            assert any(r.startswith("held: ") for r in row.reasons)
    held = {(h.date, h.rule) for h in claim.held_days}
    assert held == {(row.date, rule) for row in claim.ledger for rule in row.held_by}


@SETTINGS
@given(scenarios())
def test_every_claim_reads_back_from_its_json_unchanged(case: Any) -> None:
    """What the engine builds survives its own JSON: read back, it is the same claim, field for
    field (what is stored and sent is what was decided)."""
    data, pol, period = case
    for claim in run(data, pol, period):
        again = Claim.model_validate_json(claim.model_dump_json(by_alias=True))
        assert again.model_dump(by_alias=True) == claim.model_dump(by_alias=True)
        assert again == claim
