"""The signed-in user's own account: who they are, and changing their own password.

A new password follows the same rules as everywhere else (services.users.check_password); the
change ends the user's other sessions and keeps this one. A wrong current password counts as a
failed sign-in, throttled like one.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from hitclaims.core.errors import ForbiddenError, UnusableInputError
from hitclaims.services import users
from hitclaims.services.users import MAX_PASSWORD, MIN_PASSWORD, Person, TooManyTriesError
from hitclaims.web.auth import PageUser, client_address
from hitclaims.web.render import error_sentence, render, sentence, workplace

router = APIRouter(include_in_schema=False)
CHANGED = "Your password is changed. Your other sessions are signed out."


def _account_page(
    request: Request, user: Person, status: int = 200, error: str = "", done: str = ""
) -> Response:
    return render(
        request,
        "account.html",
        user,
        status,
        section="account",
        error=error,
        done=done,
        min_password=MIN_PASSWORD,
        max_password=MAX_PASSWORD,
    )


@router.get("/account")
def account_page(request: Request, user: PageUser) -> Response:
    return _account_page(request, user)


@router.post("/account/password")
def change_password(
    request: Request,
    user: PageUser,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    repeat_password: Annotated[str, Form()] = "",
) -> Response:
    if new_password != repeat_password:
        return _account_page(request, user, 422, error="The new password and its repetition differ.")
    try:
        users.change_own_password(
            workplace(request), user, current_password, new_password, client_address(request)
        )
    except TooManyTriesError as exc:
        minutes = math.ceil(exc.retry_after / 60)
        answer = _account_page(
            request, user, 429, error=sentence(f"too many wrong passwords: try again in {minutes} minutes")
        )
        answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
    except ForbiddenError as exc:
        return _account_page(request, user, 403, error=error_sentence(exc))
    except UnusableInputError as exc:
        return _account_page(request, user, 422, error=error_sentence(exc))
    return _account_page(request, user, done=CHANGED)
