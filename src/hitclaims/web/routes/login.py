"""Signing in and out of the pages.

The sign-in form carries a token tied to a random pre-session cookie (login CSRF), failures are
throttled by the users service (429 with Retry-After), and signing out is a POST from a form:
a link or an image on another site cannot sign anyone out.
"""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from hitclaims.services import users
from hitclaims.services.users import TooManyTriesError, form_token, form_token_matches, login_cookie
from hitclaims.web.auth import (
    client_address,
    cookie_secure,
    forget_session,
    keep_session,
    local_target,
    session_token,
    signed_in_user,
)
from hitclaims.web.csrf import login_secret
from hitclaims.web.render import redirect, render, sentence, workplace

router = APIRouter(include_in_schema=False)
WRONG = "Wrong user name or password."
EXPIRED = "The sign-in form had expired. Please sign in again."
LOGIN_FORM_MINUTES = 120


def login_form(
    request: Request, next_: str, username: str = "", message: str = "", status: int = 200
) -> Response:
    """The sign-in form with its token, and the pre-session cookie the token is tied to."""
    secret = login_secret(request) or secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status,
        next=local_target(next_),
        username=username[:60],
        message=message,
        csrf_token=form_token(secret),
        needs_https=cookie_secure(request) and request.url.scheme != "https",
    )
    response.set_cookie(
        login_cookie(request.url.scheme, request.url.hostname),
        secret,
        max_age=LOGIN_FORM_MINUTES * 60,
        path="/",
        secure=cookie_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/login")
def login_page(request: Request, next_: Annotated[str, Query(alias="next")] = "/") -> Response:
    if signed_in_user(request) is not None:
        return redirect(local_target(next_))
    return login_form(request, next_)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_: Annotated[str, Form(alias="next")] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not form_token_matches(login_secret(request), csrf_token):
        return login_form(request, next_, username, EXPIRED, 403)
    try:
        signed = users.sign_in(workplace(request), username, password, client_address(request))
    except TooManyTriesError as exc:
        minutes = math.ceil(exc.retry_after / 60)
        message = sentence(
            f"too many failed sign-ins: try again in {minutes} minute{'s' if minutes > 1 else ''}"
        )
        answer = login_form(request, next_, username, message, 429)
        answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
    if signed is None:
        message = WRONG if username and password else "Enter your user name and password."
        return login_form(request, next_, username, message, 401)
    response = redirect(local_target(next_))
    keep_session(response, request, signed[1])
    response.delete_cookie(
        login_cookie(request.url.scheme, request.url.hostname),
        path="/",
        secure=cookie_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    token = session_token(request)
    if token:
        users.sign_out(workplace(request), token)
    response = redirect("/login")
    forget_session(response, request)
    return response
