"""Remittances on the pages: upload an 835 and see what it posted, one remittance in detail, the
unmatched queue, the denial worklist and accounts receivable with its aging chart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile

from hitclaims.core.errors import HitclaimsError, NotFoundError
from hitclaims.services import receivables, remittances
from hitclaims.services.billing import parse_day
from hitclaims.services.errors import http_status
from hitclaims.services.users import Person
from hitclaims.web import views
from hitclaims.web.auth import PageUser
from hitclaims.web.render import error_sentence, redirect, render, workplace
from hitclaims.web.uploads import read_upload

router = APIRouter(include_in_schema=False)
LISTED = 200


def _list_page(request: Request, user: Person, status: int = 200, error: str = "") -> Response:
    place = workplace(request)
    return render(
        request,
        "remittances.html",
        user,
        status,
        section="remittances",
        remittances=remittances.page(place, LISTED),
        unmatched=remittances.unmatched(place, user, LISTED),
        error=error,
    )


@router.get("/remittances")
def remittances_page(request: Request, user: PageUser) -> Response:
    return _list_page(request, user)


@router.post("/remittances")
def upload_835(
    request: Request, user: PageUser, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    try:
        name, text = read_upload(file, "choose an 835 file to upload", "not a text file (an 835 is X12 text)")
        done = remittances.upload(workplace(request), name, text, user)
    except HitclaimsError as exc:
        return _list_page(request, user, http_status(exc), error_sentence(exc))
    return redirect(f"/remittances/{done[0].remittance_id}" if len(done) == 1 else "/remittances")


def _number(text: str) -> int:
    if not text.isdigit() or len(text) >= 10:
        raise NotFoundError(f"there is no remittance {text}", "remittance_id")
    return int(text)


@router.get("/remittances/{remittance_id}")
def remittance_page(request: Request, remittance_id: str, user: PageUser) -> Response:
    found = remittances.read(workplace(request), _number(remittance_id), user)
    return render(request, "remittance.html", user, section="remittances", remittance=found)


@router.post("/remittances/{remittance_id}/post")
def post_held(request: Request, remittance_id: str, user: PageUser) -> Response:
    remittances.post_held(workplace(request), _number(remittance_id), user)
    return redirect(f"/remittances/{remittance_id}")


@router.get("/denials")
def denials_page(request: Request, user: PageUser) -> Response:
    groups = receivables.denials(workplace(request))
    return render(request, "denials.html", user, section="denials", groups=groups)


@router.get("/receivables")
def receivables_page(request: Request, user: PageUser, as_of: str = "") -> Response:
    day = parse_day(as_of, "as_of") if as_of else None
    aging = receivables.aging(workplace(request), day)
    return render(
        request,
        "receivables.html",
        user,
        section="receivables",
        aging=aging,
        buckets=receivables.BUCKETS,
        chart=views.aging_chart(aging.totals),
    )
