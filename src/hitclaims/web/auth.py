"""Who is looking at a page: the session cookie, read through the users service.

Pages answer a missing session with a redirect to the sign-in page (not the API's JSON 401), and
a refused change with a plain page (not the API's JSON 403): both travel as typed errors that the
web's error handler turns into responses.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from hitclaims.core.errors import NotSignedInError
from hitclaims.services.users import SESSION_COOKIE, Person, person_for
from hitclaims.web.render import workplace


def signed_in_user(request: Request) -> Person | None:
    return person_for(workplace(request), request.cookies.get(SESSION_COOKIE))


def page_user(request: Request) -> Person:
    user = signed_in_user(request)
    if user is None:
        raise NotSignedInError("sign in to see this page")
    return user


PageUser = Annotated[Person, Depends(page_user)]


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
