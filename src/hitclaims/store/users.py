"""Users, roles, sessions and the audit log.

Passwords are hashed with Argon2id (argon2-cffi); a session token is random and only its SHA-256
digest is stored, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.errors import ConflictError, NotFoundError, UnusableInputError
from hitclaims.core.vocabulary import Role
from hitclaims.store.audit import audit, now
from hitclaims.store.models import User, UserSession

SESSION_HOURS = 12
# Lower case, starting with a letter: the same rule for the API, the web page and the command line.
USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{2,59}$"
MIN_PASSWORD = 10
_hasher = PasswordHasher()


def create_user(db: DbSession, username: str, password: str, role: Role, by: str) -> User:
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise UnusableInputError(
            "a user name is 3 to 60 lower-case letters, digits, '.', '_' or '-', starting with a letter",
            "username",
        )
    if len(password) < MIN_PASSWORD:
        raise UnusableInputError(f"a password has at least {MIN_PASSWORD} characters", "password")
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError(f"the user name {username!r} is taken", "username")
    user = User(
        username=username, password_hash=_hasher.hash(password), role=role, active=True, created_at=now()
    )
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
) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}", "username")
    changed: dict[str, Any] = {}
    if role is not None and role != user.role:
        user.role, changed["role"] = role, role
    if active is not None and active != user.active:
        user.active, changed["active"] = active, active
        if not active:
            db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise UnusableInputError(f"a password has at least {MIN_PASSWORD} characters", "password")
        user.password_hash, changed["password"] = _hasher.hash(password), "changed"
    if user.role != "admin" or not user.active:
        admins = db.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
        )
        if not admins:
            raise UnusableInputError("the last active admin cannot be removed", "role")
    audit(db, by, "user.update", "user", user.id, login=username, **changed)
    return user


def authenticate(db: DbSession, username: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _hasher.hash(password)  # the same work either way: no user-name probing by timing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: DbSession, user: User) -> str:
    token = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            token_digest=_digest(token),
            user_id=user.id,
            created_at=now(),
            expires_at=now() + timedelta(hours=SESSION_HOURS),
            last_seen_at=now(),
        )
    )
    audit(db, user.username, "session.open", "user", user.id)
    return token


def user_for_token(db: DbSession, token: str) -> User | None:
    session = db.scalar(select(UserSession).where(UserSession.token_digest == _digest(token)))
    if session is None or session.expires_at < now() or not session.user.active:
        return None
    return session.user


def close_session(db: DbSession, token: str) -> None:
    db.execute(delete(UserSession).where(UserSession.token_digest == _digest(token)))


def by_name(db: DbSession, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def all_users(db: DbSession) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))
