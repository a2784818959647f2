"""What every API route depends on: the workplace, the signed-in person, and the documented
error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from hitclaims.api import schemas as s
from hitclaims.services.users import SESSION_COOKIE, Person, signed_in
from hitclaims.services.workplace import Workplace


def workplace(request: Request) -> Workplace:
    return request.app.state.workplace  # type: ignore[no-any-return]


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def current_person(request: Request) -> Person:
    return signed_in(workplace(request), token_of(request))


Place = Annotated[Workplace, Depends(workplace)]
CurrentPerson = Annotated[Person, Depends(current_person)]
# Record numbers are database ids: a 64-bit overflow must be a 422, not a driver error.
RecordNumber = Annotated[int, Path(ge=1, le=2_147_483_647)]

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
