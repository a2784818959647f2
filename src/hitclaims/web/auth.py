"""Who is looking at a page: the session cookie, read through the users service.

Pages answer a missing session with a redirect to the sign-in page (not the API's JSON 401), and
a refused change with a plain page (not the API's JSON 403): both travel as typed errors that the
web's error handler turns into responses. The cookie is HttpOnly and SameSite=Strict; off plain
loopback it is named __Host-… and Secure (services.users decides the name from the request).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from hitclaims.core.errors import NotSignedInError
from hitclaims.services.users import SESSION_HOURS, Person, person_for, plain_loopback, session_cookie
from hitclaims.web.render import workplace


def cookie_secure(request: Request) -> bool:
    """Secure on everything but plain HTTP on this machine (the demo and the tests)."""
    return not plain_loopback(request.url.scheme, request.url.hostname)


def session_token(request: Request) -> str | None:
    return request.cookies.get(session_cookie(request.url.scheme, request.url.hostname))


def keep_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        session_cookie(request.url.scheme, request.url.hostname),
        token,
        max_age=SESSION_HOURS * 3600,
        path="/",
        secure=cookie_secure(request),
        httponly=True,
        samesite="strict",
    )


def forget_session(response: Response, request: Request) -> None:
    # A __Host- cookie is only replaced (here: expired) by one with the same Secure and path.
    response.delete_cookie(
        session_cookie(request.url.scheme, request.url.hostname),
        path="/",
        secure=cookie_secure(request),
        httponly=True,
        samesite="strict",
    )


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: what uvicorn's proxy
    headers give), for throttling and the audit log."""
    return request.client.host if request.client else "unknown"


def signed_in_user(request: Request) -> Person | None:
    return person_for(workplace(request), session_token(request))


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
