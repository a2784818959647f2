"""Claims: the filtered list, one claim with its lines, findings and history, and moving it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from hitclaims.core.errors import ConflictError, HitclaimsError, NotFoundError
from hitclaims.core.vocabulary import CLAIM_STATUSES, ClaimStatus
from hitclaims.services import claims, remittances
from hitclaims.services.billing import parse_day
from hitclaims.services.claims import ClaimFilter
from hitclaims.services.users import Person
from hitclaims.web.auth import PageUser
from hitclaims.web.render import error_sentence, redirect, render, sentence, workplace

router = APIRouter(include_in_schema=False)
MOVE_LABELS: dict[ClaimStatus, str] = {
    "submitted": "Mark submitted",
    "paid": "Mark paid",
    "denied": "Mark denied",
    "void": "Void",
}
LISTED = 200


def _claim_filter(status: str, payer: str, first: str, last: str) -> tuple[ClaimFilter, str]:
    """The list's filters, checked; a bad one is dropped and named in a sentence."""
    problems: list[str] = []
    chosen: ClaimStatus | None = None
    if status and status not in CLAIM_STATUSES:
        problems.append(sentence(f"'{status}' is not a claim status"))
    elif status:
        chosen = status
    days = []
    for text, label in ((first, "From"), (last, "To")):
        try:
            days.append(parse_day(text, label) if text else None)
        except HitclaimsError as exc:
            days.append(None)
            problems.append(sentence(f"{label}: {exc.message}"))
    # A void claim is no longer current: asking for void ones means asking for old ones.
    where = ClaimFilter(chosen, payer.strip() or None, days[0], days[1], current_only=chosen != "void")
    return where, " ".join(problems)


@router.get("/claims")
def claims_page(
    request: Request,
    user: PageUser,
    status: str = "",
    payer: str = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
) -> Response:
    where, error = _claim_filter(status, payer, from_, to)
    place = workplace(request)
    found = claims.find(place, where, limit=LISTED + 1)
    return render(
        request,
        "claims.html",
        user,
        422 if error else 200,
        section="claims",
        claims=found[:LISTED],
        more=len(found) > LISTED,
        payers=claims.payers(place),
        states=CLAIM_STATUSES,
        filters={"status": status, "payer": payer, "from": from_, "to": to},
        error=error,
    )


def _claim_number(claim_id: str) -> int:
    if not claim_id.isdigit() or len(claim_id) >= 10:
        raise NotFoundError(f"there is no claim {claim_id}", "claim_id")
    return int(claim_id)


def _claim_page(
    request: Request, user: Person, claim_id: str, status: int = 200, error: str = ""
) -> Response:
    place = workplace(request)
    shown = claims.read_page(place, _claim_number(claim_id), user)
    return render(
        request,
        "claim.html",
        user,
        status,
        section="claims",
        record=shown.record,
        claim=shown.claim,
        replaces=shown.replaces,
        replaced_by=shown.replaced_by,
        sendable=shown.sendable,
        moves=[(m, MOVE_LABELS[m]) for m in MOVE_LABELS if m in shown.moves],
        payments=remittances.claim_payments(place, shown.record.id, user),
        error=error,
    )


@router.get("/claims/{claim_id}")
def claim_page(request: Request, claim_id: str, user: PageUser) -> Response:
    return _claim_page(request, user, claim_id)


@router.post("/claims/{claim_id}/status")
def move_claim(
    request: Request,
    claim_id: str,
    user: PageUser,
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        claims.move(workplace(request), _claim_number(claim_id), status, user, note)
    except ConflictError as exc:
        return _claim_page(request, user, claim_id, 409, error_sentence(exc))
    return redirect(f"/claims/{claim_id}")
