"""Billing runs: the form to bill a period, the recent runs, and a run's progress (polled)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request, Response

from hitclaims.core.errors import HitclaimsError, NotFoundError
from hitclaims.services import runs
from hitclaims.services.billing import checked_period, parse_day
from hitclaims.services.errors import http_status
from hitclaims.services.users import Person, require_change
from hitclaims.services.workplace import Workplace
from hitclaims.store.models import BillingRun
from hitclaims.web import views
from hitclaims.web.auth import PageUser
from hitclaims.web.render import error_sentence, redirect, render, workplace

router = APIRouter(include_in_schema=False)
RECENT = 15
MAX_EPISODES_TEXT = 20_000


def _run(place: Workplace, run_id: str) -> BillingRun:
    if not run_id.isdigit() or len(run_id) >= 10:
        raise NotFoundError(f"there is no billing run {run_id}", "run_id")
    return runs.read(place, int(run_id))


def _runs_page(
    request: Request,
    user: Person,
    form: dict[str, str],
    run_id: str = "",
    status: int = 200,
    error: str = "",
    field: str | None = None,
) -> Response:
    place = workplace(request)
    zone = place.clock.zone
    current = views.run_view(_run(place, run_id), zone) if run_id else None
    shown = [views.run_view(r, zone) for r in runs.recent(place, RECENT)]
    return render(
        request,
        "runs.html",
        user,
        status,
        section="runs",
        form=form,
        run=current,
        runs=shown,
        error=error,
        field=field,
    )


def _default_form(place: Workplace) -> dict[str, str]:
    day = place.clock.today()
    first, last = views.previous_month(day)
    return {"from": first.isoformat(), "to": last.isoformat(), "as_of": day.isoformat(), "episodes": ""}


@router.get("/runs")
def runs_page(request: Request, user: PageUser, run: str = "") -> Response:
    place = workplace(request)
    form = _default_form(place)
    if run:
        shown = _run(place, run)  # the period just billed stays in the form, for a re-run
        form.update({"from": shown.period_start.isoformat(), "to": shown.period_end.isoformat()})
    return _runs_page(request, user, form, run)


@router.post("/runs")
def start_run(
    request: Request,
    user: PageUser,
    background: BackgroundTasks,
    from_: Annotated[str, Form(alias="from")] = "",
    to: Annotated[str, Form()] = "",
    as_of: Annotated[str, Form()] = "",
    episodes: Annotated[str, Form()] = "",
) -> Response:
    require_change(user)
    form = {"from": from_, "to": to, "as_of": as_of, "episodes": episodes[:MAX_EPISODES_TEXT]}
    try:
        period = checked_period(parse_day(from_, "from"), parse_day(to, "to"))
        submitted = parse_day(as_of, "as_of") if as_of.strip() else None
        keys = list(dict.fromkeys(k for k in re.split(r"[\s,;]+", form["episodes"]) if k))
        run_id = runs.launch_run(
            workplace(request), period, submitted, keys, user.username, background.add_task
        )
    except HitclaimsError as exc:
        return _runs_page(
            request, user, form, status=http_status(exc), error=error_sentence(exc), field=exc.field
        )
    # The run goes on in the background after this answer; the page polls its progress.
    return redirect(f"/runs?run={run_id}")


@router.get("/runs/{run_id}/progress")
def run_progress(request: Request, run_id: str, user: PageUser) -> Response:
    place = workplace(request)
    run = views.run_view(_run(place, run_id), place.clock.zone)
    shown = (
        [views.run_view(r, place.clock.zone) for r in runs.recent(place, RECENT)] if not run.running else []
    )
    return render(request, "_run_progress.html", user, run=run, runs=shown, fragment=True)
