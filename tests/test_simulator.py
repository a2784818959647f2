"""The payer simulator: every 835 it writes passes pyx12, money is conserved for any settings,
reading back what it wrote gives the same money, and its answer matches every line we billed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitclaims.core.adjudication import SimulatorSettings, adjudicate
from hitclaims.core.claim import Claim
from hitclaims.core.matching import match_remittance
from hitclaims.core.remittance import Remittance, balance_findings, claim_states, line_state
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.formats.x12.remit_835 import read_835
from hitclaims.formats.x12.validate import validate_x12
from tests.builders import bill, episode, policy

PAID_ON = date(2025, 4, 20)
ENVELOPE = Envelope("12345", "PRAIRIEHIT", datetime(2025, 4, 20, 9, 0), 77)  # noqa: DTZ001


@pytest.fixture(scope="module")
def claims() -> list[Claim]:
    first = bill()
    daily = bill(
        episode(episode_id="EP-T2"), policy(line_format="daily", id="daily-payer", x12_payer_id="67890")
    )
    return [first, daily]


def write(remits: list[Remittance]) -> str:
    from hitclaims.formats.x12.write_835 import write_835

    return write_835(remits, ENVELOPE)


def money(remit: Remittance) -> list[tuple[object, ...]]:
    return [(remit.payment.amount, remit.trace_number)] + [
        (
            c.claim_id,
            c.status_code,
            c.charge,
            c.paid,
            c.patient_responsibility,
            tuple((x.code, x.charge, x.paid, x.units, x.line_control, tuple(x.adjustments)) for x in c.lines),
        )
        for c in remit.claims
    ]


def test_every_simulated_835_passes_pyx12(claims: list[Claim]) -> None:
    denied_line = f"{claims[1].claim_id}#2"
    run = SimulatorSettings(
        PAID_ON,
        seed=5,
        patient_share={"test-payer": Decimal("0.2")},
        deny_authorization=frozenset({denied_line}),
        deny_timely_filing=frozenset({claims[0].claim_id}),
    )
    text = write(adjudicate(claims, run))
    report = validate_x12(text)
    assert report.valid, [p.sentence() for p in report.problems]


def test_denials_for_authorization_and_timely_filing(claims: list[Claim]) -> None:
    run = SimulatorSettings(
        PAID_ON,
        deny_timely_filing=frozenset({claims[0].claim_id}),
        deny_authorization=frozenset({f"{claims[1].claim_id}#1"}),
    )
    first, second = adjudicate(claims, run)
    assert claim_states(first.claims) == ["denied"]
    assert first.claims[0].status_code == "4"
    assert {a.code for line in first.claims[0].lines for a in line.adjustments} == {"CO-29"}
    assert second.claims[0].lines[0].adjustments[0].code == "CO-197"
    assert second.claims[0].lines[0].remarks == ("M62",)
    assert [line_state(x) for x in second.claims[0].lines[:2]] == ["denied", "paid"]


def test_same_seed_same_remittance(claims: list[Claim]) -> None:
    run = SimulatorSettings(PAID_ON, seed=9, authorization_denial_rate=Decimal("0.3"))
    assert adjudicate(claims, run) == adjudicate(claims, run)


def test_simulated_answer_matches_every_line_we_billed(claims: list[Claim]) -> None:
    (remit,) = read_835(write(adjudicate(claims[:1], SimulatorSettings(PAID_ON))))
    result = match_remittance(remit, claims[:1])
    assert result.unmatched == ()
    assert result.findings == ()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    share=st.decimals(min_value=0, max_value=1, places=2),
    rate=st.decimals(min_value=0, max_value=1, places=1),
)
def test_money_is_conserved_and_reads_back_the_same(
    claims: list[Claim], seed: int, share: Decimal, rate: Decimal
) -> None:
    run = SimulatorSettings(
        PAID_ON,
        seed=seed,
        patient_share={"test-payer": share, "daily-payer": share},
        authorization_denial_rate=rate,
    )
    remits = adjudicate(claims, run)
    for remit in remits:
        assert balance_findings(remit) == []
    text = write(remits)
    assert validate_x12(text).valid
    back = read_835(text)
    assert [money(r) for r in back] == [money(r) for r in remits]
