"""Posting remittances in the store, on SQLite and on a real PostgreSQL: an 837 we sent, answered
by the simulated payer's 835, posts to every line; money is conserved or nothing is posted; the
same payment posts once; a reversal undoes exactly what it reverses; denials and A/R add up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hitclaims.core.adjudication import SimulatorSettings, adjudicate, reverse_and_correct
from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.remittance import Remittance
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.formats.x12.validate import validate_x12
from hitclaims.formats.x12.write_835 import write_835
from hitclaims.inputs.loading import parse_episode
from hitclaims.services import exports, receivables, remittances
from hitclaims.services.demo import load_demo
from hitclaims.services.runs import execute_run, start_run
from hitclaims.services.users import Person
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store.episodes import import_episode
from hitclaims.store.models import ClaimPaymentRecord, ClaimRecord, LinePaymentRecord

from .builders import CATALOG
from .databases import open_workplace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BILLER = Person("bill", "biller")
PAID_ON = date(2025, 5, 2)
CASES = (
    ("ex1-morphine-cancer", Period(date(2025, 3, 1), date(2025, 3, 31)), date(2025, 4, 2)),
    ("ex3-epidural-cocktail", Period(date(2025, 9, 1), date(2025, 9, 14)), date(2025, 9, 16)),
)


def _sent(place: Workplace) -> list[Claim]:
    """Bill the examples, send them, and return the claims as the payer has them."""
    with place.factory() as db, db.begin():
        for name, _, _ in CASES:
            import_episode(
                db, parse_episode(name, (EXAMPLES / f"{name}.json").read_text(), CATALOG), "json", [], "b"
            )
    for name, period, as_of in CASES:
        episode_id = parse_episode(name, (EXAMPLES / f"{name}.json").read_text(), CATALOG).episode_id
        execute_run(place, start_run(place, period, as_of, [episode_id], "bill"))
    exports.export_ready(place, BILLER)
    with place.factory() as db:
        rows = db.scalars(
            select(ClaimRecord).where(ClaimRecord.status == "submitted").order_by(ClaimRecord.id)
        )
        return [claim_store.claim_of(r).model_copy(update={"status": "submitted"}) for r in rows]


@pytest.fixture
def place(database_url: str) -> Iterator[Workplace]:
    opened = open_workplace(database_url)
    yield opened
    opened.close()


def _835(remits: list[Remittance], control: int = 1) -> str:
    envelope = Envelope("PAYER01", "HITCLAIMS", datetime(2025, 5, 2, 8, 0), control)  # noqa: DTZ001
    return write_835(remits, envelope)


def _payments(place: Workplace) -> list[ClaimPaymentRecord]:
    with place.factory() as db:
        return list(db.scalars(select(ClaimPaymentRecord).order_by(ClaimPaymentRecord.id)))


def _claim_totals(place: Workplace) -> dict[str, tuple[Decimal, str, str | None]]:
    with place.factory() as db:
        paid = dict(
            db.execute(
                select(ClaimPaymentRecord.claim_id, func.sum(ClaimPaymentRecord.paid)).group_by(
                    ClaimPaymentRecord.claim_id
                )
            ).all()
        )
        rows = db.scalars(select(ClaimRecord).where(ClaimRecord.status.in_(("submitted", "paid", "denied"))))
        return {r.claim_key: (Decimal(paid.get(r.id) or 0), r.status, r.payment_state) for r in rows}


def test_an_837_answered_by_the_simulated_835_posts_to_every_line(place: Workplace) -> None:
    claims = _sent(place)
    remits = adjudicate(claims, SimulatorSettings(PAID_ON, seed=3))
    text = _835(remits)
    assert validate_x12(text).valid
    done = remittances.upload(place, "payer.835", text, BILLER)
    assert [d.outcome for d in done] == ["posted"] * len(remits)
    assert sum(d.unmatched_claims for d in done) == 0
    with place.factory() as db:
        loose = db.scalar(
            select(func.count())
            .select_from(LinePaymentRecord)
            .where(LinePaymentRecord.claim_line_id.is_(None))
        )
        lines = db.scalar(select(func.count()).select_from(LinePaymentRecord))
    assert loose == 0
    assert lines == sum(len(c.lines) for c in claims)
    totals = _claim_totals(place)
    for remit in remits:
        assert sum(totals[c.claim_id][0] for c in remit.claims) == remit.payment.amount  # to the cent
    assert {status for _, status, _ in totals.values()} == {"paid"}


def test_remit_unbalanced_keeps_the_remittance_and_posts_nothing(place: Workplace) -> None:
    claims = _sent(place)
    (first, *_) = adjudicate(claims, SimulatorSettings(PAID_ON, seed=3))
    wrong = replace(first, payment=replace(first.payment, amount=first.payment.amount + Decimal("0.01")))
    (done,) = remittances.upload(place, "short.835", _835([wrong]), BILLER)
    assert done.outcome == "held"
    assert done.findings[0]["rule"] == "remit.unbalanced"
    assert done.findings[0]["amounts"]  # the amounts, as data
    assert _payments(place) == []
    posted = remittances.post_held(place, done.remittance_id, BILLER)  # a biller's decision
    assert posted.outcome == "posted"


def test_the_same_835_posted_twice_posts_once(place: Workplace) -> None:
    claims = _sent(place)
    text = _835(adjudicate(claims, SimulatorSettings(PAID_ON, seed=3)))
    remittances.upload(place, "a.835", text, BILLER)
    before = len(_payments(place))
    again = remittances.upload(place, "a-again.835", text, BILLER)
    assert {d.outcome for d in again} == {"already_posted"}
    assert len(_payments(place)) == before


def test_a_reversal_undoes_exactly_what_it_reverses(place: Workplace) -> None:
    claims = _sent(place)
    once = adjudicate(claims, SimulatorSettings(PAID_ON, seed=3))
    remittances.upload(place, "paid.835", _835(once), BILLER)
    single = _claim_totals(place)
    reversed_only = [reverse_and_correct(r, r.trace_number + "R", []) for r in once]
    remittances.upload(place, "reversal.835", _835(reversed_only, 2), BILLER)
    assert {paid for paid, _, _ in _claim_totals(place).values()} == {Decimal("0.00")}
    assert {state for _, _, state in _claim_totals(place).values()} == {"reversed"}
    corrected = [replace(r, trace_number=r.trace_number + "P") for r in once]
    remittances.upload(place, "repaid.835", _835(corrected, 3), BILLER)
    assert {k: v[0] for k, v in _claim_totals(place).items()} == {k: v[0] for k, v in single.items()}


def test_a_denial_is_worked_by_reason_and_payer_with_its_next_action_and_rule(place: Workplace) -> None:
    claims = _sent(place)
    denied = claims[0].claim_id
    remits = adjudicate(claims, SimulatorSettings(PAID_ON, seed=3, deny_authorization=frozenset({denied})))
    remittances.upload(place, "denial.835", _835(remits), BILLER)
    groups = receivables.denials(place)
    co197 = next(g for g in groups if g.code == "CO-197")
    assert co197.next_action == "get_authorization"
    assert "auth.missing" in co197.our_rules
    assert co197.amount == claims[0].total_charge
    assert _claim_totals(place)[denied][1] == "denied"


def test_receivables_age_from_each_claims_submission(place: Workplace) -> None:
    claims = _sent(place)
    with place.factory() as db, db.begin():
        for n, record in enumerate(db.scalars(select(ClaimRecord).where(ClaimRecord.status == "submitted"))):
            record.submitted_at = datetime(2025, 5, 1, 12, 0, tzinfo=place.clock.zone) - timedelta(
                days=45 + 80 * n
            )
    aging = receivables.aging(place, date(2025, 5, 1))
    assert aging.total == sum((c.total_charge for c in claims), Decimal(0))
    assert [p for p in aging.totals if aging.totals[p]] == ["31-60", "120+"]
    remittances.upload(
        place, "paid.835", _835(adjudicate(claims, SimulatorSettings(PAID_ON, seed=3))), BILLER
    )
    assert receivables.aging(place, date(2025, 5, 1)).total == Decimal(0)  # paid and written off


def test_two_uploads_of_the_same_835_at_once_post_it_once(place: Workplace) -> None:
    claims = _sent(place)
    text = _835(adjudicate(claims, SimulatorSettings(PAID_ON, seed=3)))
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def upload() -> None:
        barrier.wait()
        outcomes.extend(d.outcome for d in remittances.upload(place, "twin.835", text, BILLER))

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("already_posted") == len(outcomes) // 2
    assert len(_payments(place)) == len(claims)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), share=st.sampled_from(["0", "0.2", "0.35"]), deny=st.booleans())
def test_posting_conserves_money_is_idempotent_and_a_reversal_then_repost_ends_as_one_posting(
    tmp_path: Path, seed: int, share: str, deny: bool
) -> None:
    place = open_workplace(f"sqlite:///{tmp_path / f'p{seed}-{share}-{deny}.db'}")
    try:
        claims = _sent(place)
        denials = frozenset({f"{claims[0].claim_id}#1"}) if deny else frozenset()
        shares = {c.payer_id: Decimal(share) for c in claims}
        remits = adjudicate(
            claims, SimulatorSettings(PAID_ON, seed=seed, patient_share=shares, deny_authorization=denials)
        )
        text = _835(remits)
        remittances.upload(place, "any.835", text, BILLER)
        remittances.upload(place, "any.835", text, BILLER)
        with place.factory() as db:
            lines = list(db.scalars(select(LinePaymentRecord)))
        for line in lines:  # every cent of every line is somewhere
            assert (
                line.paid + line.contractual + line.patient_responsibility + line.prior_payers + line.denied
                == line.charge
            )
        assert sum(p.paid for p in _payments(place)) == sum(r.payment.amount for r in remits)
        single = _claim_totals(place)
        reversals = [reverse_and_correct(r, r.trace_number + "R", []) for r in remits]
        remittances.upload(place, "reversal.835", _835(reversals, 2), BILLER)
        reposted = [replace(r, trace_number=r.trace_number + "P") for r in remits]
        remittances.upload(place, "repost.835", _835(reposted, 3), BILLER)
        assert {k: v[0] for k, v in _claim_totals(place).items()} == {k: v[0] for k, v in single.items()}
    finally:
        place.close()


def test_the_demo_shows_a_whole_cycle_billed_sent_remitted_paid_denied_and_aged(tmp_path: Path) -> None:
    place = open_workplace(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        load_demo(place, "a demo password for the test")
        received = remittances.page(place)
        assert received  # one remittance per payer
        assert {r.status for r in received} == {"posted"}
        states = {state for _, state, _ in _claim_totals(place).values()}
        assert states == {"paid", "denied"}
        assert any(g.code == "CO-197" for g in receivables.denials(place))
        assert receivables.aging(place).total > 0  # the denied claim is still owed
    finally:
        place.close()


def test_a_second_payment_for_a_claim_already_paid_is_held_as_remit_duplicate_payment(
    place: Workplace,
) -> None:
    claims = _sent(place)
    remits = adjudicate(claims, SimulatorSettings(PAID_ON, seed=3))
    remittances.upload(place, "paid.835", _835(remits), BILLER)
    before = _claim_totals(place)
    again = [replace(r, trace_number=r.trace_number + "X") for r in remits]
    done = remittances.upload(place, "paid-again.835", _835(again, 2), BILLER)
    assert {d.outcome for d in done} == {"held"}
    assert {f["rule"] for d in done for f in d.findings} == {"remit.duplicate_payment"}
    assert _claim_totals(place) == before  # nothing posted on top


def test_a_reversal_with_nothing_to_reverse_is_held_as_remit_nothing_to_reverse(place: Workplace) -> None:
    claims = _sent(place)
    remits = adjudicate(claims, SimulatorSettings(PAID_ON, seed=3))
    stray = [reverse_and_correct(r, r.trace_number + "R", []) for r in remits]  # never paid
    done = remittances.upload(place, "stray.835", _835(stray), BILLER)
    assert {d.outcome for d in done} == {"held"}
    assert {f["rule"] for d in done for f in d.findings} == {"remit.nothing_to_reverse"}
    assert _payments(place) == []


def test_the_payers_resend_of_a_held_trace_replaces_it_and_posts(place: Workplace) -> None:
    claims = _sent(place)
    (first, *_) = adjudicate(claims, SimulatorSettings(PAID_ON, seed=3))
    wrong = replace(first, payment=replace(first.payment, amount=first.payment.amount + Decimal("0.01")))
    (held,) = remittances.upload(place, "wrong.835", _835([wrong]), BILLER)
    (fixed,) = remittances.upload(place, "fixed.835", _835([first], 2), BILLER)
    assert (held.outcome, fixed.outcome) == ("held", "posted")
    assert fixed.remittance_id == held.remittance_id
    assert remittances.read(place, fixed.remittance_id, BILLER).file_name == "fixed.835"
