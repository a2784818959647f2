"""Billing in the store: one episode's period, and billing runs over many, never a day twice.

Per episode, one transaction: read what other claims already bill (the billed-day ledger), run
the pure engine with that history, let the pure lifecycle decide what the new claims do to the
episode's current ones, and have the store write exactly that. The ledger's unique keys make the
database the judge when runs race; a losing transaction is retried and then sees the winner.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as DbSession

from hitclaims.core import lifecycle
from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import History
from hitclaims.core.errors import InputError, NotFoundError, UnavailableError, UnusableInputError
from hitclaims.core.records import Episode
from hitclaims.core.vocabulary import RUN_OUTCOMES, RunOutcome, RunStatus
from hitclaims.services.billing import Setup, bill_one
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store import episodes as episode_store
from hitclaims.store import ledger
from hitclaims.store import runs as run_store
from hitclaims.store.audit import audit
from hitclaims.store.ledger import HistoryWanted
from hitclaims.store.models import BillingRun, ClaimRecord, EpisodeRecord

ATTEMPTS = 8
EPISODE_FAILED = "billing this episode failed unexpectedly; it has been logged and the others went on"
INTERRUPTED = "interrupted: the server stopped while this run was billing; start the run again"
log = logging.getLogger("hitclaims.runs")
# Why a sent claim is voided at its payer.
VOID_NOTES = {
    "replaced": "no longer billed",
    "payer_changed": "the episode's payer changed; the new payer gets an original claim",
}
# Episodes billed in one transaction (and between two progress writes): enough to batch the
# reads, few enough that a biller's write waits behind a chunk for a moment only.
RUN_CHUNK = 50


@dataclass
class EpisodeBilled:
    """What billing one episode for a period did."""

    episode_id: str
    outcome: RunOutcome
    claims: list[str] = field(default_factory=list)
    days_already_billed: int = 0
    message: str = ""


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
    """What billing the episode now would produce, given what other claims already bill."""
    found = _compute_many(db, [episode_key], period, as_of, setup)[episode_key]
    if isinstance(found, Exception):
        raise found
    return found


def _compute_many(
    db: DbSession, keys: Sequence[str], period: Period, as_of: date, setup: Setup
) -> dict[str, Billing | Exception]:
    """`compute` for many episodes with one read of each kind (episodes, current claims, the
    ledger), whatever their number. An episode that cannot be billed gets its exception, and the
    others go on. Their patients must differ: each one's history is read before any is billed."""
    stored = episode_store.current_of(db, keys)
    current = claim_store.current_for_many(db, [record.id for record, _ in stored.values()], period)
    found: dict[str, Billing | Exception] = {}
    loaded: dict[str, Episode] = {}
    for key in keys:
        if key not in stored:
            found[key] = NotFoundError(f"no episode {key}", "episode_id")
            continue
        try:
            loaded[key] = episode_store.load(stored[key][1])
        except Exception as exc:  # an unusable stored episode fails alone
            found[key] = exc
    asked = [
        HistoryWanted(
            records.patient.id,
            records.coverage.payer_id,
            [c.id for c in current.get(stored[key][0].id, [])],
            [a.number for a in records.coverage.authorizations],
        )
        for key, records in loaded.items()
    ]
    for (key, records), history in zip(loaded.items(), ledger.histories(db, asked, period), strict=True):
        episode, version = stored[key]
        try:
            # The engine's one entry point, as files, the batch and Spark call it.
            claims = bill_one(key, records, setup, period, as_of, history)
            mine = current.get(episode.id, [])
            found[key] = Billing(episode, version.id, records.patient.id, mine, history, claims)
        except InputError as exc:  # no policy for the payer: said without a file name
            found[key] = UnusableInputError(exc.problem, exc.field)
        except Exception as exc:  # one episode the engine cannot bill never stops the others
            found[key] = exc
    return found


def _stored(record: ClaimRecord) -> lifecycle.StoredClaim:
    return lifecycle.StoredClaim(record.claim_key, record.status, record.content_digest, record.payer_id)  # type: ignore[arg-type]


def bill_in_store(
    db: DbSession,
    episode_key: str,
    period: Period,
    as_of: date,
    setup: Setup,
    username: str,
    run_id: int | None,
) -> EpisodeBilled:
    """One episode, one period, inside the caller's transaction."""
    try:
        billing = compute(db, episode_key, period, as_of, setup)
    except (NotFoundError, UnusableInputError) as exc:
        return EpisodeBilled(episode_key, "failed", message=exc.message)
    return _apply(db, billing, episode_key, period, setup, username, run_id)


def _apply(
    db: DbSession,
    billing: Billing,
    episode_key: str,
    period: Period,
    setup: Setup,
    username: str,
    run_id: int | None,
) -> EpisodeBilled:
    """Write what the lifecycle decides the billed claims do to the episode's current ones."""
    decision = lifecycle.decide([_stored(c) for c in billing.current], billing.claims)
    already = len(billing.history.billed_days)
    if decision.outcome == "unchanged":
        keys = [c.claim_key for c in billing.current]
        return EpisodeBilled(episode_key, "unchanged", keys, already, "nothing new to bill")
    _retire(db, billing.current, decision, username, run_id)
    why = VOID_NOTES.get(decision.outcome, VOID_NOTES["replaced"])
    written = [_write(db, billing, w, setup, username, run_id, why) for w in decision.writes]
    db.flush()
    claims = [key for key in written if key]
    when = [str(period.start), str(period.end)]
    audit(db, username, f"claim.{decision.outcome}", "episode", episode_key, period=when, claims=claims)
    return EpisodeBilled(episode_key, decision.outcome, claims, already)


def _retire(
    db: DbSession, current: list[ClaimRecord], decision: lifecycle.Decision, username: str, run_id: int | None
) -> None:
    for index in decision.retired:
        old = current[index]
        ledger.release(db, old.id)
        if index in decision.voided_unsent:
            claim_store.add_event(
                db,
                old.id,
                username,
                old.status,
                "void",
                f"superseded by billing run {run_id} before it was sent",
            )
        else:
            claim_store.add_event(
                db, old.id, username, old.status, old.status, f"corrected by billing run {run_id}"
            )
        claim_store.retire(old, void=index in decision.voided_unsent)
    db.flush()  # free the unique keys before the new claims take them


def _write(
    db: DbSession,
    billing: Billing,
    write: lifecycle.NewClaim | lifecycle.VoidOf,
    setup: Setup,
    username: str,
    run_id: int | None,
    void_note: str,
) -> str:
    if isinstance(write, lifecycle.VoidOf):
        sent = billing.current[write.index]
        void = lifecycle.void_of(claim_store.claim_of(sent), sent.claim_key)
        record = claim_store.add(
            db,
            void,
            billing.episode.id,
            sent.episode_version_id,
            run_id,
            sent,
            lifecycle.billing_digest(void),
        )
        note = f"void of sent claim {sent.claim_key}: {void_note}"
        claim_store.add_event(db, record.id, username, None, "ready", note)
        return void.claim_id
    original = billing.current[write.replaces] if write.replaces is not None else None
    claim = lifecycle.as_replacement(write.claim, original.claim_key) if original else write.claim
    digest = lifecycle.billing_digest(write.claim)
    record = claim_store.add(db, claim, billing.episode.id, billing.version_id, run_id, original, digest)
    ledger.reserve(db, record.id, claim, billing.patient, _family_of(setup))
    claim_store.add_event(
        db, record.id, username, None, claim.status, f"billed by run {run_id}" if run_id else "billed"
    )
    return claim.claim_id


def _family_of(setup: Setup) -> Callable[[str], str]:
    """The per-diem family a code belongs to (all pain per diems share one day)."""

    def family(code: str) -> str:
        entry = setup.catalog.per_diem.get(code)
        return entry.therapy if entry else code

    return family


def bill_with_retry(
    place: Workplace,
    episode_key: str,
    period: Period,
    as_of: date,
    username: str,
    run_id: int | None,
    setup: Setup | None = None,
) -> EpisodeBilled:
    """A losing transaction (another run billed the same key or day first) is retried: it then
    sees the winner's claim and bills nothing twice. A run passes its `setup`, read once, so all
    its episodes bill with the same policies."""
    setup = setup or place.setup()
    for attempt in range(ATTEMPTS):
        try:
            with place.transaction() as db:
                return bill_in_store(db, episode_key, period, as_of, setup, username, run_id)
        except (IntegrityError, OperationalError, UnavailableError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def start_run(place: Workplace, period: Period, as_of: date, scope: Sequence[str], username: str) -> int:
    """Record a run (its episodes fixed now); `execute_run` bills it."""
    with place.changing() as db:
        if scope:
            missing = episode_store.missing_keys(db, scope)
            if missing:
                raise UnusableInputError(f"there is no episode {', '.join(missing[:5])}", "episodes")
        run = run_store.add(db, period, as_of, scope, username)
        when = [str(period.start), str(period.end)]
        audit(db, username, "run.start", "billing_run", run.id, period=when, episodes=run.total)
        return run.id


def execute_run(
    place: Workplace, run_id: int, progress: Callable[[int], None] = lambda n: None
) -> dict[str, Any]:
    with place.reading() as db:
        record = run_store.get(db, run_id)
        if record is None:
            raise NotFoundError(f"no billing run {run_id}", "run_id")
        keys = list(record.summary.get("episodes", []))
        period = Period(record.period_start, record.period_end)
        run = _Run(run_id, period, record.as_of, record.started_by, place.setup())
    results: list[EpisodeBilled] = []
    status: RunStatus = "failed"
    try:
        for first in range(0, len(keys), RUN_CHUNK):
            results.extend(_bill_chunk(place, run, keys[first : first + RUN_CHUNK]))
            if len(results) < len(keys):  # the last count is the finish's
                with place.changing() as db:
                    run_store.progress(db, run_id, len(results))
            progress(len(results))
        status = "done"
    finally:
        summary = summarise(results)
        with place.changing() as db:
            run_store.finish(db, run_id, status, len(results), summary)
    return summary


@dataclass(frozen=True)
class _Run:
    """What every episode of one billing run is billed with."""

    id: int
    period: Period
    as_of: date
    username: str
    setup: Setup


def _bill_chunk(place: Workplace, run: _Run, keys: Sequence[str]) -> list[EpisodeBilled]:
    """A run's episodes, billed together in one transaction: their reads batched, one commit.

    A patient's second episode in the chunk is billed after the others (alone, so that it sees
    what the first one billed). When the transaction fails (another run won a day, a busy
    database, anything), nothing of it stays and each episode is billed alone, with retries:
    the batch is a way to go faster, never a second set of rules."""
    try:
        together, alone = _one_per_patient(place, keys)
        with place.transaction() as db:
            billed = _bill_together(db, run, [keys[i] for i in together])
        results = {i: billed[keys[i]] for i in together}
    except Exception as exc:
        log.info("billing run %s: %d episodes billed one by one (%s)", run.id, len(keys), type(exc).__name__)
        results, alone = {}, list(range(len(keys)))
    for i in alone:
        results[i] = _bill_one_of_many(place, run, keys[i])
    return [results[i] for i in range(len(keys))]


def _one_per_patient(place: Workplace, keys: Sequence[str]) -> tuple[list[int], list[int]]:
    """The keys' positions split: the first episode of each patient, and any later ones (a key
    listed twice included)."""
    if len(keys) < 2:
        return list(range(len(keys))), []
    with place.reading() as db:
        patient_of = episode_store.patients_of(db, keys)
    seen_keys: set[str] = set()
    seen: set[int] = set()
    together: list[int] = []
    alone: list[int] = []
    for i, key in enumerate(keys):
        patient = patient_of.get(key)
        if key in seen_keys or (patient is not None and patient in seen):
            alone.append(i)
        else:
            together.append(i)
        seen_keys.add(key)
        if patient is not None:
            seen.add(patient)
    return together, alone


def _bill_together(db: DbSession, run: _Run, keys: Sequence[str]) -> dict[str, EpisodeBilled]:
    billed: dict[str, EpisodeBilled] = {}
    for key, found in _compute_many(db, keys, run.period, run.as_of, run.setup).items():
        if isinstance(found, Exception):
            billed[key] = _failed(run, key, found)
        else:
            billed[key] = _apply(db, found, key, run.period, run.setup, run.username, run.id)
    return billed


def _failed(run: _Run, episode_key: str, exc: Exception) -> EpisodeBilled:
    """An episode of a run that could not be billed: a user's error says why; anything else is
    logged, by type and record id only (an exception's text may quote a personal value)."""
    if isinstance(exc, (NotFoundError, UnusableInputError)):
        return EpisodeBilled(episode_key, "failed", message=exc.message)
    log.error("billing run %s: episode %s failed (%s)", run.id, episode_key, type(exc).__name__)
    return EpisodeBilled(episode_key, "failed", message=EPISODE_FAILED)


def _bill_one_of_many(place: Workplace, run: _Run, episode_key: str) -> EpisodeBilled:
    """One episode of a run: whatever goes wrong with it fails that episode, named, and the run
    goes on with the others (one poison record must not stop everyone)."""
    try:
        return bill_with_retry(place, episode_key, run.period, run.as_of, run.username, run.id, run.setup)
    except Exception as exc:  # the last line of defence for the other episodes
        return _failed(run, episode_key, exc)


def fail_interrupted(place: Workplace) -> list[int]:
    """Runs still marked running when the server starts were interrupted (the process was killed):
    mark them failed and say so, so that no page polls them forever. Returns their ids."""
    with place.changing() as db:
        stopped = run_store.running(db)
        for run in stopped:
            summary = {**summarise([]), "message": INTERRUPTED}
            run_store.finish(db, run.id, "failed", run.done, summary)
            audit(db, "system", "run.interrupted", "billing_run", run.id, done=run.done, total=run.total)
        return [run.id for run in stopped]


def summarise(results: Sequence[EpisodeBilled]) -> dict[str, Any]:
    counts: dict[str, int] = dict.fromkeys(RUN_OUTCOMES, 0)
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


def launch_run(
    place: Workplace,
    period: Period,
    as_of: date | None,
    scope: Sequence[str],
    username: str,
    later: Callable[[Callable[[], object]], None] | None = None,
) -> int:
    """Start a run and bill it now, or hand the billing to `later` (a background task)."""
    run_id = start_run(place, period, as_of or place.clock.today(), scope, username)
    if later is None:
        execute_run(place, run_id)
    else:
        later(lambda: execute_run(place, run_id))
    return run_id


def recent(place: Workplace, limit: int) -> list[BillingRun]:
    with place.reading() as db:
        return run_store.recent(db, limit)


def read(place: Workplace, run_id: int) -> BillingRun:
    with place.reading() as db:
        run = run_store.get(db, run_id)
    if run is None:
        raise NotFoundError(f"no billing run {run_id}", "run_id")
    return run
