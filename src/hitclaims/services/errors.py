"""How an error a user can cause is answered, whatever the entry point: one table of HTTP
statuses for the API and the web page alike. Anything not in it is an internal error."""

from __future__ import annotations

from hitclaims.core.errors import (
    ConflictError,
    ForbiddenError,
    HitclaimsError,
    NotFoundError,
    NotSignedInError,
    UnavailableError,
    UnusableInputError,
)

__all__ = ["HTTP_STATUS", "INTERNAL", "http_status"]

HTTP_STATUS: dict[type[HitclaimsError], int] = {
    NotSignedInError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    UnusableInputError: 422,
    UnavailableError: 503,
}
# What a client sees of an unexpected exception: never its type or its message.
INTERNAL = "internal error: the request could not be completed; it has been logged"


def http_status(error: HitclaimsError) -> int:
    for kind in type(error).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return 422
