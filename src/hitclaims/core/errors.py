"""Typed errors: what went wrong, in words, with the field it is about carried as data.

Every error a caller can cause is one of four kinds. Entry points map these types, and nothing
else, to their answers (exit 2, HTTP 404/409/403/422); any other exception is an internal error,
logged and answered without details. Messages name record ids and fields, never personal values.
"""

from __future__ import annotations


class HitclaimsError(Exception):
    """The base of every error a user or client can cause."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotFoundError(HitclaimsError):
    """No such record (an episode, claim, run, user or batch)."""


class ConflictError(HitclaimsError):
    """Not possible in the record's current state, or collides with what is already there."""


class ForbiddenError(HitclaimsError):
    """The user may not do this."""


class NotSignedInError(HitclaimsError):
    """No valid session: sign in first."""


class UnavailableError(HitclaimsError):
    """Busy for now (a locked database): the same request may succeed later."""


class UnusableInputError(HitclaimsError):
    """Input that cannot be used at all: a malformed request, file or value."""


class InputError(UnusableInputError):
    """Unusable input from a file: the file, the record and the field, and what is wrong."""

    def __init__(self, file: str, record: str | None, field: str | None, problem: str, more: int = 0) -> None:
        self.file, self.record, self.problem, self.more = file, record, problem, more
        super().__init__(self._text(file, record, field, problem, more), field)

    @staticmethod
    def _text(file: str, record: str | None, field: str | None, problem: str, more: int) -> str:
        where = [file]
        if record:
            where.append(f"record {record}")
        if field:
            where.append(f"field '{field}'")
        text = ": ".join(where) + f": {problem}"
        if more:
            text += f" (and {more} more problem{'s' if more > 1 else ''} in this file)"
        return text
