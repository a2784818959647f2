"""Signing in and out, who is signed in, and changing one's own password.

Sign-in failures are throttled (429 with Retry-After) by the users service. The session cookie
the sign-in also sets is HttpOnly and SameSite=Strict, and off plain loopback named __Host-… and
Secure; a client using the cookie instead of the Bearer token must send an Origin of this site
for a change.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from hitclaims.api import schemas as s
from hitclaims.api.deps import AUTH, BAD, CurrentPerson, Place, Responses, token_of
from hitclaims.core.errors import NotSignedInError
from hitclaims.services import users
from hitclaims.services.users import (
    SESSION_HOURS,
    TooManyTriesError,
    check_origin,
    plain_loopback,
    session_cookie,
)

router = APIRouter(tags=["users"])
THROTTLED: Responses = {
    429: {
        "model": s.Problem,
        "description": "Too many failed sign-ins: try again after Retry-After seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
    }
}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttled(exc: TooManyTriesError) -> JSONResponse:
    return JSONResponse(
        status_code=429,
        content=s.Problem(detail=exc.message, field=exc.field).model_dump(),
        headers={"Retry-After": str(exc.retry_after)},
    )


def _secure(request: Request) -> bool:
    return not plain_loopback(request.url.scheme, request.url.hostname)


@router.post(
    "/session", response_model=s.SessionOut, responses={401: {"model": s.Problem}, **THROTTLED, **BAD}
)
def sign_in(body: s.SignIn, request: Request, response: Response, place: Place) -> s.SessionOut | Response:
    try:
        signed = users.sign_in(place, body.username, body.password, _address(request))
    except TooManyTriesError as exc:
        return _throttled(exc)
    if signed is None:
        raise NotSignedInError("wrong user name or password")
    person, token = signed
    response.set_cookie(
        session_cookie(request.url.scheme, request.url.hostname),
        token,
        max_age=SESSION_HOURS * 3600,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return s.SessionOut(token=token, username=person.username, role=person.role)


@router.delete("/session", status_code=204, responses=AUTH)
def sign_out(request: Request, response: Response, place: Place) -> Response:
    if not request.headers.get("authorization"):
        # Signing out with the cookie alone: only from this site's pages.
        check_origin(
            f"{request.url.scheme}://{request.url.netloc}",
            request.headers.get("origin"),
            request.headers.get("referer"),
        )
    token = token_of(request)
    if token:
        users.sign_out(place, token)
    response.delete_cookie(
        session_cookie(request.url.scheme, request.url.hostname),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.status_code = 204
    return response


@router.get("/me", responses=AUTH)
def me(person: CurrentPerson) -> s.UserOut:
    return user_out(person)


@router.post("/me/password", status_code=204, responses={**AUTH, **THROTTLED, **BAD})
def change_my_password(
    body: s.PasswordChange, request: Request, person: CurrentPerson, place: Place
) -> Response:
    """Change your own password, giving the current one. Your other sessions end; this one
    goes on. A wrong current password is a 403 and counts as a failed sign-in."""
    try:
        users.change_own_password(place, person, body.current_password, body.new_password, _address(request))
    except TooManyTriesError as exc:
        return _throttled(exc)
    return Response(status_code=204)


def user_out(person: users.Person) -> s.UserOut:
    assert person.created_at is not None
    return s.UserOut(
        username=person.username, role=person.role, active=person.active, created_at=person.created_at
    )
