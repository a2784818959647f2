"""Cross-site request forgery: every change a page makes must come from a page of this site.

Two checks guard each unsafe request to the pages (every POST):
- its Origin header (or, without one, its Referer) names this scheme, host and port: a page on
  another port of the same host is the same *site*, so SameSite=Strict cookies reach us from it,
  but it is another *origin*;
- its form carries `csrf_token`, derived from the session cookie, which only a page we rendered
  for that session holds. The sign-in form has its own: a random pre-session cookie, so that
  nobody can sign a victim in to the attacker's account either (login CSRF).
"""

from __future__ import annotations

import re

from fastapi import Request

from hitclaims.core.errors import ForbiddenError
from hitclaims.services.users import SAFE_METHODS, check_origin, form_token, form_token_matches, login_cookie
from hitclaims.web.auth import session_token

FIELD = "csrf_token"
EXPIRED = "this form has expired or did not come from this site; reload the page and try again"
_LOGIN_SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def check_request_origin(request: Request) -> None:
    check_origin(own_origin(request), request.headers.get("origin"), request.headers.get("referer"))


def page_form_token(request: Request) -> str:
    """The token the signed-in pages put in their forms ("" when signed out)."""
    secret = session_token(request)
    return form_token(secret) if secret else ""


def login_secret(request: Request) -> str | None:
    """The sign-in form's pre-session secret, if the browser holds a well-formed one."""
    secret = request.cookies.get(login_cookie(request.url.scheme, request.url.hostname))
    return secret if secret and _LOGIN_SECRET.fullmatch(secret) else None


async def guard_forms(request: Request) -> None:
    """A dependency of every page router: unsafe requests must pass both checks. The sign-in
    form's token is checked by the sign-in route itself, which answers with a fresh form."""
    if request.method in SAFE_METHODS:
        return
    check_request_origin(request)
    secret = session_token(request)
    if request.url.path == "/login" or secret is None:
        return  # signed out: the page's own check sends the visitor to sign in; nothing is done
    form = await request.form()
    if not form_token_matches(secret, form.get(FIELD)):
        raise ForbiddenError(EXPIRED, FIELD)
