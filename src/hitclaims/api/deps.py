"""What every API route depends on: the workplace, the signed-in person, and the documented
error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from hitclaims.api import schemas as s
from hitclaims.services.users import SAFE_METHODS, Person, check_origin, session_cookie, signed_in
from hitclaims.services.workplace import Workplace


def workplace(request: Request) -> Workplace:
    return request.app.state.workplace  # type: ignore[no-any-return]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def token_of(request: Request) -> str | None:
    """The Bearer token, else the session cookie (named __Host-… off plain loopback)."""
    bearer = _bearer(request)
    if bearer is not None:
        return bearer
    return request.cookies.get(session_cookie(request.url.scheme, request.url.hostname))


def current_person(request: Request) -> Person:
    person = signed_in(workplace(request), token_of(request))
    if _bearer(request) is None and request.method not in SAFE_METHODS:
        # Signed in by the cookie alone: a browser sends it from any page of the same site, so a
        # change must name this site's own origin (CSRF). A Bearer token is never sent by itself.
        check_origin(
            f"{request.url.scheme}://{request.url.netloc}",
            request.headers.get("origin"),
            request.headers.get("referer"),
        )
    return person


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
    413: {"model": s.Problem, "description": "The request body is over the input limit (5 MB)"},
    422: {"model": s.Problem, "description": "Unusable input, naming the field"},
}
CONFLICT: Responses = {409: {"model": s.Problem, "description": "Not allowed in the record's current state"}}
