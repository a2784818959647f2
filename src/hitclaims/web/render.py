"""Rendering pages: the Jinja2 environment, the security headers every page carries, and the
sentences a page shows for an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hitclaims import __version__
from hitclaims.core.errors import HitclaimsError
from hitclaims.services.users import Person, form_token, session_cookie
from hitclaims.services.workplace import Workplace
from hitclaims.web import ledger_calendar, views

HERE = Path(__file__).resolve().parent
# Pages may load only this site's own script, style and images, and never sit inside a frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold patient data: not for the browser's disk cache
}
HEADINGS = {
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "Not possible now",
    422: "Cannot read that",
    503: "Busy",
}
# How a page names the fields a biller typed.
FIELD_LABELS = {"from": "From", "to": "To", "as_of": "As of", "episodes": "Episodes", "month": "Month"}


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped, whatever the file name
        undefined=StrictUndefined,  # a misspelt name is an error in the tests, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = views.show_money
    env.filters["breakable"] = views.breakable
    env.globals["version"] = __version__
    env.globals["kinds"] = ledger_calendar.KINDS
    return env


templates = Jinja2Templates(env=_environment())


def workplace(request: Request) -> Workplace:
    return request.app.state.workplace  # type: ignore[no-any-return]


def render(request: Request, name: str, user: Person | None, status: int = 200, **context: Any) -> Response:
    """A page; its forms carry the session's CSRF token (the sign-in form passes its own)."""
    place = workplace(request)
    secret = request.cookies.get(session_cookie(request.url.scheme, request.url.hostname))
    base = {
        "csrf_token": form_token(secret) if secret else "",
        "user": user,
        "can_change": user is not None and user.may_change,
        "section": "",
        "zone": place.clock.zone,
        "when": lambda moment: views.local_time(moment, place.clock.zone),
    }
    return templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status, headers=SECURITY_HEADERS
    )


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)  # after a POST: the browser GETs the page


def sentence(text: str, capital: bool = True) -> str:
    """Service messages are lower-case fragments; a page shows sentences. A message that starts
    with a file's name keeps the name as it is (capital=False)."""
    text = text.strip().strip("'\"")
    if not text:
        return text
    if capital:
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def error_sentence(error: HitclaimsError) -> str:
    """The error as a page says it: a form field by its label, a file's name kept as written."""
    label = FIELD_LABELS.get(error.field or "")
    if label:
        return sentence(f"{label}: {error.message}")
    return sentence(error.message, capital=not hasattr(error, "file"))
