"""Signing in and out of the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from hitclaims.services import users
from hitclaims.services.users import SESSION_COOKIE, SESSION_HOURS
from hitclaims.web.auth import local_target, signed_in_user
from hitclaims.web.render import redirect, render, workplace

router = APIRouter(include_in_schema=False)
WRONG = "Wrong user name or password."


@router.get("/login")
def login_page(request: Request, next_: Annotated[str, Query(alias="next")] = "/") -> Response:
    if signed_in_user(request) is not None:
        return redirect(local_target(next_))
    return render(request, "login.html", None, next=local_target(next_), username="", message="")


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    signed = users.sign_in(workplace(request), username, password)
    if signed is None:
        message = WRONG if username and password else "Enter your user name and password."
        return render(
            request,
            "login.html",
            None,
            401,
            next=local_target(next_),
            username=username[:60],
            message=message,
        )
    response = redirect(local_target(next_))
    response.set_cookie(
        SESSION_COOKIE, signed[1], httponly=True, samesite="strict", max_age=SESSION_HOURS * 3600
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        users.sign_out(workplace(request), token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response
