"""The store, on SQLite and on a real PostgreSQL: versions, runs, states, export, and never a day
billed twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.core.errors import ConflictError
from hitclaims.core.records import Episode, PriorAuthorization
from hitclaims.formats.x12.validate import validate_x12
from hitclaims.inputs.loading import parse_episode
from hitclaims.services import billing, claims, exports, runs, workplace
from hitclaims.services.runs import bill_with_retry, execute_run, fail_interrupted, start_run
from hitclaims.services.users import Person
from hitclaims.services.workplace import Workplace
from hitclaims.store.episodes import import_episode
from hitclaims.store.models import (
    AuditEntry,
    Base,
    BilledDayRecord,
    BilledItemRecord,
    ClaimEvent,
    ClaimRecord,
    EpisodeVersion,
)

from .builders import CATALOG, days, dispense, episode_dict
from .databases import open_workplace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))
AS_OF = date(2025, 4, 2)
BILLER = Person("biller", "biller")


@pytest.fixture
def place(database_url: str) -> Iterator[Workplace]:
    workplace = open_workplace(database_url)
    yield workplace
    workplace.close()


def _episode(**changes: Any) -> Episode:
    data = episode_dict(**changes)
    data["coverage"]["payer_id"] = "nhia-commercial-access"
    return parse_episode("test", json.dumps(data), CATALOG)


def parse_auth(data: dict[str, Any]) -> PriorAuthorization:
    return PriorAuthorization.model_validate_json(json.dumps(data))


def _import(place: Workplace, ep: Episode, user: str = "biller") -> Any:
    with place.factory() as db, db.begin():
        return import_episode(db, ep, "json", [], user)


def _run(
    place: Workplace, period: Period = MARCH, scope: tuple[str, ...] = (), as_of: date = AS_OF
) -> dict[str, Any]:
    run_id = start_run(place, period, as_of, scope, "biller")
    return execute_run(place, run_id)


def _current(place: Workplace) -> list[ClaimRecord]:
    with place.factory() as db:
        return list(
            db.scalars(
                select(ClaimRecord).where(ClaimRecord.is_current.is_(True)).order_by(ClaimRecord.claim_key)
            )
        )


def _billed_days(place: Workplace) -> list[tuple[str, date]]:
    with place.factory() as db:
        return [
            (p, d)
            for p, d in db.execute(select(BilledDayRecord.patient_key, BilledDayRecord.service_date)).all()
        ]


# --- the schema -------------------------------------------------------------------------------


def test_migrations_create_the_schema_the_models_describe(place: Workplace) -> None:
    with place.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_opening_twice_migrates_once_and_loads_the_policies_once(database_url: str) -> None:
    first = open_workplace(database_url)
    first.close()
    again = open_workplace(database_url)
    assert "nhia-commercial-access" in again.setup().policies.policies
    with again.factory() as db:
        loads = db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "policy.load")
        )
    assert loads == len(again.setup().policies.policies)  # once each, not once per start
    again.close()


# --- episodes ---------------------------------------------------------------------------------


def test_every_imported_version_is_kept_and_an_unchanged_import_adds_nothing(place: Workplace) -> None:
    assert _import(place, _episode()).version == 1
    again = _import(place, _episode())
    assert (again.version, again.changed) == (1, False)
    changed = _import(place, _episode(medical_history="Updated history."))
    assert (changed.version, changed.changed) == (2, True)
    with place.factory() as db:
        assert db.scalar(select(func.count()).select_from(EpisodeVersion)) == 2


# --- billing runs -----------------------------------------------------------------------------


def test_a_run_bills_the_period_and_rerunning_it_bills_nothing_twice_and_says_so(place: Workplace) -> None:
    _import(place, _episode())
    first = _run(place)
    assert first["created"] == 1
    claims = _current(place)
    assert [c.claim_key for c in claims] == ["EP-T1-202503"]
    assert len(_billed_days(place)) == 29
    again = _run(place)
    assert (again["created"], again["unchanged"]) == (0, 1)
    assert again["episodes"][0]["message"] == "nothing new to bill"
    assert len(_billed_days(place)) == 29
    assert [c.id for c in _current(place)] == [c.id for c in claims]


def test_changed_records_before_sending_supersede_the_unsent_claim(place: Workplace) -> None:
    _import(place, _episode())
    _run(place)
    (old,) = _current(place)
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    _import(place, _episode(holds=[hold]))
    summary = _run(place)
    assert summary["superseded"] == 1
    (new,) = _current(place)
    assert new.frequency_code == "1"
    assert len(_billed_days(place)) == 28
    with place.factory() as db:
        assert db.get(ClaimRecord, old.id).status == "void"  # type: ignore[union-attr]


def test_changed_records_after_sending_give_a_replacement_claim_with_frequency_7(place: Workplace) -> None:
    _import(place, _episode())
    _run(place)
    exports.export_ready(place, BILLER)
    hold = {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    _import(place, _episode(holds=[hold]))
    assert _run(place)["replaced"] == 1
    (new,) = _current(place)
    content = new.content
    assert (new.frequency_code, content["frequency_code"], content["original_claim_id"]) == (
        "7",
        "7",
        "EP-T1-202503",
    )
    with place.factory() as db:
        old = db.get(ClaimRecord, new.replaces_id)
        assert old is not None
        assert (old.status, old.is_current) == ("submitted", False)
    days_ = sorted(d for _, d in _billed_days(place))
    assert len(days_) == len(set(days_)) == 28


def test_overlapping_periods_never_bill_a_day_twice(place: Workplace) -> None:
    _import(
        place,
        _episode(
            progress_notes=[
                {"date": d, "author": "RN", "text": "ok"} for d in days("2025-03-01", "2025-04-30")
            ]
        ),
    )
    _run(place)
    overlap = _run(place, Period(date(2025, 3, 15), date(2025, 4, 15)))
    assert overlap["created"] == 1
    billed = [d for _, d in _billed_days(place)]
    assert len(billed) == len(set(billed)) == 29 + 15
    claims = {c.claim_key: c for c in _current(place)}
    later = claims["EP-T1-250315-0415"]
    assert any(f["rule"] == "day.already_billed" for f in later.content["findings"])


def test_two_episodes_of_one_patient_and_payer_never_bill_a_day_twice(place: Workplace) -> None:
    _import(place, _episode())
    _import(place, _episode(episode_id="EP-T1-B"))
    _run(place)
    billed = [d for _, d in _billed_days(place)]
    assert len(billed) == len(set(billed)) == 29
    with place.factory() as db:
        assert db.scalar(select(func.count()).select_from(BilledItemRecord)) == 0


def _with_payer(ep: Episode, payer_id: str, **changes: Any) -> Episode:
    return ep.model_copy(
        update={"coverage": ep.coverage.model_copy(update={"payer_id": payer_id}), **changes}
    )


def test_two_episodes_of_one_patient_under_two_payers_bill_each_day_once(place: Workplace) -> None:
    _import(place, _episode())
    _import(place, _with_payer(_episode(), "example-commercial-access", episode_id="EP-T1-B"))
    summary = _run(place)
    billed = [d for _, d in _billed_days(place)]
    assert len(billed) == len(set(billed)) == 29  # never the same day to two payers
    second = next(c for c in _current(place) if c.content["payer_id"] == "example-commercial-access")
    held = {h["rule"] for h in second.content["held_days"]}
    assert held == {"day.other_payer"}
    assert any("on claim EP-T1-202503" in f["message"] for f in second.content["findings"])
    assert summary["failed"] == 0


def test_a_payer_change_after_sending_voids_at_the_old_payer_and_bills_the_new_one_an_original(
    place: Workplace,
) -> None:
    ex2 = parse_episode("ex2", (EXAMPLES / "ex2-fentanyl-postop.json").read_text(), CATALOG)
    june = Period(date(2025, 6, 1), date(2025, 6, 30))
    _import(place, ex2)
    _run(place, june, as_of=date(2025, 7, 1))
    exports.export_ready(place, BILLER)
    old_payer = ex2.coverage.payer_id
    new_payer = (
        "example-commercial-access" if old_payer != "example-commercial-access" else "nhia-commercial-access"
    )
    _import(place, _with_payer(ex2, new_payer))
    assert _run(place, june, as_of=date(2025, 7, 1))["payer_changed"] == 1
    with place.factory() as db:
        written = list(
            db.scalars(select(ClaimRecord).where(ClaimRecord.run_id.is_not(None)).order_by(ClaimRecord.id))
        )
    void, original = written[-2:]
    assert (void.payer_id, void.frequency_code, void.content["original_claim_id"]) == (
        old_payer,
        "8",
        "EX2-FENTANYL-202506",
    )
    assert (original.payer_id, original.frequency_code, original.replaces_id) == (new_payer, "1", None)
    assert original.content["original_claim_id"] is None  # no REF*F8 to a payer that never had it
    (batch,) = exports.export_ready(place, BILLER)
    assert validate_x12(batch.content).valid
    assert batch.content.count("ST*837*") == 2


def test_a_run_left_running_by_a_killed_server_is_marked_failed_on_start(place: Workplace) -> None:
    _import(place, _episode())
    run_id = start_run(place, MARCH, AS_OF, (), "biller")  # started, never executed: the process died
    assert fail_interrupted(place) == [run_id]
    run = runs.read(place, run_id)
    assert run.status == "failed"
    assert run.finished_at is not None
    assert "interrupted" in run.summary["message"]
    assert fail_interrupted(place) == []


def test_one_poison_episode_fails_alone_and_the_others_are_billed(
    place: Workplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(place, _episode())
    _import(
        place,
        _with_payer(
            _episode(),
            "nhia-commercial-access",
            episode_id="EP-POISON",
            patient=_episode().patient.model_copy(update={"id": "P-2"}),
        ),
    )
    real = bill_episode

    def poisoned(episode: Any, *rest: Any) -> Any:
        if episode.episode_id == "EP-POISON":
            raise OverflowError("date value out of range")
        return real(episode, *rest)

    monkeypatch.setattr(billing, "bill_episode", poisoned)
    summary = _run(place)
    assert (summary["created"], summary["failed"]) == (1, 1)
    failed = next(e for e in summary["episodes"] if e["outcome"] == "failed")
    assert failed["episode_id"] == "EP-POISON"
    assert "out of range" not in failed["message"]


def test_an_episode_whose_claims_cannot_be_written_fails_alone_and_the_others_are_billed(
    place: Workplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed write undoes the run's whole batch; each episode is then billed on its own."""
    for n in range(3):
        patient = _episode().patient.model_copy(update={"id": f"P-{n}"})
        _import(place, _episode().model_copy(update={"episode_id": f"EP-{n}", "patient": patient}))
    real = runs._write

    def poisoned(db: Any, billing: Any, *rest: Any) -> Any:
        if billing.episode.episode_key == "EP-1":
            raise OverflowError("date value out of range")
        return real(db, billing, *rest)

    monkeypatch.setattr(runs, "_write", poisoned)
    summary = _run(place)
    outcomes = {e["episode_id"]: e["outcome"] for e in summary["episodes"]}
    assert outcomes == {"EP-0": "created", "EP-1": "failed", "EP-2": "created"}
    with place.reading() as db:
        assert {c.episode.episode_key for c in db.scalars(select(ClaimRecord))} == {"EP-0", "EP-2"}


def test_authorization_units_used_on_earlier_claims_count(place: Workplace) -> None:
    auth = {"number": "PA-1", "start": "2025-03-01", "end": "2025-04-30", "units": 40, "codes": ["S9326"]}
    notes_ = [{"date": d, "author": "RN", "text": "ok"} for d in days("2025-03-01", "2025-04-30")]
    # A payer that requires authorization (its units are enforced), daily lines.
    ep = _episode(progress_notes=notes_)
    ep = ep.model_copy(
        update={
            "coverage": ep.coverage.model_copy(
                update={"payer_id": "state-medicaid-daily", "prior_authorization": parse_auth(auth)}
            )
        }
    )
    _import(place, ep)
    _run(place)
    _run(place, Period(date(2025, 4, 1), date(2025, 4, 30)))
    april = next(c for c in _current(place) if c.claim_key == "EP-T1-202504")
    per_diem = [ln for ln in april.content["lines"] if ln["kind"] == "per_diem"]
    assert sum(ln["units"] for ln in per_diem) == 11  # 40 authorized - 29 used in March


# --- states and export ------------------------------------------------------------------------


def test_claim_states_move_as_allowed_and_each_change_records_who_and_when(place: Workplace) -> None:
    _import(place, _episode())
    _run(place)
    (claim,) = _current(place)
    claims.move(place, claim.id, "submitted", Person("alice", "biller"), "sent by hand")
    claims.move(place, claim.id, "paid", Person("bob", "biller"))
    with pytest.raises(ConflictError, match="a paid claim cannot become void"):
        claims.move(place, claim.id, "void", Person("bob", "biller"))
    with place.factory() as db:
        events = [
            (e.username, e.from_status, e.to_status)
            for e in db.scalars(
                select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)
            )
        ]
        assert events == [
            ("biller", None, "ready"),
            ("alice", "ready", "submitted"),
            ("bob", "submitted", "paid"),
        ]
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.entity == "claim")))
        assert actions == ["claim.status", "claim.status"]


def test_voiding_a_claim_frees_its_days(place: Workplace) -> None:
    _import(place, _episode())
    _run(place)
    (claim,) = _current(place)
    claims.move(place, claim.id, "void", BILLER)
    assert _billed_days(place) == []
    assert _run(place)["created"] == 1


def test_export_gives_one_valid_837_batch_of_the_ready_claims_and_marks_them_submitted(
    place: Workplace,
) -> None:
    for name in ("ex1-morphine-cancer", "ex2-fentanyl-postop"):
        _import(place, parse_episode(name, (EXAMPLES / f"{name}.json").read_text(), CATALOG))
    _run(place, scope=("EX1-MORPHINE",))
    _run(place, Period(date(2025, 6, 1), date(2025, 6, 30)), scope=("EX2-FENTANYL",), as_of=date(2025, 7, 1))
    (export,) = exports.export_ready(place, BILLER)
    report = validate_x12(export.content)
    assert report.valid, [p.sentence() for p in report.problems]
    assert export.content.count("ST*837*") == 2
    assert f"*{export.interchange_id:09d}*0*P*:~" in export.content
    assert {c.status for c in _current(place)} == {"submitted"}
    with pytest.raises(ConflictError, match="no claim is ready"):
        exports.export_ready(place, BILLER)


def test_the_same_episode_billed_directly_twice_in_a_row_is_unchanged(place: Workplace) -> None:
    _import(place, _episode())
    first = bill_with_retry(place, "EP-T1", MARCH, AS_OF, "biller", None)
    second = bill_with_retry(place, "EP-T1", MARCH, AS_OF, "biller", None)
    assert (first.outcome, second.outcome) == ("created", "unchanged")


# --- what an independent review found ---------------------------------------------------------


def test_two_identical_dispenses_on_one_day_are_two_services_and_the_run_completes(place: Workplace) -> None:
    cassettes = [
        dispense("morphine", "250"),
        dispense("morphine", "250"),
        dispense("morphine", "100", ndc="0409-1234-02"),
    ]
    _import(place, _episode(dispenses=cassettes))
    assert _run(place)["created"] == 1
    (claim,) = _current(place)
    assert [ln["units"] for ln in claim.content["lines"] if ln["kind"] == "drug"] == [25, 25, 10]
    with place.factory() as db:
        keys = sorted(db.scalars(select(BilledItemRecord.item_key)))
    assert len(keys) == len(set(keys)) == 3
    assert _run(place)["unchanged"] == 1


def test_authorization_units_are_counted_per_patient_and_payer(place: Workplace) -> None:
    auth = {"number": "PA-1", "start": "2025-03-01", "end": "2025-03-31", "units": 31, "codes": ["S9326"]}
    for n in (1, 2):
        ep = _episode(episode_id=f"EP-{n}")
        cov = ep.coverage.model_copy(
            update={"payer_id": "state-medicaid-daily", "prior_authorization": parse_auth(auth)}
        )
        patient = ep.patient.model_copy(update={"id": f"P-{n}"})
        _import(place, ep.model_copy(update={"coverage": cov, "patient": patient}))
    _run(place)
    for claim in _current(place):
        assert claim.content["held_days"] == []
        assert sum(ln["units"] for ln in claim.content["lines"] if ln["kind"] == "per_diem") == 29


def _many_dispenses(n: int) -> list[dict[str, Any]]:
    return [
        dispense("morphine", "250", date=f"2025-03-{3 + i % 29:02d}", ndc=f"0409-1234-{i:02d}")
        for i in range(n)
    ]


def _export(place: Workplace) -> str:
    (done,) = exports.export_ready(place, BILLER)
    return done.content


def test_fewer_parts_after_sending_replace_the_first_and_void_the_rest(place: Workplace) -> None:
    _import(place, _episode(dispenses=_many_dispenses(55)))
    _run(place)
    assert [c.claim_key for c in _current(place)] == ["EP-T1-202503-1", "EP-T1-202503-2"]
    _export(place)
    _import(place, _episode(dispenses=_many_dispenses(40)))
    assert _run(place)["replaced"] == 1
    current = {
        c.claim_key: (c.frequency_code, c.status, c.content["original_claim_id"]) for c in _current(place)
    }
    assert current == {
        "EP-T1-202503": ("7", "ready", "EP-T1-202503-1"),
        "EP-T1-202503-2": ("8", "ready", "EP-T1-202503-2"),
    }
    batch = _export(place)
    assert validate_x12(batch).valid
    assert "CLM*EP-T1-202503-2*" in batch
    assert "***12:B:8*" in batch
    assert "REF*F8*EP-T1-202503-2~" in batch
    billed = [d for _, d in _billed_days(place)]
    assert len(billed) == len(set(billed)) == 29


def test_more_parts_after_sending_replace_the_first_and_send_the_rest_as_new(place: Workplace) -> None:
    _import(place, _episode(dispenses=_many_dispenses(10)))
    _run(place)
    _export(place)
    _import(place, _episode(dispenses=_many_dispenses(55)))
    _run(place)
    current = {c.claim_key: (c.frequency_code, c.content["original_claim_id"]) for c in _current(place)}
    assert current == {"EP-T1-202503-1": ("7", "EP-T1-202503"), "EP-T1-202503-2": ("1", None)}


def test_an_episode_id_with_an_underscore_never_touches_another_episodes_claims(place: Workplace) -> None:
    _import(place, _episode(episode_id="EP-1"))
    other = _episode(episode_id="EP_1")
    _import(place, other.model_copy(update={"patient": other.patient.model_copy(update={"id": "P-2"})}))
    _run(place)
    _run(place)
    assert sorted((c.claim_key, c.status) for c in _current(place)) == [
        ("EP-1-202503", "ready"),
        ("EP_1-202503", "ready"),
    ]


def test_an_episode_listed_twice_in_a_run_is_billed_once_and_reported_twice(place: Workplace) -> None:
    _import(place, _episode())
    summary = _run(place, scope=("EP-T1", "EP-T1"))
    assert [e["outcome"] for e in summary["episodes"]] == ["created", "unchanged"]
    assert (summary["created"], summary["unchanged"]) == (1, 1)
    assert len(_current(place)) == 1


def test_a_writer_that_waits_too_long_for_its_turn_is_retried(
    place: Workplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite, a write waits for its turn at most WRITE_WAIT_SECONDS; then the episode is
    tried again, as when the database says it is busy, not failed at once."""
    if place.engine.dialect.name != "sqlite":
        pytest.skip("the write turn is SQLite's")
    _import(place, _episode())
    monkeypatch.setattr(workplace, "WRITE_WAIT_SECONDS", 0.2)
    run_id = start_run(place, MARCH, AS_OF, (), "biller")
    place._writer.acquire()  # another writer, for longer than one wait
    threading.Timer(0.5, place._writer.release).start()
    assert execute_run(place, run_id)["created"] == 1
