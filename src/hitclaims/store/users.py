"""Users, roles, sessions and failed sign-ins.

Passwords are hashed with Argon2id (argon2-cffi); a session token is random and only its SHA-256
digest is stored, so a copy of the database signs nobody in. Argon2 takes 64 MiB a hash: at most
`HASHING_AT_ONCE` hashes run at once, so a flood of sign-ins cannot take memory without limit.
The rules a password must meet are the users service's; this module only stores what it is given.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.errors import ConflictError, NotFoundError, UnavailableError, UnusableInputError
from hitclaims.core.vocabulary import Role
from hitclaims.store.audit import audit, now
from hitclaims.store.models import SignInFailure, User, UserSession

SESSION_HOURS = 12
SESSION_IDLE_MINUTES = 30  # the default; the workplace carries the one in force
# Lower case, starting with a letter: the same rule for the API, the web page and the command line.
USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{2,59}$"
HASHING_AT_ONCE = 4  # 4 x 64 MiB at most, whatever arrives
HASHING_WAIT_SECONDS = 15  # longer than this in the queue, and the request is told to come back
_hasher = PasswordHasher()
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
# Verified against when the user name is unknown: the same work either way, so timing does not
# tell which names exist.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _hash(password: str) -> str:
    if not _hashing.acquire(timeout=HASHING_WAIT_SECONDS):
        raise UnavailableError("too many sign-ins at once; try again in a moment")
    try:
        return _hasher.hash(password)
    finally:
        _hashing.release()


def _verify(password_hash: str, password: str) -> bool:
    if not _hashing.acquire(timeout=HASHING_WAIT_SECONDS):
        raise UnavailableError("too many sign-ins at once; try again in a moment")
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    finally:
        _hashing.release()


def create_user(db: DbSession, username: str, password: str, role: Role, by: str) -> User:
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise UnusableInputError(
            "a user name is 3 to 60 lower-case letters, digits, '.', '_' or '-', starting with a letter",
            "username",
        )
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError(f"the user name {username!r} is taken", "username")
    user = User(username=username, password_hash=_hash(password), role=role, active=True, created_at=now())
    db.add(user)
    db.flush()
    audit(db, by, "user.create", "user", user.id, login=username, role=role)
    return user


def update_user(
    db: DbSession,
    username: str,
    by: str,
    role: Role | None = None,
    active: bool | None = None,
    password: str | None = None,
    keep_session: int | None = None,
) -> User:
    """Change a user; a new role, a new password or a deactivation ends the user's sessions
    (all but `keep_session`, the one making the change when users change themselves)."""
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}", "username")
    changed: dict[str, Any] = {}
    if role is not None and role != user.role:
        user.role, changed["role"] = role, role
    if active is not None and active != user.active:
        user.active, changed["active"] = active, active
    if password is not None:
        user.password_hash, changed["password"] = _hash(password), "changed"
    if user.role != "admin" or not user.active:
        admins = db.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
        )
        if not admins:
            raise UnusableInputError("the last active admin cannot be removed", "role")
    if changed:
        changed["sessions_ended"] = end_sessions(db, user.id, keep_session if user.active else None)
    audit(db, by, "user.update", "user", user.id, login=username, **changed)
    return user


def end_sessions(db: DbSession, user_id: int, keep_session: int | None = None) -> int:
    """End every session of the user but `keep_session`; how many were ended."""
    ending = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_session is not None:
        ending = ending.where(UserSession.id != keep_session)
    return int(getattr(db.execute(ending), "rowcount", 0) or 0)


@dataclass(frozen=True)
class Credentials:
    """What checking a password needs, read before the (slow) hash is checked outside any
    transaction."""

    user_id: int | None
    password_hash: str
    active: bool


def credentials(db: DbSession, username: str) -> Credentials:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        return Credentials(None, _UNKNOWN_USER_HASH, False)
    return Credentials(user.id, user.password_hash, user.active)


def password_matches(found: Credentials, password: str) -> bool:
    """Whether the password is the active user's; an unknown or inactive user costs the same."""
    return _verify(found.password_hash, password) and found.user_id is not None and found.active


def authenticate(db: DbSession, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (the hash is checked inside the
    caller's session: sign-in itself reads the credentials first and checks them outside)."""
    found = credentials(db, username)
    if not password_matches(found, password) or found.user_id is None:
        return None
    return by_id(db, found.user_id)


def rehash_if_old(db: DbSession, user: User, password: str) -> None:
    """Argon2's parameters rise over time: a successful sign-in upgrades an old hash."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hash(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: DbSession, user: User, at: datetime | None = None) -> str:
    moment = at or now()
    # Sessions past their limit are kept by nothing: clear them while writing anyway.
    db.execute(delete(UserSession).where(UserSession.expires_at < moment))
    token = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            token_digest=_digest(token),
            user_id=user.id,
            created_at=moment,
            expires_at=moment + timedelta(hours=SESSION_HOURS),
            last_seen_at=moment,
        )
    )
    audit(db, user.username, "session.open", "user", user.id)
    return token


def session_for_token(db: DbSession, token: str, at: datetime, idle: timedelta) -> UserSession | None:
    """The live session of an active user for the token: not past its limit, not idle too long."""
    session = db.scalar(select(UserSession).where(UserSession.token_digest == _digest(token)))
    if session is None or session.expires_at < at or session.last_seen_at + idle < at:
        return None
    return session if session.user.active else None


def touch_session(db: DbSession, session_id: int, at: datetime, every: timedelta) -> None:
    """Note the session's use, at most once per `every`, to spare a write on every request."""
    db.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at < at - every)
        .values(last_seen_at=at)
    )


def close_session(db: DbSession, token: str) -> None:
    session = db.scalar(select(UserSession).where(UserSession.token_digest == _digest(token)))
    if session is None:
        return
    audit(db, session.user.username, "session.close", "user", session.user_id)
    db.delete(session)


def failures_since(
    db: DbSession, username: str, address: str, since: datetime
) -> tuple[list[datetime], list[datetime]]:
    """When the failed sign-ins for this name, and those from this address, happened since
    `since`, each oldest first."""
    by_name = select(SignInFailure.at).where(SignInFailure.username == username, SignInFailure.at >= since)
    by_address = select(SignInFailure.at).where(SignInFailure.address == address, SignInFailure.at >= since)
    return (
        list(db.scalars(by_name.order_by(SignInFailure.at))),
        list(db.scalars(by_address.order_by(SignInFailure.at))),
    )


def add_failure(db: DbSession, username: str, address: str, at: datetime, forget_before: datetime) -> None:
    """Keep a failed sign-in; failures older than the throttle's window are of no more use."""
    db.execute(delete(SignInFailure).where(SignInFailure.at < forget_before))
    db.add(SignInFailure(username=username, address=address, at=at))


def forget_failures(db: DbSession, username: str) -> None:
    """The right password ends the name's throttle (never the address's: one good account
    must not clear a guesser's record)."""
    db.execute(delete(SignInFailure).where(SignInFailure.username == username))


def by_name(db: DbSession, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def by_id(db: DbSession, user_id: int) -> User | None:
    return db.get(User, user_id)


def all_users(db: DbSession) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))
