"""Billing runs: bill a period for all episodes (or the listed ones), and follow their progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Response

from hitclaims.api import schemas as s
from hitclaims.api.deps import AUTH, BAD, NOT_FOUND, CurrentPerson, Place, RecordNumber
from hitclaims.services import runs
from hitclaims.services.billing import checked_period
from hitclaims.services.users import require_change
from hitclaims.store.models import BillingRun

router = APIRouter(tags=["billing runs"])


def run_out(run: BillingRun) -> s.RunOut:
    return s.RunOut(
        id=run.id,
        period_from=run.period_start,
        period_to=run.period_end,
        as_of=run.as_of,
        status=run.status,
        total=run.total,
        done=run.done,
        started_by=run.started_by,
        started_at=run.started_at,
        finished_at=run.finished_at,
        summary=run.summary,
    )


@router.post("/runs", status_code=202, responses={**AUTH, **BAD, 201: {"model": s.RunOut}})
def new_run(
    body: s.RunRequest, person: CurrentPerson, place: Place, background: BackgroundTasks, response: Response
) -> s.RunOut:
    """Bill a period for all episodes (or the listed ones). `wait` runs it before answering;
    otherwise poll GET /api/runs/{id}. Re-running a period bills nothing twice and says so."""
    require_change(person)
    period = checked_period(body.period_from, body.period_to)
    later = None if body.wait else background.add_task
    run_id = runs.launch_run(place, period, body.as_of, body.episodes, person.username, later)
    if body.wait:
        response.status_code = 201
    return run_out(runs.read(place, run_id))


@router.get("/runs", responses=AUTH)
def list_runs(
    person: CurrentPerson, place: Place, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[s.RunOut]:
    return [run_out(r) for r in runs.recent(place, limit)]


@router.get("/runs/{run_id}", responses={**AUTH, **NOT_FOUND})
def read_run(run_id: RecordNumber, person: CurrentPerson, place: Place) -> s.RunOut:
    return run_out(runs.read(place, run_id))
