"""Who is looking at a page: the API's session cookie, read the same way the API reads it.

Pages answer a missing session with a redirect to the sign-in page (not the API's JSON 401), and
a refused change with a plain page (not the API's JSON 403): both travel as exceptions that
`install_web` turns into responses.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from hitclaims.api.app import COOKIE, HttpProblemError, may_change, workplace
from hitclaims.store.models import User
from hitclaims.store.users import user_for_token


class SignedOutError(Exception):
    """No valid session: the page redirects to /login and comes back afterwards."""


class PageError(Exception):
    """Something the person asked for cannot be done: shown as a plain sentence."""

    def __init__(self, status: int, message: str, user: User | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.user = status, message, user


def sentence(text: str, capital: bool = True) -> str:
    """Store and API messages are lower-case fragments; a page shows sentences. A message that
    starts with a file's name keeps the name as it is (capital=False)."""
    text = text.strip().strip("'\"")
    if not text:
        return text
    if capital:
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def signed_in_user(request: Request) -> User | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    with workplace(request).factory() as db:
        user = user_for_token(db, token)
        if user is not None:
            db.expunge(user)  # read after the session closes: role and name only
        return user


def page_user(request: Request) -> User:
    user = signed_in_user(request)
    if user is None:
        raise SignedOutError
    return user


PageUser = Annotated[User, Depends(page_user)]


def can_change(user: User) -> bool:
    try:
        may_change(user)
    except HttpProblemError:
        return False
    return True


def require_change(user: User) -> None:
    """The server refuses a viewer's change even when no button offered it."""
    try:
        may_change(user)
    except HttpProblemError as exc:
        raise PageError(exc.status, sentence(exc.detail), user) from None


def local_target(target: str | None) -> str:
    """Only paths on this site: a crafted ?next= must not send anyone elsewhere after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or here == "/":
        return "/login"
    return "/login?next=" + quote(here, safe="/")
