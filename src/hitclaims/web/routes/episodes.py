"""Episodes: the list with an import form, and one episode's month as a calendar."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Request, Response, UploadFile

from hitclaims.core.days import Period
from hitclaims.core.errors import HitclaimsError
from hitclaims.services import episodes
from hitclaims.services.errors import http_status
from hitclaims.services.users import Person, require_change
from hitclaims.web import ledger_calendar
from hitclaims.web.auth import PageUser
from hitclaims.web.render import error_sentence, redirect, render, workplace
from hitclaims.web.uploads import read_upload

router = APIRouter(include_in_schema=False)
EPISODES_SHOWN = 500  # the list is for finding one; more than this, and an id is quicker


def _episodes_page(
    request: Request, user: Person, status: int = 200, error: str = "", imported: dict[str, Any] | None = None
) -> Response:
    found = episodes.page(workplace(request), EPISODES_SHOWN + 1)
    return render(
        request,
        "episodes.html",
        user,
        status,
        section="episodes",
        episodes=found[:EPISODES_SHOWN],
        more=len(found) > EPISODES_SHOWN,
        error=error,
        imported=imported,
    )


def _imported_notice(request: Request, episode_id: str, version: str, changed: str) -> dict[str, Any] | None:
    if not version.isdigit() or len(version) > 9:
        return None
    notes = episodes.version_notes(workplace(request), episode_id, int(version))
    if notes is None:
        return None
    return {"episode_id": episode_id, "version": int(version), "changed": changed == "1", "notes": notes}


@router.get("/episodes")
def episodes_page(
    request: Request, user: PageUser, imported: str = "", version: str = "", changed: str = ""
) -> Response:
    notice = _imported_notice(request, imported, version, changed) if imported else None
    return _episodes_page(request, user, imported=notice)


@router.post("/episodes")
def import_episode_file(
    request: Request, user: PageUser, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    require_change(user)
    try:
        name, text = read_upload(
            file,
            "choose an episode file (JSON or a FHIR Bundle) to import",
            "not a text file (an episode is JSON in UTF-8)",
        )
        done = episodes.import_document(workplace(request), text, name, user)
    except HitclaimsError as exc:
        return _episodes_page(request, user, http_status(exc), error=error_sentence(exc))
    query = urlencode({"imported": done.episode_id, "version": done.version, "changed": int(done.changed)})
    return redirect(f"/episodes?{query}")


@router.get("/episodes/{episode_id}")
def episode_page(request: Request, episode_id: str, user: PageUser, month: str = "") -> Response:
    place = workplace(request)
    as_of = place.clock.today()
    found = episodes.read(place, episode_id, user)
    first = ledger_calendar.parse_month(month) if month else episodes.default_month(place, episode_id)
    shown = ledger_calendar.month_calendar(place, episode_id, first, as_of, user)
    claims = episodes.claims_in(place, episode_id, Period(shown.first, shown.last))
    return render(
        request,
        "episode.html",
        user,
        section="episodes",
        record=found.record,
        episode=found.episode,
        month=shown,
        claims=claims,
        as_of=as_of,
    )
