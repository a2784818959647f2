"""Users, sessions and permissions: who may sign in, and what each role may do.

Least privilege: a viewer reads, a biller also changes claims and episodes, an admin also manages
users and reads the audit log. Every check raises a typed error the entry points map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hitclaims.core.errors import ForbiddenError, NotSignedInError, UnusableInputError
from hitclaims.core.vocabulary import CHANGING_ROLES, ROLES, Role
from hitclaims.services.workplace import Workplace
from hitclaims.store import audit as audit_store
from hitclaims.store import users as user_store
from hitclaims.store.models import AuditEntry, User

SESSION_COOKIE = "hitclaims_session"
SESSION_HOURS = user_store.SESSION_HOURS
USERNAME_PATTERN = user_store.USERNAME_PATTERN
MIN_PASSWORD = user_store.MIN_PASSWORD
MAX_PASSWORD = 200  # hashing megabytes of "password" would be a denial of service
MAX_USERNAME = 60


@dataclass(frozen=True)
class Person:
    """The signed-in user as the entry points see them: a name and a role, nothing secret."""

    username: str
    role: Role
    active: bool = True
    created_at: datetime | None = None

    @property
    def may_change(self) -> bool:
        return self.role in CHANGING_ROLES


def _person(user: User) -> Person:
    return Person(user.username, role_of(user.role), user.active, user.created_at)


def require_change(person: Person) -> None:
    """The server refuses a viewer's change even when no button offered it."""
    if not person.may_change:
        raise ForbiddenError(f"a {person.role} can look but not change anything")


def require_admin(person: Person) -> None:
    if person.role != "admin":
        raise ForbiddenError("only an admin manages users and reads the audit log")


def role_of(text: str) -> Role:
    if text not in ROLES:
        raise UnusableInputError(f"{text!r} is not one of {', '.join(ROLES)}", "role")
    return text


def sign_in(place: Workplace, username: str, password: str) -> tuple[Person, str] | None:
    """The person and a new session token, or None for a wrong name or password."""
    if not username or not password or len(password) > MAX_PASSWORD or len(username) > MAX_USERNAME:
        return None
    with place.changing() as db:
        user = user_store.authenticate(db, username, password)
        if user is None:
            return None
        return _person(user), user_store.open_session(db, user)


def sign_out(place: Workplace, token: str) -> None:
    with place.changing() as db:
        user_store.close_session(db, token)


def person_for(place: Workplace, token: str | None) -> Person | None:
    if not token:
        return None
    with place.reading() as db:
        user = user_store.user_for_token(db, token)
        return _person(user) if user is not None else None


def signed_in(place: Workplace, token: str | None) -> Person:
    person = person_for(place, token)
    if person is None:
        raise NotSignedInError("not signed in: POST /api/session first")
    return person


def list_users(place: Workplace, by: Person) -> list[Person]:
    require_admin(by)
    with place.reading() as db:
        return [_person(u) for u in user_store.all_users(db)]


def add_user(place: Workplace, username: str, password: str, role: Role, by: Person | str) -> Person:
    """Create a user; `by` is the admin, or a name like "command line" for the operator."""
    if isinstance(by, Person):
        require_admin(by)
    with place.changing() as db:
        name = by.username if isinstance(by, Person) else by
        return _person(user_store.create_user(db, username, password, role, name))


def change_user(
    place: Workplace,
    username: str,
    by: Person,
    role: Role | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> Person:
    require_admin(by)
    with place.changing() as db:
        return _person(user_store.update_user(db, username, by.username, role, active, password))


def audit_log(place: Workplace, by: Person, limit: int) -> list[AuditEntry]:
    require_admin(by)
    with place.reading() as db:
        return audit_store.recent(db, limit)
