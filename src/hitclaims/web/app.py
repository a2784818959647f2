"""The billers' web pages: server-rendered Jinja2 with a little htmx, served beside the API.

Every page reads and changes the store through the services the API uses, so a page never
bills or moves a claim differently from the API. Pages sign in with the session cookie
(HttpOnly, SameSite=strict, __Host- and Secure off plain loopback), and every change a page makes
passes the CSRF guard (web/csrf.py). Nothing here logs personal data.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hitclaims.core.errors import HitclaimsError, NotSignedInError
from hitclaims.services.errors import http_status
from hitclaims.web.auth import login_url, signed_in_user
from hitclaims.web.csrf import guard_forms
from hitclaims.web.render import HEADINGS, HERE, error_sentence, redirect, render, sentence
from hitclaims.web.routes import account, claims, episodes, login, remittances, runs, worklist

__all__ = ["answer_page_error", "install_web"]

log = logging.getLogger("hitclaims.web")


def _status_and_message(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, HitclaimsError):
        return http_status(exc), error_sentence(exc)
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return 404, "There is no such page."
        if exc.status_code == 405:
            return 405, "This page cannot be used that way."
        return exc.status_code, sentence(str(exc.detail))
    if isinstance(exc, RequestValidationError):
        return 422, "Part of the request could not be read; go back and try again."
    return 500, "Something went wrong on our side; it has been logged. Please try again."


async def answer_page_error(request: Request, exc: Exception) -> Response:
    """A page's answer to any exception: the sign-in form when signed out, else a sentence."""
    if isinstance(exc, NotSignedInError):
        if request.headers.get("HX-Request"):
            # An htmx fragment (the run's progress): send the whole page to the sign-in form.
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return redirect(login_url(request))
    status, message = _status_and_message(exc)
    if status == 500:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    user = await run_in_threadpool(signed_in_user, request)
    heading = HEADINGS.get(status, "Cannot do that")
    return render(request, "error.html", user, status, heading=heading, message=message)


def install_web(app: FastAPI) -> None:
    """Mount the biller's pages on the app (left out of the OpenAPI document); every page router
    is guarded against cross-site requests here, so a new page cannot forget it."""
    for module in (login, account, worklist, episodes, claims, runs, remittances):
        app.include_router(module.router, dependencies=[Depends(guard_forms)])
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
