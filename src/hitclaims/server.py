"""The web server: one FastAPI app serving the REST API under /api and the billers' pages.

The API and the pages know nothing of each other; this module puts them side by side and sends
each error to the one whose path it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hitclaims import __version__
from hitclaims.api.app import API_PREFIX, answer_error, install_api
from hitclaims.core.errors import HitclaimsError
from hitclaims.services.workplace import Workplace
from hitclaims.web.app import answer_page_error, install_web

# These answer as the API does: JSON, not pages.
_API_PATHS = (f"{API_PREFIX}/", "/docs", "/redoc", "/openapi.json", "/static/")


def create_app(place: Workplace) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="hitclaims",
        version=__version__,
        description="Home infusion per-diem billing: episodes, billing runs, claims and their states.",
        lifespan=lifespan,
    )
    app.state.workplace = place
    install_api(app)
    install_web(app)

    async def answer(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(_API_PATHS):
            return answer_error(request, exc)
        return await answer_page_error(request, exc)

    for kind in (HitclaimsError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, answer)
    return app
