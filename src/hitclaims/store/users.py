"""Users, roles, sessions and the audit log.

Passwords are hashed with Argon2id (argon2-cffi); a session token is random and only its SHA-256
digest is stored, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from hitclaims.store.models import AuditEntry, Session, User

Role = Literal["admin", "biller", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "biller", "viewer")
SESSION_HOURS = 12
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class AccessError(Exception):
    """Signed out, or not allowed to do this."""


class ConflictError(ValueError):
    """The change collides with what is already there (a taken user name)."""


def now() -> datetime:
    return datetime.now(UTC)


def audit(db: DbSession, username: str, action: str, entity: str, entity_id: object, **detail: Any) -> None:
    """Record a change. `detail` carries ids and counts only, never personal data."""
    db.add(
        AuditEntry(
            at=now(), username=username, action=action, entity=entity, entity_id=str(entity_id), detail=detail
        )
    )


def create_user(db: DbSession, username: str, password: str, role: Role, by: str) -> User:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError(f"username: {username!r} is taken")
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
        raise LookupError(f"no user {username!r}")
    changed: dict[str, Any] = {}
    if role is not None and role != user.role:
        user.role, changed["role"] = role, role
    if active is not None and active != user.active:
        user.active, changed["active"] = active, active
        if not active:
            db.execute(delete(Session).where(Session.user_id == user.id))
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"password: at least {MIN_PASSWORD} characters")
        user.password_hash, changed["password"] = _hasher.hash(password), "changed"
    if user.role != "admin" or not user.active:
        admins = db.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
        )
        if not admins:
            raise ValueError("role: the last active admin cannot be removed")
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
        Session(
            token_digest=_digest(token),
            user_id=user.id,
            created_at=now(),
            expires_at=now() + timedelta(hours=SESSION_HOURS),
        )
    )
    audit(db, user.username, "session.open", "user", user.id)
    return token


def user_for_token(db: DbSession, token: str) -> User | None:
    session = db.scalar(select(Session).where(Session.token_digest == _digest(token)))
    if session is None or session.expires_at < now() or not session.user.active:
        return None
    return session.user


def close_session(db: DbSession, token: str) -> None:
    db.execute(delete(Session).where(Session.token_digest == _digest(token)))


def require(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise AccessError(f"a {user.role} may not do this (needs {' or '.join(roles)})")
