"""Signing in and out, and who is signed in."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hitclaims.api import schemas as s
from hitclaims.api.deps import AUTH, BAD, CurrentPerson, Place, token_of
from hitclaims.core.errors import NotSignedInError
from hitclaims.services import users
from hitclaims.services.users import SESSION_COOKIE, SESSION_HOURS

router = APIRouter(tags=["users"])


@router.post("/session", responses={401: {"model": s.Problem}, **BAD})
def sign_in(body: s.SignIn, response: Response, place: Place) -> s.SessionOut:
    signed = users.sign_in(place, body.username, body.password)
    if signed is None:
        raise NotSignedInError("wrong user name or password")
    person, token = signed
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", max_age=SESSION_HOURS * 3600)
    return s.SessionOut(token=token, username=person.username, role=person.role)


@router.delete("/session", status_code=204)
def sign_out(request: Request, response: Response, place: Place) -> Response:
    token = token_of(request)
    if token:
        users.sign_out(place, token)
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/me", responses=AUTH)
def me(person: CurrentPerson) -> s.UserOut:
    return user_out(person)


def user_out(person: users.Person) -> s.UserOut:
    assert person.created_at is not None
    return s.UserOut(
        username=person.username, role=person.role, active=person.active, created_at=person.created_at
    )
