"""Billing runs: bill a period for all or some episodes, never a day twice.

Per episode, one transaction: read what other claims already bill (the billed-day ledger), run
the pure engine with that history, compare with the episode's current claim for the period,
then write nothing (unchanged), a new claim, a superseding claim (the old one was never sent)
or a replacement (frequency 7, the old one was sent). The ledger's unique keys make the
database the judge when runs race; a losing transaction is retried and then sees the winner.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import delete, func, select, true, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import History, bill_episode
from hitclaims.services.billing import Setup
from hitclaims.store.episodes import current_version, load
from hitclaims.store.models import (
    BilledDay,
    BilledItem,
    BillingRun,
    ClaimEvent,
    ClaimLineRecord,
    ClaimRecord,
    FindingRecord,
    HeldDayRecord,
)
from hitclaims.store.models import Episode as EpisodeRecord
from hitclaims.store.users import audit, now

Outcome = Literal["created", "unchanged", "superseded", "replaced", "failed"]
SENT = ("submitted", "paid", "denied")
UNSENT = ("ready", "held", "refused")
ATTEMPTS = 8


@dataclass
class EpisodeResult:
    episode_id: str
    outcome: Outcome
    claims: list[str] = field(default_factory=list)
    days_already_billed: int = 0
    message: str = ""


def family_of(code: str, setup: Setup) -> str:
    """The per-diem family a code belongs to (all pain per diems share one day)."""
    entry = setup.catalog.per_diem.get(code)
    return entry.therapy if entry else code


def billing_digest(claim: Claim) -> str:
    """What the payer would see, plus the claim's status: a re-run that changes none of it is
    'unchanged' even when the submission date (and so the timely-filing warning) moved."""
    data = claim.model_dump(
        mode="json",
        by_alias=True,
        include={
            "status",
            "lines",
            "diagnoses",
            "patient",
            "coverage",
            "payer",
            "prescriber",
            "provider",
            "held_days",
        },
    )
    for line in data["lines"]:
        line.pop("basis", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _history(
    db: DbSession, patient: str, payer: str, own: Sequence[int], period: Period, auths: Sequence[str]
) -> History:
    """What other claims (not the ones this run may replace) already bill for this patient and payer."""
    not_own_day = BilledDay.claim_id.not_in(own) if own else true()
    not_own_item = BilledItem.claim_id.not_in(own) if own else true()
    days = db.execute(
        select(BilledDay.service_date, ClaimRecord.claim_key)
        .join(ClaimRecord, ClaimRecord.id == BilledDay.claim_id)
        .where(
            BilledDay.patient_key == patient,
            BilledDay.payer_id == payer,
            BilledDay.service_date >= period.start,
            BilledDay.service_date <= period.end,
            not_own_day,
        )
    ).all()
    items = db.execute(
        select(BilledItem.item_key, ClaimRecord.claim_key)
        .join(ClaimRecord, ClaimRecord.id == BilledItem.claim_id)
        .where(BilledItem.patient_key == patient, BilledItem.payer_id == payer, not_own_item)
    ).all()
    # Authorization numbers are the payer's, not unique across patients: count this patient's.
    used = {
        number: db.scalar(
            select(func.count())
            .select_from(BilledDay)
            .where(
                BilledDay.authorization == number,
                BilledDay.patient_key == patient,
                BilledDay.payer_id == payer,
                not_own_day,
            )
        )
        or 0
        for number in auths
    }
    return History(
        auth_units_used=used,
        billed_days=dict(days),
        billed_items=dict(items),
    )


def _record(
    claim: Claim, episode: EpisodeRecord, version_id: int, run_id: int | None, replaces: ClaimRecord | None
) -> ClaimRecord:
    stamp = now()
    record = ClaimRecord(
        claim_key=claim.claim_id,
        is_current=True,
        run_id=run_id,
        episode_id=episode.id,
        episode_version_id=version_id,
        payer_id=claim.payer_id,
        period_start=claim.period.from_,
        period_end=claim.period.to,
        status=claim.status,
        frequency_code=claim.frequency_code,
        replaces_id=replaces.id if replaces else None,
        total_charge=claim.total_charge,
        content=json.loads(claim.model_dump_json(by_alias=True)),
        content_digest=billing_digest(claim),
        created_at=stamp,
        updated_at=stamp,
    )
    record.lines = [
        ClaimLineRecord(
            line_number=ln.line_number,
            kind=ln.kind,
            code=ln.code,
            modifiers=" ".join(ln.modifiers),
            service_from=ln.from_,
            service_to=ln.to,
            units=ln.units,
            charge=ln.charge,
            ndc=ln.ndc if ln.ndc and len(ln.ndc) == 11 else None,
        )
        for ln in claim.lines
    ]
    record.findings = [
        FindingRecord(
            rule=f.rule,
            severity=f.severity,
            holds=f.holds,
            day=f.date,
            record=f.record[:120],
            message=f.message,
        )
        for f in claim.findings
    ]
    record.held = [HeldDayRecord(day=h.date, rule=h.rule) for h in claim.held_days]
    return record


def _reserve(db: DbSession, record: ClaimRecord, claim: Claim, patient: str, setup: Setup) -> None:
    """Write the claim's days and items into the ledger: the unique keys reject a second biller."""
    if claim.status == "refused":
        return  # a refused claim is never sent: it bills nothing
    for line in claim.lines:
        if line.kind == "per_diem":
            for day in line.days:
                db.add(
                    BilledDay(
                        patient_key=patient,
                        family=family_of(line.code, setup),
                        service_date=day,
                        payer_id=claim.payer_id,
                        code=line.code,
                        authorization=line.authorization,
                        claim_id=record.id,
                    )
                )
        elif line.item_key:
            db.add(
                BilledItem(
                    patient_key=patient, payer_id=claim.payer_id, item_key=line.item_key, claim_id=record.id
                )
            )


def release(db: DbSession, claim_id: int) -> None:
    """Free a claim's days and items (it was voided or is being replaced)."""
    db.execute(delete(BilledDay).where(BilledDay.claim_id == claim_id))
    db.execute(delete(BilledItem).where(BilledItem.claim_id == claim_id))


def _event(db: DbSession, claim_id: int, username: str, before: str | None, after: str, note: str) -> None:
    db.add(
        ClaimEvent(
            claim_id=claim_id, at=now(), username=username, from_status=before, to_status=after, note=note
        )
    )


def _current_claims(db: DbSession, episode_id: int, period: Period) -> list[ClaimRecord]:
    """The episode's current claims for exactly this period (voids excluded), parts in order."""
    return list(
        db.scalars(
            select(ClaimRecord)
            .where(
                ClaimRecord.is_current.is_(True),
                ClaimRecord.episode_id == episode_id,
                ClaimRecord.period_start == period.start,
                ClaimRecord.period_end == period.end,
                ClaimRecord.frequency_code != "8",
            )
            .order_by(ClaimRecord.claim_key)
        )
    )


@dataclass(frozen=True)
class Billing:
    """One episode billed for one period against the store's history (nothing written yet)."""

    episode: EpisodeRecord
    version_id: int
    patient: str
    current: list[ClaimRecord]  # the episode's current claims for the period, which may be replaced
    history: History
    claims: list[Claim]


def compute(db: DbSession, episode_key: str, period: Period, as_of: date, setup: Setup) -> Billing:
    """What billing the episode now would produce, given what other claims already bill.

    Raises LookupError for an unknown episode or a payer with no policy in force."""
    episode = db.scalar(select(EpisodeRecord).where(EpisodeRecord.episode_key == episode_key))
    if episode is None:
        raise LookupError(f"no episode {episode_key}")
    version = current_version(db, episode)
    records = load(version)
    policy = setup.policies.for_payer(records.coverage.payer_id, period.start)
    current = _current_claims(db, episode.id, period)
    auths = [a.number for a in records.coverage.authorizations]
    history = _history(
        db, records.patient.id, records.coverage.payer_id, [c.id for c in current], period, auths
    )
    claims = bill_episode(records, policy, setup.catalog, setup.provider, period, as_of, history)
    return Billing(episode, version.id, records.patient.id, current, history, claims)


def bill_in_store(
    db: DbSession,
    episode_key: str,
    period: Period,
    as_of: date,
    setup: Setup,
    username: str,
    run_id: int | None,
) -> EpisodeResult:
    """One episode, one period, inside the caller's transaction."""
    try:
        billing = compute(db, episode_key, period, as_of, setup)
    except LookupError as exc:
        return EpisodeResult(episode_key, "failed", message=str(exc).strip("'\""))
    episode, current, claims, history = billing.episode, billing.current, billing.claims, billing.history
    already = len(history.billed_days)
    if current and [c.content_digest for c in current] == [billing_digest(c) for c in claims]:
        return EpisodeResult(
            episode_key, "unchanged", [c.claim_key for c in current], already, "nothing new to bill"
        )

    sent = [c for c in current if c.status in SENT]
    outcome: Outcome = "replaced" if sent else ("superseded" if current else "created")
    for old in current:
        old.is_current = False
        old.updated_at = now()
        release(db, old.id)
        if old.status in UNSENT:
            note = f"superseded by billing run {run_id} before it was sent"
            _event(db, old.id, username, old.status, "void", note)
            old.status = "void"
        else:
            _event(db, old.id, username, old.status, old.status, f"corrected by billing run {run_id}")
    db.flush()  # free the unique keys before the new claim takes them

    written = []
    for part, claim in enumerate(claims):
        # Part n replaces sent part n. A part with nothing left to bill voids it instead, and a
        # new part beyond the sent ones is an original claim (frequency 1).
        original = sent[part] if part < len(sent) else None
        if original is not None and not claim.lines:
            written.append(_void(db, original, episode, username, run_id))
            original = None
        if original is not None:
            claim = claim.model_copy(update={"frequency_code": "7", "original_claim_id": original.claim_key})
        record = _record(claim, episode, billing.version_id, run_id, original)
        db.add(record)
        db.flush()
        _reserve(db, record, claim, billing.patient, setup)
        _event(db, record.id, username, None, claim.status, f"billed by run {run_id}" if run_id else "billed")
        written.append(claim.claim_id)
    for leftover in sent[len(claims) :]:
        # Fewer parts now: a sent part that no new part replaces must be voided at the payer.
        written.append(_void(db, leftover, episode, username, run_id))
    db.flush()
    audit(
        db,
        username,
        f"claim.{outcome}",
        "episode",
        episode_key,
        period=[str(period.start), str(period.end)],
        claims=written,
    )
    return EpisodeResult(episode_key, outcome, written, already)


def _void(db: DbSession, sent: ClaimRecord, episode: EpisodeRecord, username: str, run_id: int | None) -> str:
    """A frequency-8 claim cancelling a sent claim at the payer: the sent claim's lines, its id in
    REF*F8, ready to export. It bills nothing, so it reserves no days."""
    original = Claim.model_validate_json(json.dumps(sent.content))
    void = original.model_copy(
        update={"frequency_code": "8", "original_claim_id": sent.claim_key, "status": "ready"}
    )
    record = _record(void, episode, sent.episode_version_id, run_id, sent)
    db.add(record)
    db.flush()
    _event(db, record.id, username, None, "ready", f"void of sent claim {sent.claim_key}: no longer billed")
    return void.claim_id


def bill_with_retry(
    factory: sessionmaker[DbSession],
    episode_key: str,
    period: Period,
    as_of: date,
    setup: Setup,
    username: str,
    run_id: int | None,
) -> EpisodeResult:
    """A losing transaction (another run billed the same key or day first) is retried: it then
    sees the winner's claim and bills nothing twice."""
    for attempt in range(ATTEMPTS):
        try:
            with factory() as db, db.begin():
                return bill_in_store(db, episode_key, period, as_of, setup, username, run_id)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def start_run(
    factory: sessionmaker[DbSession], period: Period, as_of: date, scope: Sequence[str], username: str
) -> int:
    with factory() as db, db.begin():
        keys = list(scope) or list(
            db.scalars(select(EpisodeRecord.episode_key).order_by(EpisodeRecord.episode_key))
        )
        run = BillingRun(
            period_start=period.start,
            period_end=period.end,
            as_of=as_of,
            scope=list(scope),
            status="running",
            total=len(keys),
            done=0,
            summary={},
            started_by=username,
            started_at=now(),
        )
        db.add(run)
        db.flush()
        audit(
            db,
            username,
            "run.start",
            "billing_run",
            run.id,
            period=[str(period.start), str(period.end)],
            episodes=len(keys),
        )
        run.summary = {"episodes": keys}
        return run.id


def execute_run(
    factory: sessionmaker[DbSession],
    run_id: int,
    setup: Setup,
    progress: Callable[[int], None] = lambda n: None,
) -> dict[str, Any]:
    with factory() as db:
        run = db.get(BillingRun, run_id)
        assert run is not None
        keys = list(run.summary.get("episodes", []))
        period, as_of, username = Period(run.period_start, run.period_end), run.as_of, run.started_by
    results: list[EpisodeResult] = []
    try:
        for n, key in enumerate(keys, start=1):
            results.append(bill_with_retry(factory, key, period, as_of, setup, username, run_id))
            if n % 10 == 0 or n == len(keys):
                with factory() as db, db.begin():
                    db.execute(update(BillingRun).where(BillingRun.id == run_id).values(done=n))
                progress(n)
        status = "done"
    except Exception:
        status = "failed"
        raise
    finally:
        summary = summarise(results)
        with factory() as db, db.begin():
            db.execute(
                update(BillingRun)
                .where(BillingRun.id == run_id)
                .values(status=status, done=len(results), summary=summary, finished_at=now())
            )
    return summary


def summarise(results: Sequence[EpisodeResult]) -> dict[str, Any]:
    counts = dict.fromkeys(("created", "unchanged", "superseded", "replaced", "failed"), 0)
    for r in results:
        counts[r.outcome] += 1
    return {
        **counts,
        "days_already_billed": sum(r.days_already_billed for r in results),
        "episodes": [
            {"episode_id": r.episode_id, "outcome": r.outcome, "claims": r.claims, "message": r.message}
            for r in results
        ],
    }
