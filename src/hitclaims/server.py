"""The web server: one FastAPI app serving the REST API under /api and the billers' pages.

The API and the pages know nothing of each other; this module puts them side by side, sends
each error to the one whose path it is, and guards what comes in and goes out of both:
- no request body over the input limit is read (a declared length over it is answered 413 at
  once; a chunked body is counted while read and cut at the limit), so an unsigned-in client
  cannot make the server read 100 MB before its 401;
- every API answer carries `Cache-Control: no-store` and `nosniff`: most of them hold patient
  data, and a browser must neither keep them on disk nor guess their type;
- the API documentation (/docs) loads Swagger UI from this server, pinned by the fastapi-offline
  package, under the pages' Content-Security-Policy: no third-party script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hitclaims import __version__
from hitclaims.api.app import API_PREFIX, answer_error, install_api
from hitclaims.core.errors import HitclaimsError
from hitclaims.services.files import MAX_INPUT_BYTES
from hitclaims.services.workplace import Workplace
from hitclaims.web.app import answer_page_error, install_web
from hitclaims.web.render import SECURITY_HEADERS

__all__ = ["MAX_BODY_BYTES", "MAX_INPUT_BYTES", "create_app"]

# One limit for every input, whichever door it comes through (API, web upload, command line).
# A web upload's body is the file plus the form's framing (boundaries, field names: a few hundred
# bytes); the allowance lets a file just under the limit reach the page's own sentence.
FORM_FRAMING_BYTES = 16 * 1024
MAX_BODY_BYTES = MAX_INPUT_BYTES + FORM_FRAMING_BYTES

DOCS_ASSETS = "/docs/assets"
# These answer as the API does: JSON, not pages.
_API_PATHS = (f"{API_PREFIX}/", "/docs", "/redoc", "/openapi.json", "/static/")
# Answers that may hold patient data: never stored by the browser, never type-sniffed.
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"

Answer = Callable[[Request, Exception], Awaitable[Response]]


def _too_large() -> StarletteHTTPException:
    return StarletteHTTPException(
        413, f"the request body is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB"
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before we see it
    return None


class BodyLimit:
    """Stops a request body at `limit` bytes before anything parses it."""

    def __init__(self, app: ASGIApp, answer: Answer, limit: int) -> None:
        self.app, self.answer, self.limit = app, answer, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            # Answered before one byte of the body is read, signed in or not.
            response = await self.answer(Request(scope), _too_large())
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised inside the app's body read: its error handler answers 413.
                    raise _too_large()
            return message

        await self.app(scope, counted, send)


class ApiHeaders:
    """Adds no-store and nosniff to every API answer, the pages' security headers to the API
    documentation page, and nosniff to that page's script and style."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/docs":
            extra = SECURITY_HEADERS
        elif path.startswith("/docs/"):
            extra = {"X-Content-Type-Options": "nosniff"}  # the page's own script and style
        elif path.startswith((f"{API_PREFIX}/", "/openapi.json")) or path == API_PREFIX:
            extra = _NO_STORE
        else:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hitclaims API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script></body></html>
"""
# The pages' CSP allows no inline script, so Swagger UI is started from a file of its own.
_SWAGGER_START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""
# The files the documentation page loads, from fastapi-offline's pinned copy of Swagger UI.
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


def _install_docs(app: FastAPI) -> None:
    """The API documentation, from this server's own copy of Swagger UI. ReDoc cannot run under
    the pages' CSP (it needs inline styles), so /redoc leads to /docs."""

    @app.get("/docs", include_in_schema=False)
    def swagger_page() -> HTMLResponse:
        return HTMLResponse(_SWAGGER_PAGE.format(assets=DOCS_ASSETS))

    @app.get("/docs/start.js", include_in_schema=False)
    def swagger_start() -> Response:
        return Response(_SWAGGER_START, media_type="text/javascript")

    @app.get(DOCS_ASSETS + "/{name}", include_in_schema=False)
    def swagger_asset(name: str) -> FileResponse:
        if name not in _ASSET_TYPES:
            raise StarletteHTTPException(404)
        return FileResponse(_ASSETS / name, media_type=_ASSET_TYPES[name])

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)


def create_app(place: Workplace) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="hitclaims",
        version=__version__,
        description="Home infusion per-diem billing: episodes, billing runs, claims and their states.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.workplace = place
    install_api(app)
    _install_docs(app)
    install_web(app)

    async def answer(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(_API_PATHS):
            return answer_error(request, exc)
        return await answer_page_error(request, exc)

    for kind in (HitclaimsError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, answer)
    # The last added is the outermost: the headers go on every answer, the body limit's too.
    app.add_middleware(BodyLimit, answer=answer, limit=MAX_BODY_BYTES)
    app.add_middleware(ApiHeaders)
    return app
