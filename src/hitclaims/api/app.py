"""The REST API (FastAPI): thin over the store; the web page is served by the same app.

Every error a client can cause is a 4xx with one sentence naming the field; nothing a request
contains may produce a 500. Responses carry record ids, never personal data in error texts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session as DbSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hitclaims import __version__
from hitclaims.api import schemas as s
from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.errors import InputError
from hitclaims.formats.cms1500 import render_pdf
from hitclaims.formats.fhir_claim import render_fhir
from hitclaims.formats.x12_837p import default_envelope, write_837
from hitclaims.services.billing import parse_any
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store.episodes import current_version, import_episode
from hitclaims.store.models import AuditEntry, BillingRun, ClaimRecord, User
from hitclaims.store.models import Episode as EpisodeRecord
from hitclaims.store.runs import compute, execute_run, start_run
from hitclaims.store.users import (
    SESSION_HOURS,
    AccessError,
    ConflictError,
    authenticate,
    close_session,
    create_user,
    open_session,
    update_user,
    user_for_token,
)

COOKIE = "hitclaims_session"


class HttpProblemError(Exception):
    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


def problem(
    status: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content=s.Problem(detail=detail, field=field).model_dump(), headers=headers
    )


Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": s.Problem, "description": "No such record"}}
AUTH: Responses = {
    401: {"model": s.Problem, "description": "Not signed in"},
    403: {"model": s.Problem, "description": "Not allowed"},
}
BAD: Responses = {
    400: {"model": s.Problem, "description": "The request body is not JSON"},
    422: {"model": s.Problem, "description": "Unusable input, naming the field"},
}
CONFLICT: Responses = {409: {"model": s.Problem, "description": "Not allowed in the record's current state"}}


def workplace(request: Request) -> Workplace:
    return request.app.state.workplace  # type: ignore[no-any-return]


def db_session(request: Request) -> Iterator[DbSession]:
    with workplace(request).factory() as db, db.begin():
        yield db


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def current_user(request: Request) -> User:
    # Its own short session: a request must not hold a second pooled connection while it works
    # (a waiting billing run opens its own), or 20 clients exhaust the pool.
    token = _token(request)
    with workplace(request).factory() as db:
        user = user_for_token(db, token) if token else None
        if user is None:
            raise HttpProblemError(401, "not signed in: POST /api/session first")
        db.expunge(user)
        return user


# The transaction commits when the endpoint returns, before the answer is sent: a client acting
# on a 2xx (signing in, then calling) must find the change committed.
Db = Annotated[DbSession, Depends(db_session, scope="function")]
# Record numbers are database ids: a 64-bit overflow must be a 422, not a driver error.
RecordNumber = Annotated[int, Path(ge=1, le=2_147_483_647)]
CurrentUser = Annotated[User, Depends(current_user)]


def may_change(user: User) -> None:
    if user.role not in ("admin", "biller"):
        raise HttpProblemError(403, f"a {user.role} can look but not change anything")


def admin_only(user: User) -> None:
    if user.role != "admin":
        raise HttpProblemError(403, "only an admin manages users and reads the audit log")


# Every route may answer a malformed request with 400/422 in the Problem shape: documented once
# here so that FastAPI does not advertise its own validation-error schema instead.
router = APIRouter(prefix="/api", responses=BAD)


@router.get("/health", tags=["service"])
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


# --- sessions and users -----------------------------------------------------------------------


@router.post("/session", tags=["users"], responses={401: {"model": s.Problem}, **BAD})
def sign_in(body: s.SignIn, response: Response, db: Db) -> s.SessionOut:
    user = authenticate(db, body.username, body.password)
    if user is None:
        raise HttpProblemError(401, "wrong user name or password")
    token = open_session(db, user)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=SESSION_HOURS * 3600)
    return s.SessionOut(token=token, username=user.username, role=user.role)


@router.delete("/session", status_code=204, tags=["users"])
def sign_out(request: Request, response: Response, db: Db) -> Response:
    token = _token(request)
    if token:
        close_session(db, token)
    response.delete_cookie(COOKIE)
    response.status_code = 204
    return response


def _user_out(user: User) -> s.UserOut:
    return s.UserOut(username=user.username, role=user.role, active=user.active, created_at=user.created_at)


@router.get("/me", tags=["users"], responses=AUTH)
def me(user: CurrentUser) -> s.UserOut:
    return _user_out(user)


@router.get("/users", tags=["users"], responses=AUTH)
def list_users(user: CurrentUser, db: Db) -> list[s.UserOut]:
    admin_only(user)
    return [_user_out(u) for u in db.scalars(select(User).order_by(User.username))]


@router.post("/users", status_code=201, tags=["users"], responses={**AUTH, **BAD, **CONFLICT})
def add_user(body: s.NewUser, user: CurrentUser, db: Db) -> s.UserOut:
    admin_only(user)
    return _user_out(create_user(db, body.username, body.password, body.role, user.username))


@router.patch("/users/{username}", tags=["users"], responses={**AUTH, **BAD, **NOT_FOUND})
def change_user(username: str, body: s.UserChange, user: CurrentUser, db: Db) -> s.UserOut:
    admin_only(user)
    return _user_out(update_user(db, username, user.username, body.role, body.active, body.password))


# --- episodes ---------------------------------------------------------------------------------


def import_document(db: DbSession, workplace_: Workplace, text: str, name: str, username: str) -> s.Imported:
    """An episode JSON or a FHIR Bundle, as text: checked exactly like `hitclaims bill` does."""
    episode, notes, source = parse_any(name, text, workplace_.catalog)
    try:
        workplace_.setup().policies.for_payer(episode.coverage.payer_id, _today(workplace_))
    except LookupError as exc:
        raise InputError(name, "coverage", "payer_id", str(exc)) from None
    done = import_episode(db, episode, source, notes, username)
    return s.Imported(episode_id=done.episode_id, version=done.version, changed=done.changed, notes=notes)


@router.post("/episodes", status_code=201, tags=["episodes"], responses={**AUTH, **BAD})
def add_episode(
    request: Request,
    user: CurrentUser,
    db: Db,
    body: Annotated[dict[str, Any], Body(description="An episode (SPEC v1) or a FHIR R4 Bundle.")],
) -> s.Imported:
    may_change(user)
    return import_document(db, workplace(request), json.dumps(body), "request body", user.username)


@router.get("/episodes", tags=["episodes"], responses=AUTH)
def list_episodes(
    user: CurrentUser,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[s.EpisodeSummary]:
    rows = db.scalars(select(EpisodeRecord).order_by(EpisodeRecord.episode_key).limit(limit).offset(offset))
    return [
        s.EpisodeSummary(
            episode_id=e.episode_key,
            patient_id=e.patient.patient_key,
            payer_id=e.payer_id,
            version=e.current_version,
            updated_at=e.updated_at,
        )
        for e in rows
    ]


def _episode(db: DbSession, episode_id: str) -> EpisodeRecord:
    record = db.scalar(select(EpisodeRecord).where(EpisodeRecord.episode_key == episode_id))
    if record is None:
        raise HttpProblemError(404, f"no episode {episode_id}", "episode_id")
    return record


@router.get("/episodes/{episode_id}", tags=["episodes"], responses={**AUTH, **NOT_FOUND})
def read_episode(episode_id: str, user: CurrentUser, db: Db) -> s.EpisodeOut:
    record = _episode(db, episode_id)
    return s.EpisodeOut(
        episode_id=record.episode_key,
        patient_id=record.patient.patient_key,
        payer_id=record.payer_id,
        version=record.current_version,
        versions=[
            s.VersionOut(
                version=v.version, imported_at=v.imported_at, imported_by=v.imported_by, source=v.source
            )
            for v in record.versions
        ],
        records=current_version(db, record).content,
    )


def _period(first: date, last: date) -> Period:
    if last < first:
        raise HttpProblemError(422, f"to: {last} is before from {first}", "to")
    if (last - first).days > 366:
        raise HttpProblemError(422, "to: a billing period is at most a year", "to")
    return Period(first, last)


@router.get("/episodes/{episode_id}/ledger", tags=["episodes"], responses={**AUTH, **NOT_FOUND, **BAD})
def episode_ledger(
    request: Request,
    episode_id: str,
    user: CurrentUser,
    db: Db,
    period_from: Annotated[s.IsoDate, Query(alias="from")],
    period_to: Annotated[s.IsoDate, Query(alias="to")],
    as_of: s.IsoDate | None = None,
) -> s.LedgerOut:
    """The day ledger for a period: what is billed, held or not billable, and why.

    Computed now from the current records and what other claims already bill."""
    _episode(db, episode_id)
    period = _period(period_from, period_to)
    place = workplace(request)
    try:
        result = compute(db, episode_id, period, as_of or _today(place), place.setup())
    except LookupError as exc:
        raise HttpProblemError(422, str(exc).strip("'\""), "episode_id") from None
    first = result.claims[0]
    return s.LedgerOut(
        episode_id=episode_id,
        period_from=period.start,
        period_to=period.end,
        claim_ids=[c.id for c in result.current],
        days=[
            s.LedgerDay(date=r.date, status=r.status, code=r.code, reasons=r.reasons, held_by=r.held_by)
            for r in first.ledger
        ],
    )


def _today(place: Workplace) -> date:
    return datetime.now(place.zone).date()


# --- billing runs -----------------------------------------------------------------------------


def _run_out(run: BillingRun) -> s.RunOut:
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


def launch_run(
    place: Workplace, body: s.RunRequest, username: str, background: BackgroundTasks | None
) -> int:
    period = _period(body.period_from, body.period_to)
    run_id = start_run(place.factory, period, body.as_of or _today(place), body.episodes, username)
    if background is None:
        execute_run(place.factory, run_id, place.setup())
    else:
        background.add_task(execute_run, place.factory, run_id, place.setup())
    return run_id


@router.post(
    "/runs", status_code=202, tags=["billing runs"], responses={**AUTH, **BAD, 201: {"model": s.RunOut}}
)
def new_run(
    request: Request, body: s.RunRequest, user: CurrentUser, background: BackgroundTasks, response: Response
) -> s.RunOut:
    """Bill a period for all episodes (or the listed ones). `wait` runs it before answering;
    otherwise poll GET /api/runs/{id}. Re-running a period bills nothing twice and says so."""
    may_change(user)
    place = workplace(request)
    run_id = launch_run(place, body, user.username, None if body.wait else background)
    if body.wait:
        response.status_code = 201
    with place.factory() as db:
        run = db.get(BillingRun, run_id)
        assert run is not None
        return _run_out(run)


@router.get("/runs", tags=["billing runs"], responses=AUTH)
def list_runs(user: CurrentUser, db: Db, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[s.RunOut]:
    return [_run_out(r) for r in db.scalars(select(BillingRun).order_by(BillingRun.id.desc()).limit(limit))]


@router.get("/runs/{run_id}", tags=["billing runs"], responses={**AUTH, **NOT_FOUND})
def read_run(run_id: RecordNumber, user: CurrentUser, db: Db) -> s.RunOut:
    run = db.get(BillingRun, run_id)
    if run is None:
        raise HttpProblemError(404, f"no billing run {run_id}", "run_id")
    return _run_out(run)


# --- claims -----------------------------------------------------------------------------------


def _summary(record: ClaimRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "claim_id": record.claim_key,
        "episode_id": record.episode.episode_key,
        "payer_id": record.payer_id,
        "period_from": record.period_start,
        "period_to": record.period_end,
        "status": record.status,
        "frequency_code": record.frequency_code,
        "total_charge": record.total_charge,
        "is_current": record.is_current,
    }


@router.get("/claims", tags=["claims"], responses={**AUTH, **BAD})
def list_claims(
    user: CurrentUser,
    db: Db,
    status: s.Status | None = None,
    payer_id: str | None = None,
    period_from: Annotated[s.IsoDate | None, Query(alias="from")] = None,
    period_to: Annotated[s.IsoDate | None, Query(alias="to")] = None,
    episode_id: str | None = None,
    include_replaced: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[s.ClaimSummary]:
    records = claim_store.find(
        db, status, payer_id, period_from, period_to, episode_id, not include_replaced, limit, offset
    )
    return [s.ClaimSummary(**_summary(r)) for r in records]


def _claim(db: DbSession, claim_id: int) -> ClaimRecord:
    record = claim_store.get(db, claim_id)
    if record is None:
        raise HttpProblemError(404, f"no claim {claim_id}", "claim_id")
    return record


def claim_out(record: ClaimRecord) -> s.ClaimOut:
    return s.ClaimOut(
        **_summary(record),
        replaces=record.replaces_id,
        claim=record.content,
        events=[
            s.EventOut(
                at=e.at, username=e.username, from_status=e.from_status, to_status=e.to_status, note=e.note
            )
            for e in record.events
        ],
    )


@router.get("/claims/{claim_id}", tags=["claims"], responses={**AUTH, **NOT_FOUND})
def read_claim(claim_id: RecordNumber, user: CurrentUser, db: Db) -> s.ClaimOut:
    """A claim with its lines, findings, held days and the reasons behind each day."""
    return claim_out(_claim(db, claim_id))


def claim_837(place: Workplace, record: ClaimRecord) -> str:
    """The claim alone as an 837 (a sent claim as it was sent; an unsent one only when ready)."""
    claim = claim_store.claim_of(record)
    if record.status not in ("ready", "submitted", "paid", "denied"):
        raise HttpProblemError(409, f"status: a {record.status} claim is never written to an 837", "status")
    sendable = claim.model_copy(update={"status": "ready"})
    envelope = default_envelope([sendable], place.provider.receiver.id, record.created_at.date())
    return write_837([sendable], envelope, place.provider.receiver.name)


@router.get(
    "/claims/{claim_id}/837",
    tags=["claims"],
    responses={**AUTH, **NOT_FOUND, **CONFLICT, 200: {"content": {"text/plain": {}}}},
    response_class=Response,
)
def download_837(request: Request, claim_id: RecordNumber, user: CurrentUser, db: Db) -> Response:
    record = _claim(db, claim_id)
    return Response(
        claim_837(workplace(request), record),
        media_type="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{record.claim_key}.837"'},
    )


@router.get(
    "/claims/{claim_id}/fhir",
    tags=["claims"],
    responses={**AUTH, **NOT_FOUND, 200: {"content": {"application/fhir+json": {}}}},
    response_class=Response,
)
def download_fhir(claim_id: RecordNumber, user: CurrentUser, db: Db) -> Response:
    record = _claim(db, claim_id)
    return Response(
        render_fhir([claim_store.claim_of(record)]),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{record.claim_key}.fhir.json"'},
    )


@router.get(
    "/claims/{claim_id}/pdf",
    tags=["claims"],
    responses={**AUTH, **NOT_FOUND, 200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
def download_pdf(claim_id: RecordNumber, user: CurrentUser, db: Db) -> Response:
    record = _claim(db, claim_id)
    claim: Claim = claim_store.claim_of(record)
    return Response(
        render_pdf([claim]),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{record.claim_key}.pdf"'},
    )


@router.post("/claims/{claim_id}/status", tags=["claims"], responses={**AUTH, **NOT_FOUND, **CONFLICT, **BAD})
def move_claim(claim_id: RecordNumber, body: s.StatusChange, user: CurrentUser, db: Db) -> s.ClaimOut:
    may_change(user)
    _claim(db, claim_id)
    return claim_out(claim_store.change_status(db, claim_id, body.status, user.username, body.note))


@router.get("/worklist", tags=["claims"], responses=AUTH)
def worklist(user: CurrentUser, db: Db) -> list[s.WorkItemOut]:
    """Everything held: claims and the findings that hold them, held days and held lines."""
    return [
        s.WorkItemOut(
            claim=w.claim_id,
            claim_id=w.claim_key,
            episode_id=w.episode_id,
            payer_id=w.payer_id,
            status=w.status,
            holds=w.kind,
            date=w.day,
            rule=w.rule,
            message=w.message,
        )
        for w in claim_store.worklist(db)
    ]


# --- exports and the audit log ----------------------------------------------------------------


@router.post("/exports", status_code=201, tags=["claims"], responses={**AUTH, **BAD, **CONFLICT})
def export_claims(request: Request, body: s.ExportRequest, user: CurrentUser, db: Db) -> s.ExportOut:
    """One 837 batch of every ready claim (of one payer, if given); they become submitted."""
    may_change(user)
    place = workplace(request)
    done = claim_store.export_ready(db, place.provider, user.username, place.zone, body.payer_id)
    if done is None:
        raise HttpProblemError(409, "no claim is ready to send", "status")
    return s.ExportOut(interchange=done.interchange_id, claims=done.claim_ids)


@router.get(
    "/exports/{interchange_id}/837",
    tags=["claims"],
    responses={**AUTH, **NOT_FOUND, 200: {"content": {"text/plain": {}}}},
    response_class=Response,
)
def download_export(interchange_id: RecordNumber, user: CurrentUser, db: Db) -> Response:
    batch = claim_store.interchange(db, interchange_id)
    if batch is None:
        raise HttpProblemError(404, f"no 837 batch {interchange_id}", "interchange_id")
    return Response(
        batch.content,
        media_type="text/plain",
        headers={"Content-Disposition": f'attachment; filename="batch-{interchange_id:09d}.837"'},
    )


@router.get("/audit", tags=["users"], responses=AUTH)
def audit_log(
    user: CurrentUser, db: Db, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[s.AuditOut]:
    admin_only(user)
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [
        s.AuditOut(
            at=a.at,
            username=a.username,
            action=a.action,
            entity=a.entity,
            entity_id=a.entity_id,
            detail=a.detail,
        )
        for a in rows
    ]


# --- the app ----------------------------------------------------------------------------------


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(HttpProblemError)
    async def _problem(_: Request, exc: HttpProblemError) -> JSONResponse:
        return problem(exc.status, exc.detail, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = _field_of(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return problem(422, f"{field or 'request'}: {message}", field)

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        where = ".".join(p for p in (exc.record, exc.field) if p)
        return problem(422, f"{where + ': ' if where else ''}{exc.problem}", exc.field)

    @app.exception_handler(claim_store.StateError)
    async def _state(_: Request, exc: claim_store.StateError) -> JSONResponse:
        return problem(409, str(exc), "status")

    @app.exception_handler(AccessError)
    async def _access(_: Request, exc: AccessError) -> JSONResponse:
        return problem(403, str(exc))

    @app.exception_handler(LookupError)
    async def _missing(_: Request, exc: LookupError) -> JSONResponse:
        return problem(404, str(exc).strip("'\""))

    @app.exception_handler(ValueError)
    async def _value(_: Request, exc: ValueError) -> JSONResponse:
        text_ = str(exc)
        field = text_.split(":", 1)[0] if ":" in text_ else None
        return problem(422, text_, field)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return problem(409, "the change conflicts with another one made at the same time; try again")

    @app.exception_handler(OperationalError)
    async def _busy(_: Request, exc: OperationalError) -> JSONResponse:
        return problem(503, "the database is busy; try again")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette lists the methods of the one route it tried; RFC 9110 wants every method
            # the resource supports.
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return problem(exc.status_code, str(exc.detail), headers=headers or None)

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        text_ = str(exc)
        return problem(409, text_, text_.split(":", 1)[0] if ":" in text_ else None)


def create_app(place: Workplace | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        opened = place is None
        app.state.workplace = place or Workplace.open()
        yield
        if opened:
            app.state.workplace.close()

    app = FastAPI(
        title="hitclaims",
        version=__version__,
        description="Home infusion per-diem billing: episodes, billing runs, claims and their states.",
        lifespan=lifespan,
    )
    if place is not None:
        app.state.workplace = place
    install_errors(app)
    app.include_router(router)
    from hitclaims.web.pages import install_web

    install_web(app)
    return app
