"""The REST API (FastAPI): its routes under /api and how errors are answered there.

Every error a client can cause is a typed error (core/errors.py), answered as a 4xx with one
sentence and the field it is about. Anything else is an internal error: logged with its
traceback, answered 500 with a generic sentence, never with its type or message.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hitclaims import __version__
from hitclaims.api import schemas as s
from hitclaims.api.deps import BAD
from hitclaims.api.routes import claims, episodes, remittances, runs, session, users
from hitclaims.core.errors import HitclaimsError
from hitclaims.services.errors import INTERNAL, http_status

__all__ = ["API_PREFIX", "answer_error", "install_api"]

API_PREFIX = "/api"
log = logging.getLogger("hitclaims.api")


def problem(
    status: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content=s.Problem(detail=detail, field=field).model_dump(), headers=headers
    )


def _router() -> APIRouter:
    # Every route may answer a malformed request with 400/422 in the Problem shape: documented once
    # here so that FastAPI does not advertise its own validation-error schema instead.
    router = APIRouter(prefix=API_PREFIX, responses=BAD)

    @router.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for module in (session, users, episodes, runs, claims, remittances):
        router.include_router(module.router)
    return router


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def answer_error(request: Request, exc: Exception) -> JSONResponse:
    """The API's answer to any exception raised while serving /api."""
    if isinstance(exc, HitclaimsError):
        return problem(http_status(exc), exc.message, exc.field)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0]
        field = _field_of(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return problem(422, f"{field or 'request'}: {message}", field)
    if isinstance(exc, StarletteHTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette lists the methods of the one route it tried; RFC 9110 wants every method
            # the resource supports.
            headers["Allow"] = ", ".join(_allowed_methods(request.app, request))
        return problem(exc.status_code, str(exc.detail), headers=headers or None)
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, INTERNAL)


def install_api(app: FastAPI) -> None:
    app.include_router(_router())
