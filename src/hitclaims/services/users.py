"""Users, sessions and permissions: who may sign in, what each role may do, and what is audited.

Least privilege: a viewer reads, a biller also changes claims and episodes, an admin also manages
users and reads the audit log. Every check raises a typed error the entry points map.

Signing in is throttled: after `THROTTLE_LIMIT` failures in `THROTTLE_WINDOW`, for one user name
or from one client address, a sign-in is refused untried (no password hash is spent on it) until
the oldest of those failures leaves the window. Every sign-in, refusal and sign-out is audited
with ids and the client address only, never a password or a personal value. A session ends
after `SESSION_HOURS`, after the workplace's idle timeout, or when its user's password or role
changes. Reads of PHI (an episode, a claim and its 837, FHIR and PDF, a ledger) are audited too,
as HIPAA §164.312(b) expects.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from hitclaims.core.errors import (
    ConflictError,
    ForbiddenError,
    NotSignedInError,
    UnavailableError,
    UnusableInputError,
)
from hitclaims.core.vocabulary import CHANGING_ROLES, ROLES, Role
from hitclaims.services.workplace import Workplace
from hitclaims.store import audit as audit_store
from hitclaims.store import users as user_store
from hitclaims.store.models import AuditEntry, User

SESSION_HOURS = user_store.SESSION_HOURS
USERNAME_PATTERN = user_store.USERNAME_PATTERN
MIN_PASSWORD = 12
MAX_PASSWORD = 200  # hashing megabytes of "password" would be a denial of service
MAX_USERNAME = 60
MAX_TOKEN = 100  # tokens are 43 characters; anything much longer is not one of ours
THROTTLE_LIMIT = 10
THROTTLE_WINDOW = timedelta(minutes=15)
# A session's last use is written at most this often: enough for an idle timeout in minutes.
TOUCH_EVERY = timedelta(minutes=1)
# The session cookie, and the sign-in form's cookie, by name. Off plain loopback the names carry
# the __Host- prefix: the browser then keeps them only when Secure, for this host and path "/",
# so neither another host of the site nor plain HTTP can plant or read them.
SESSION_COOKIE = "hitclaims_session"
SECURE_SESSION_COOKIE = "__Host-hitclaims_session"
LOGIN_COOKIE = "hitclaims_login"
SECURE_LOGIN_COOKIE = "__Host-hitclaims_login"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TooManyTriesError(UnavailableError):
    """Too many failed sign-ins for a user name or from an address: try again after a while."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} seconds", "password")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Person:
    """The signed-in user as the entry points see them: a name and a role, nothing secret.
    `session_id` names the session in use (not its token), so a change can spare it."""

    username: str
    role: Role
    active: bool = True
    created_at: datetime | None = None
    session_id: int | None = None

    @property
    def may_change(self) -> bool:
        return self.role in CHANGING_ROLES


def _person(user: User, session_id: int | None = None) -> Person:
    return Person(user.username, role_of(user.role), user.active, user.created_at, session_id)


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


# --- passwords ------------------------------------------------------------------------------------


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (catalog/data/common_passwords.txt), lower case."""
    text = resources.files("hitclaims").joinpath("catalog", "data", "common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, username: str = "") -> None:
    """The rules for every password set, by an admin, by its user, on the command line or by
    the API: at least `MIN_PASSWORD` characters, not one character repeated, not a common
    password and not the user name."""
    if len(password) < MIN_PASSWORD:
        raise UnusableInputError(f"a password has at least {MIN_PASSWORD} characters", "password")
    if len(password) > MAX_PASSWORD:
        raise UnusableInputError(f"a password has at most {MAX_PASSWORD} characters", "password")
    if len(set(password)) == 1:
        raise UnusableInputError("a password is not one character repeated", "password")
    plain = password.strip().lower()
    if plain in common_passwords() or (username and username.lower() in (plain, plain.replace(" ", ""))):
        raise UnusableInputError(
            "that password is too common or too easy to guess; choose another", "password"
        )


# --- signing in and out ---------------------------------------------------------------------------


def _throttle_key(username: str) -> str:
    return username.strip().lower()[:MAX_USERNAME]


def _retry_after(failures: list[datetime], at: datetime) -> int:
    """Seconds until fewer than `THROTTLE_LIMIT` of the failures are inside the window (0: now)."""
    if len(failures) < THROTTLE_LIMIT:
        return 0
    frees_at = failures[len(failures) - THROTTLE_LIMIT] + THROTTLE_WINDOW
    return max(1, math.ceil((frees_at - at).total_seconds()))


def _refuse_if_throttled(place: Workplace, username: str, address: str, at: datetime) -> None:
    with place.reading() as db:
        by_name, by_address = user_store.failures_since(
            db, _throttle_key(username), address, at - THROTTLE_WINDOW
        )
    wait = max(_retry_after(by_name, at), _retry_after(by_address, at))
    if wait:
        with place.changing() as db:
            user = user_store.by_name(db, username)
            audit_store.audit(
                db,
                user.username if user else "unknown",
                "session.throttled",
                "user",
                user.id if user else "none",
                address=address,
                retry_after=wait,
            )
        raise TooManyTriesError(wait)


def _record_failure(place: Workplace, username: str, address: str, at: datetime, action: str) -> None:
    """A failed password, kept for the throttle and audited. A name that is no user is audited as
    "unknown": a password typed into the name field must not end up in the log."""
    with place.changing() as db:
        user_store.add_failure(db, _throttle_key(username), address, at, at - THROTTLE_WINDOW)
        user = user_store.by_name(db, username)
        actor, record = (user.username, user.id) if user else ("unknown", "none")
        audit_store.audit(db, actor, action, "user", record, address=address)


def sign_in(place: Workplace, username: str, password: str, address: str) -> tuple[Person, str] | None:
    """The person and a new session token, or None for a wrong name or password.
    TooManyTriesError when the name or the address has failed too often lately."""
    address = address[:64]
    at = place.clock.now()
    if not username or not password or len(password) > MAX_PASSWORD or len(username) > MAX_USERNAME:
        return None
    _refuse_if_throttled(place, username, address, at)
    with place.reading() as db:
        found = user_store.credentials(db, username)
    # The slow hash is checked outside any transaction: the database is not held meanwhile.
    if not user_store.password_matches(found, password):
        _record_failure(place, username, address, at, "session.refused")
        return None
    with place.changing() as db:
        user = user_store.by_id(db, found.user_id) if found.user_id is not None else None
        if user is None or not user.active:
            return None
        user_store.rehash_if_old(db, user, password)
        user_store.forget_failures(db, _throttle_key(username))
        token = user_store.open_session(db, user, at)
        return _person(user), token


def sign_out(place: Workplace, token: str) -> None:
    if not token or len(token) > MAX_TOKEN:
        return
    with place.changing() as db:
        user_store.close_session(db, token)


def person_for(place: Workplace, token: str | None) -> Person | None:
    """Who holds this session token, if the session is live; its use is noted for the idle
    timeout (at most once every `TOUCH_EVERY`)."""
    if not token or len(token) > MAX_TOKEN:
        return None
    at = place.clock.now()
    with place.reading() as db:
        session = user_store.session_for_token(db, token, at, place.session_idle)
        if session is None:
            return None
        person, stale = _person(session.user, session.id), session.last_seen_at < at - TOUCH_EVERY
    if stale:
        try:
            with place.changing() as db:
                user_store.touch_session(db, session.id, at, TOUCH_EVERY)
        except (UnavailableError, ConflictError):
            pass  # a busy database: the next request notes the use instead
    return person


def signed_in(place: Workplace, token: str | None) -> Person:
    person = person_for(place, token)
    if person is None:
        raise NotSignedInError("not signed in: POST /api/session first")
    return person


def change_own_password(place: Workplace, by: Person, current: str, new: str, address: str) -> None:
    """A user changes their own password, giving the current one; their other sessions end.
    A wrong current password counts as a failed sign-in (a stolen session must not be a way to
    guess it)."""
    address = address[:64]
    at = place.clock.now()
    check_password(new, by.username)
    _refuse_if_throttled(place, by.username, address, at)
    with place.reading() as db:
        found = user_store.credentials(db, by.username)
    if len(current) > MAX_PASSWORD or not user_store.password_matches(found, current):
        _record_failure(place, by.username, address, at, "user.password_refused")
        raise ForbiddenError("the current password is not right", "current_password")
    with place.changing() as db:
        user_store.update_user(db, by.username, by.username, password=new, keep_session=by.session_id)


# --- users (admins) -------------------------------------------------------------------------------


def list_users(place: Workplace, by: Person) -> list[Person]:
    require_admin(by)
    with place.reading() as db:
        return [_person(u) for u in user_store.all_users(db)]


def add_user(place: Workplace, username: str, password: str, role: Role, by: Person | str) -> Person:
    """Create a user; `by` is the admin, or a name like "command line" for the operator."""
    if isinstance(by, Person):
        require_admin(by)
    check_password(password, username)
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
    """An admin changes a user; a new role or password, or a deactivation, ends that user's
    sessions (an admin changing themselves keeps the session they are using)."""
    require_admin(by)
    if password is not None:
        check_password(password, username)
    keep = by.session_id if username == by.username else None
    with place.changing() as db:
        return _person(user_store.update_user(db, username, by.username, role, active, password, keep))


# --- cookies and where a request comes from ------------------------------------------------------


def plain_loopback(scheme: str, host: str | None) -> bool:
    """Plain HTTP on this machine only (the demo and the tests): the one place a cookie may go
    without Secure."""
    return scheme == "http" and (host or "").lower() in LOOPBACK_HOSTS


def session_cookie(scheme: str, host: str | None) -> str:
    return SESSION_COOKIE if plain_loopback(scheme, host) else SECURE_SESSION_COOKIE


def login_cookie(scheme: str, host: str | None) -> str:
    return LOGIN_COOKIE if plain_loopback(scheme, host) else SECURE_LOGIN_COOKIE


def form_token(secret: str) -> str:
    """The token a form carries, derived from a cookie's secret value (the session token, or the
    sign-in form's own random value): only a page this server rendered for that cookie has it,
    and the cookie itself never appears in a page."""
    return hmac.new(secret.encode(), b"hitclaims form", hashlib.sha256).hexdigest()


def form_token_matches(secret: str | None, sent: object) -> bool:
    return bool(secret) and isinstance(sent, str) and hmac.compare_digest(form_token(secret or ""), sent)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def check_origin(own: str, origin: str | None, referer: str | None) -> None:
    """A change made with a cookie must come from this site's own pages: its Origin header (or,
    without one, its Referer) names this very scheme, host and port. SameSite=Strict alone lets
    a page on another port of the same host post as the signed-in user."""
    sent = origin if origin is not None else referer
    mine = _origin(own)
    if not sent or mine is None or _origin(sent) != mine:
        raise ForbiddenError("a change must come from this site's own pages", "origin")


# --- the audit log --------------------------------------------------------------------------------


def audit_log(place: Workplace, by: Person, limit: int) -> list[AuditEntry]:
    require_admin(by)
    with place.reading() as db:
        return audit_store.recent(db, limit)


def audit_read(place: Workplace, by: Person, action: str, entity: str, entity_id: object) -> None:
    """Record that `by` read a record holding PHI: the record's id, never its content."""
    with place.changing() as db:
        audit_store.audit(db, by.username, action, entity, entity_id)
