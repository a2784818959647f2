"""Users (admins only) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hitclaims.api import schemas as s
from hitclaims.api.deps import AUTH, BAD, CONFLICT, NOT_FOUND, CurrentPerson, Place
from hitclaims.api.routes.session import user_out
from hitclaims.services import users

router = APIRouter(tags=["users"])


@router.get("/users", responses=AUTH)
def list_users(person: CurrentPerson, place: Place) -> list[s.UserOut]:
    return [user_out(u) for u in users.list_users(place, person)]


@router.post("/users", status_code=201, responses={**AUTH, **BAD, **CONFLICT})
def add_user(body: s.NewUser, person: CurrentPerson, place: Place) -> s.UserOut:
    return user_out(users.add_user(place, body.username, body.password, body.role, person))


@router.patch("/users/{username}", responses={**AUTH, **BAD, **NOT_FOUND})
def change_user(username: str, body: s.UserChange, person: CurrentPerson, place: Place) -> s.UserOut:
    return user_out(users.change_user(place, username, person, body.role, body.active, body.password))


@router.get("/audit", responses=AUTH)
def audit_log(
    person: CurrentPerson, place: Place, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[s.AuditOut]:
    return [
        s.AuditOut(
            at=a.at,
            username=a.username,
            action=a.action,
            entity=a.entity,
            entity_id=a.entity_id,
            detail=a.detail,
        )
        for a in users.audit_log(place, person, limit)
    ]
