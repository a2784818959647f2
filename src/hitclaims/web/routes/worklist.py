"""The worklist: everything held, grouped by claim, with the claim counts by status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from hitclaims.core.errors import ConflictError
from hitclaims.services import claims, exports
from hitclaims.services.workplace import Workplace
from hitclaims.web import views
from hitclaims.web.auth import PageUser
from hitclaims.web.render import redirect, render, workplace

router = APIRouter(include_in_schema=False)


def _export_notice(place: Workplace, exported: str) -> dict[str, Any] | None:
    if exported == "none":
        return {"kind": "info", "text": "No claim is ready to send: nothing was exported."}
    if not exported.isdigit() or len(exported) > 10:
        return None
    claims = exports.batch_size(place, int(exported))
    if claims is None:
        return None
    return {"kind": "ok", "batch": int(exported), "claims": claims}


@router.get("/")
def worklist_page(request: Request, user: PageUser, exported: str = "") -> Response:
    place = workplace(request)
    groups = views.group_worklist(claims.worklist(place))
    counts = claims.status_counts(place)
    notice = _export_notice(place, exported)
    return render(
        request, "worklist.html", user, section="worklist", groups=groups, counts=counts, notice=notice
    )


@router.post("/export")
def export_ready(request: Request, user: PageUser) -> Response:
    try:
        done = exports.export_ready(workplace(request), user)
    except ConflictError:
        return redirect("/?exported=none")
    return redirect(f"/?exported={done[0].interchange_id}")
