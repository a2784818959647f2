"""The billers' web page: server-rendered Jinja2 pages with a little htmx, served next to /api.

Every page reads and changes the store through the same functions as the REST API (worklist,
claims, import_document, launch_run, claim_837, export_ready, change_status), so the page never
bills or moves a claim differently from the API. Pages sign in with the API's session cookie
(HttpOnly, SameSite=strict: another site's form cannot post with it). Nothing here logs.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, FastAPI, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException as StarletteHTTPException

from hitclaims import __version__
from hitclaims.api import schemas as s
from hitclaims.api.app import COOKIE, HttpProblemError, claim_837, import_document, launch_run, workplace
from hitclaims.core.errors import InputError
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store.episodes import current_version, load
from hitclaims.store.models import BillingRun, ClaimRecord, EpisodeVersion, Interchange, User
from hitclaims.store.models import Episode as EpisodeRecord
from hitclaims.store.users import SESSION_HOURS, authenticate, close_session, open_session
from hitclaims.web import ledger_calendar, views
from hitclaims.web.auth import (
    PageError,
    PageUser,
    SignedOutError,
    can_change,
    local_target,
    login_url,
    require_change,
    sentence,
    signed_in_user,
)

HERE = Path(__file__).resolve().parent
MAX_UPLOAD = 5 * 1024 * 1024  # an episode file is kilobytes; this only stops accidents
EPISODES_SHOWN = 500  # the list is for finding one; more than this, and an id is quicker
MAX_PASSWORD = 200  # as the API's sign-in: hashing megabytes of "password" is a denial of service
# Pages may load only this site's own script, style and images, and never sit inside a frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold patient data: not for the browser's disk cache
}
MOVE_LABELS = {"submitted": "Mark submitted", "paid": "Mark paid", "denied": "Mark denied", "void": "Void"}
WRONG = "Wrong user name or password."
BUSY = "Someone changed this episode at the same time; try again."
HEADINGS = {
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "Not possible now",
    422: "Cannot read that",
}
NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/static/")  # these answer as the API does
FIELD_LABELS = {"from": "From", "to": "To", "as_of": "As of", "episodes": "Episodes"}


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped, whatever the file name
        undefined=StrictUndefined,  # a misspelt name is an error in the tests, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = views.money
    env.filters["breakable"] = views.breakable
    env.globals["version"] = __version__
    env.globals["kinds"] = ledger_calendar.KINDS
    return env


templates = Jinja2Templates(env=_environment())
router = APIRouter(include_in_schema=False)  # the OpenAPI document stays the API's


def render(request: Request, name: str, user: User | None, status: int = 200, **context: Any) -> Response:
    place = workplace(request)
    base = {
        "user": user,
        "can_change": user is not None and can_change(user),
        "section": "",
        "zone": place.zone,
        "when": lambda moment: views.local_time(moment, place.zone),
    }
    return templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status, headers=SECURITY_HEADERS
    )


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)  # after a POST: the browser GETs the page


# --- signing in and out -----------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next_: Annotated[str, Query(alias="next")] = "/") -> Response:
    if signed_in_user(request) is not None:
        return redirect(local_target(next_))
    return render(request, "login.html", None, next=local_target(next_), username="", message="")


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    token = None
    if username and password and len(password) <= MAX_PASSWORD and len(username) <= 60:
        with workplace(request).factory() as db, db.begin():
            user = authenticate(db, username, password)
            token = open_session(db, user) if user is not None else None
    if token is None:
        message = WRONG if username and password else "Enter your user name and password."
        return render(
            request,
            "login.html",
            None,
            401,
            next=local_target(next_),
            username=username[:60],
            message=message,
        )
    response = redirect(local_target(next_))
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=SESSION_HOURS * 3600)
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        with workplace(request).factory() as db, db.begin():
            close_session(db, token)
    response = redirect("/login")
    response.delete_cookie(COOKIE)
    return response


# --- the worklist -----------------------------------------------------------------------------


def _export_notice(db: DbSession, exported: str) -> dict[str, Any] | None:
    if exported == "none":
        return {"kind": "info", "text": "No claim is ready to send: nothing was exported."}
    if not exported.isdigit():
        return None
    batch = db.get(Interchange, int(exported))
    if batch is None:
        return None
    return {"kind": "ok", "batch": batch.id, "claims": batch.claim_count}


@router.get("/")
def worklist_page(request: Request, user: PageUser, exported: str = "") -> Response:
    with workplace(request).factory() as db:
        groups = views.group_worklist(claim_store.worklist(db))
        counts = views.status_counts(db)
        notice = _export_notice(db, exported)
    return render(
        request, "worklist.html", user, section="worklist", groups=groups, counts=counts, notice=notice
    )


@router.post("/export")
def export_ready(request: Request, user: PageUser) -> Response:
    require_change(user)
    place = workplace(request)
    with place.factory() as db, db.begin():
        done = claim_store.export_ready(db, place.provider, user.username, place.zone)
    return redirect(f"/?exported={done.interchange_id}" if done else "/?exported=none")


# --- episodes ---------------------------------------------------------------------------------


def _episodes(db: DbSession) -> list[EpisodeRecord]:
    """The first episodes by id, and one more to tell whether there are more."""
    query = select(EpisodeRecord).options(selectinload(EpisodeRecord.patient))
    return list(db.scalars(query.order_by(EpisodeRecord.episode_key).limit(EPISODES_SHOWN + 1)))


def _imported_notice(db: DbSession, episode_id: str, version: str, changed: str) -> dict[str, Any] | None:
    record = db.scalar(select(EpisodeRecord).where(EpisodeRecord.episode_key == episode_id))
    if record is None or not version.isdigit():
        return None
    stored = db.scalar(
        select(EpisodeVersion).where(
            EpisodeVersion.episode_id == record.id, EpisodeVersion.version == int(version)
        )
    )
    notes = list(stored.notes) if stored is not None else []
    return {"episode_id": episode_id, "version": int(version), "changed": changed == "1", "notes": notes}


def _episodes_page(
    request: Request, user: User, status: int = 200, error: str = "", imported: dict[str, Any] | None = None
) -> Response:
    with workplace(request).factory() as db:
        episodes = _episodes(db)
        return render(
            request,
            "episodes.html",
            user,
            status,
            section="episodes",
            episodes=episodes[:EPISODES_SHOWN],
            more=len(episodes) > EPISODES_SHOWN,
            error=error,
            imported=imported,
        )


@router.get("/episodes")
def episodes_page(
    request: Request, user: PageUser, imported: str = "", version: str = "", changed: str = ""
) -> Response:
    notice = None
    if imported:
        with workplace(request).factory() as db:
            notice = _imported_notice(db, imported, version, changed)
    return _episodes_page(request, user, imported=notice)


def _upload_text(upload: UploadFile | None) -> tuple[str, str]:
    """The file's name and text, or an InputError (naming the file) a biller can act on."""
    if upload is None or not upload.filename:
        raise ValueError("Choose an episode file (JSON or a FHIR Bundle) to import.")
    name = Path(upload.filename).name[:120]
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(name, None, None, f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    if not data.strip():
        raise InputError(name, None, None, "the file is empty")
    try:
        return name, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(name, None, None, "not a text file (an episode is JSON in UTF-8)") from None


@router.post("/episodes")
def import_episode_file(
    request: Request, user: PageUser, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    require_change(user)
    place = workplace(request)
    try:
        name, text = _upload_text(file)
        with place.factory() as db, db.begin():
            done = import_document(db, place, text, name, user.username)
    except InputError as exc:  # it starts with the file's name, kept as it is
        return _episodes_page(request, user, 422, error=sentence(str(exc), capital=False))
    except ValueError as exc:
        return _episodes_page(request, user, 422, error=sentence(str(exc)))
    except (IntegrityError, OperationalError):
        return _episodes_page(request, user, 409, error=BUSY)
    query = urlencode({"imported": done.episode_id, "version": done.version, "changed": int(done.changed)})
    return redirect(f"/episodes?{query}")


def _episode_or_404(db: DbSession, episode_id: str, user: User) -> EpisodeRecord:
    record = db.scalar(
        select(EpisodeRecord)
        .where(EpisodeRecord.episode_key == episode_id)
        .options(selectinload(EpisodeRecord.patient), selectinload(EpisodeRecord.versions))
    )
    if record is None:
        raise PageError(404, f"There is no episode {episode_id}.", user)
    return record


@router.get("/episodes/{episode_id}")
def episode_page(request: Request, episode_id: str, user: PageUser, month: str = "") -> Response:
    place = workplace(request)
    as_of = views.today(place.zone)
    with place.factory() as db:
        record = _episode_or_404(db, episode_id, user)
        try:
            if month:
                first = ledger_calendar.parse_month(month)
            else:
                first = ledger_calendar.default_month(db, record, as_of)
        except ValueError as exc:
            raise PageError(422, sentence(str(exc)), user) from None
        shown = ledger_calendar.month_calendar(db, place, record, first, as_of)
        claims = claim_store.find(
            db, episode_key=episode_id, period_from=shown.first, period_to=shown.last, current_only=False
        )
        episode = load(current_version(db, record))
        return render(
            request,
            "episode.html",
            user,
            section="episodes",
            record=record,
            episode=episode,
            month=shown,
            claims=claims,
            as_of=as_of,
        )


# --- claims -----------------------------------------------------------------------------------


def _claim_filters(status: str, payer: str, first: str, last: str) -> tuple[dict[str, Any], str]:
    """The list's filters, checked; a bad one is dropped and named in a sentence."""
    problems: list[str] = []
    chosen: dict[str, Any] = {"status": None, "payer_id": payer.strip() or None}
    if status and status not in claim_store.STATES:
        problems.append(f"'{status}' is not a claim status")
    elif status:
        chosen["status"] = status
    for key, text, label in (("period_from", first, "From"), ("period_to", last, "To")):
        chosen[key] = None
        if text:
            try:
                chosen[key] = views.parse_day(text, label)
            except ValueError as exc:
                problems.append(str(exc))
    return chosen, "; ".join(sentence(p) for p in problems)


@router.get("/claims")
def claims_page(
    request: Request,
    user: PageUser,
    status: str = "",
    payer: str = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
) -> Response:
    chosen, error = _claim_filters(status, payer, from_, to)
    limit = 200
    with workplace(request).factory() as db:
        # A void claim is no longer current: asking for void ones means asking for old ones.
        found = claim_store.find(db, **chosen, current_only=chosen["status"] != "void", limit=limit + 1)
        return render(
            request,
            "claims.html",
            user,
            422 if error else 200,
            section="claims",
            claims=found[:limit],
            more=len(found) > limit,
            payers=views.payers(db),
            states=claim_store.STATES,
            filters={"status": status, "payer": payer, "from": from_, "to": to},
            error=error,
        )


def _claim_or_404(db: DbSession, claim_id: str, user: User) -> ClaimRecord:
    record = claim_store.get(db, int(claim_id)) if claim_id.isdigit() and len(claim_id) < 12 else None
    if record is None:
        raise PageError(404, f"There is no claim {claim_id}.", user)
    return record


def _sendable(place: Workplace, record: ClaimRecord) -> bool:
    """Whether the API would hand out this claim's 837: asked of the API's own function."""
    try:
        claim_837(place, record)
    except (HttpProblemError, ValueError):
        return False
    return True


def _claim_page(request: Request, user: User, claim_id: str, status: int = 200, error: str = "") -> Response:
    place = workplace(request)
    with place.factory() as db:
        record = _claim_or_404(db, claim_id, user)
        replaces = db.get(ClaimRecord, record.replaces_id) if record.replaces_id else None
        replaced_by = db.scalar(select(ClaimRecord).where(ClaimRecord.replaces_id == record.id))
        moves = sorted(claim_store.TRANSITIONS.get(record.status, frozenset()), key=list(MOVE_LABELS).index)
        return render(
            request,
            "claim.html",
            user,
            status,
            section="claims",
            record=record,
            claim=claim_store.claim_of(record),
            replaces=replaces,
            replaced_by=replaced_by,
            sendable=_sendable(place, record),
            moves=[(m, MOVE_LABELS[m]) for m in moves],
            error=error,
        )


@router.get("/claims/{claim_id}")
def claim_page(request: Request, claim_id: str, user: PageUser) -> Response:
    return _claim_page(request, user, claim_id)


@router.post("/claims/{claim_id}/status")
def move_claim(
    request: Request,
    claim_id: str,
    user: PageUser,
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    require_change(user)
    try:
        with workplace(request).factory() as db, db.begin():
            record = _claim_or_404(db, claim_id, user)
            claim_store.change_status(db, record.id, status, user.username, note.strip()[:500])
    except claim_store.StateError as exc:
        return _claim_page(request, user, claim_id, 409, sentence(str(exc).removeprefix("status: ")))
    return redirect(f"/claims/{claim_id}")


# --- billing runs -----------------------------------------------------------------------------


def _run_or_404(db: DbSession, run_id: str, user: User) -> BillingRun:
    run = db.get(BillingRun, int(run_id)) if run_id.isdigit() and len(run_id) < 12 else None
    if run is None:
        raise PageError(404, f"There is no billing run {run_id}.", user)
    return run


def _runs_page(
    request: Request,
    user: User,
    form: dict[str, str],
    run_id: str = "",
    status: int = 200,
    error: str = "",
    field: str | None = None,
) -> Response:
    place = workplace(request)
    with place.factory() as db:
        current = views.run_view(_run_or_404(db, run_id, user), place.zone) if run_id else None
        runs = [views.run_view(r, place.zone) for r in views.recent_runs(db)]
        return render(
            request,
            "runs.html",
            user,
            status,
            section="runs",
            form=form,
            run=current,
            runs=runs,
            error=error,
            field=field,
        )


def _default_form(place: Workplace) -> dict[str, str]:
    day = views.today(place.zone)
    first, last = views.previous_month(day)
    return {"from": first.isoformat(), "to": last.isoformat(), "as_of": day.isoformat(), "episodes": ""}


@router.get("/runs")
def runs_page(request: Request, user: PageUser, run: str = "") -> Response:
    form = _default_form(workplace(request))
    if run.isdigit():
        with workplace(request).factory() as db:
            shown = db.get(BillingRun, int(run)) if len(run) < 12 else None
            if shown is not None:  # the period just billed stays in the form, for a re-run
                form.update({"from": shown.period_start.isoformat(), "to": shown.period_end.isoformat()})
    return _runs_page(request, user, form, run)


def _run_request(db: DbSession, form: dict[str, str]) -> s.RunRequest:
    """The form as the API's run request; unknown episodes are named before anything starts."""
    keys = [k for k in re.split(r"[\s,;]+", form["episodes"]) if k]
    if keys:
        known = set(db.scalars(select(EpisodeRecord.episode_key).where(EpisodeRecord.episode_key.in_(keys))))
        missing = [k for k in keys if k not in known]
        if missing:
            raise ValueError(f"episodes: there is no episode {', '.join(missing[:5])}")
    return s.RunRequest(
        period_from=views.parse_day(form["from"], "from"),
        period_to=views.parse_day(form["to"], "to"),
        as_of=views.parse_day(form["as_of"], "as_of") if form["as_of"].strip() else None,
        episodes=list(dict.fromkeys(keys)),
    )


def _field_message(text: str) -> tuple[str | None, str]:
    field, _, rest = text.partition(": ")
    if rest and field in FIELD_LABELS:
        return field, sentence(f"{FIELD_LABELS[field]}: {rest}")
    return None, sentence(text)


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
    place = workplace(request)
    form = {"from": from_, "to": to, "as_of": as_of, "episodes": episodes[:20_000]}
    try:
        with place.factory() as db:
            body = _run_request(db, form)
        run_id = launch_run(place, body, user.username, background)
    except HttpProblemError as exc:
        field, message = _field_message(exc.detail)
        return _runs_page(request, user, form, status=422, error=message, field=field)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _runs_page(request, user, form, status=422, error=sentence(str(first.get("msg", "invalid"))))
    except ValueError as exc:
        field, message = _field_message(str(exc))
        return _runs_page(request, user, form, status=422, error=message, field=field)
    # The run goes on in the background after this answer; the page polls its progress.
    return redirect(f"/runs?run={run_id}")


@router.get("/runs/{run_id}/progress")
def run_progress(request: Request, run_id: str, user: PageUser) -> Response:
    place = workplace(request)
    with place.factory() as db:
        run = views.run_view(_run_or_404(db, run_id, user), place.zone)
        runs = [views.run_view(r, place.zone) for r in views.recent_runs(db)] if not run.running else []
        return render(request, "_run_progress.html", user, run=run, runs=runs, fragment=True)


# --- installing -------------------------------------------------------------------------------


async def _signed_out(request: Request, exc: Exception) -> Response:
    if request.headers.get("HX-Request"):
        # An htmx fragment (the run's progress): send the whole page to the sign-in form.
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return redirect(login_url(request))


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    heading = HEADINGS.get(exc.status, "Cannot do that")
    return render(request, "error.html", exc.user, exc.status, heading=heading, message=exc.message)


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def _http_problem(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return 404, "There is no such page."
        if exc.status_code == 405:
            return 405, "This page cannot be used that way."
        return exc.status_code, sentence(str(exc.detail))
    return 422, "Part of the request could not be read; go back and try again."


def _pages_too(app: FastAPI, kind: type[Exception]) -> None:
    """An unknown page or an unreadable form answers in a sentence on a page; the API keeps its
    own JSON answer for the same error (its handler, installed first, is called for /api)."""
    api_handler = app.exception_handlers.get(kind)

    async def handler(request: Request, exc: Exception) -> Response:
        if api_handler is not None and not _is_page(request):
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        status, message = _http_problem(exc)
        user = await run_in_threadpool(signed_in_user, request)
        heading = HEADINGS.get(status, "Cannot do that")
        return render(request, "error.html", user, status, heading=heading, message=message)

    app.add_exception_handler(kind, handler)


def install_web(app: FastAPI) -> None:
    """Mount the biller's pages on the app (outside /api, left out of the OpenAPI document)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(SignedOutError, _signed_out)
    app.add_exception_handler(PageError, _page_error)
    _pages_too(app, StarletteHTTPException)
    _pages_too(app, RequestValidationError)
