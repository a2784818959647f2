"""Billing runs in the store: a run's row, its progress and its summary.

Which claims a run writes is decided in the services (services/runs.py) with the pure lifecycle;
this module only keeps the run's own record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.days import Period
from hitclaims.core.vocabulary import RunStatus
from hitclaims.store.audit import now
from hitclaims.store.models import BillingRun, EpisodeRecord


def add(db: DbSession, period: Period, as_of: date, scope: Sequence[str], username: str) -> BillingRun:
    """A running run over the listed episodes (all of them when none is listed); flushed."""
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
        summary={"episodes": keys},
        started_by=username,
        started_at=now(),
    )
    db.add(run)
    db.flush()
    return run


def get(db: DbSession, run_id: int) -> BillingRun | None:
    return db.get(BillingRun, run_id)


def recent(db: DbSession, limit: int) -> list[BillingRun]:
    return list(db.scalars(select(BillingRun).order_by(BillingRun.id.desc()).limit(limit)))


def running(db: DbSession) -> list[BillingRun]:
    return list(db.scalars(select(BillingRun).where(BillingRun.status == "running").order_by(BillingRun.id)))


def progress(db: DbSession, run_id: int, done: int) -> None:
    db.execute(update(BillingRun).where(BillingRun.id == run_id).values(done=done))


def finish(db: DbSession, run_id: int, status: RunStatus, done: int, summary: dict[str, Any]) -> None:
    db.execute(
        update(BillingRun)
        .where(BillingRun.id == run_id)
        .values(status=status, done=done, summary=summary, finished_at=now())
    )
