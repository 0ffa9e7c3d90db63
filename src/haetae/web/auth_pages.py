"""Signing in and out of the console, and the language switch."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from haetae import i18n
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.web.console import (
    CSRF_FIELD,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Console,
    field,
    member_post,
    posted_form,
    safe_next,
    secure_cookies,
    visitor,
)
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
LANG_COOKIE_AGE = 365 * 24 * 3600


def _login_page(
    console: Console, *, next_path: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    token = console.request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        console,
        "login.html",
        status_code=status,
        next=next_path,
        username=username,
        error=error,
        login_csrf=token,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(console.request),
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/", console: Console = Depends(visitor)) -> Response:
    if console.principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(console, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request, form: FormData = Depends(posted_form), console: Console = Depends(visitor)
) -> Response:
    next_path = safe_next(field(form, "next"))
    username = field(form, "username")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    given = field(form, CSRF_FIELD)
    if not expected or not hmac.compare_digest(given, expected):
        message = console.gettext("The sign-in form expired. Please try again.")
        return _login_page(
            console, next_path=next_path, username=username, error=message, status=403
        )
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.hit_login(username, client)
    if wait is not None:
        message = console.gettext(
            "Too many sign-in attempts. Try again in %(seconds)s seconds."
        ) % {"seconds": int(wait)}
        page = _login_page(
            console, next_path=next_path, username=username, error=message, status=429
        )
        page.headers["Retry-After"] = str(int(wait))
        return page
    settings = console.settings
    now = console.now()
    ttl = timedelta(minutes=settings.jwt_ttl_minutes)
    with console.read() as session:
        user = auth.authenticate_password(session, username, str(form.get("password") or ""))
        token = (
            auth.issue_token(user, secret=settings.jwt_secret or "", ttl=ttl, now=now)
            if user
            else None
        )
    if token is None:
        message = console.gettext("Wrong username or password.")
        return _login_page(
            console, next_path=next_path, username=username, error=message, status=401
        )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, request, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    """The console's session cookie, the same after sign-in and after a password change."""
    ttl = timedelta(minutes=request.app.state.settings.jwt_ttl_minutes)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/",
    )


def signed_out() -> Response:
    """Back to the sign-in page with the session cookie gone."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout(posted: tuple[Console, FormData] = Depends(member_post)) -> Response:
    """Ends every login token and console session of the user on the server, not just this
    browser's cookie: a copied cookie or bearer token stops working too."""
    console, _form = posted
    with console.write() as session:
        user = session.scalars(select(User).where(User.username == console.actor)).first()
        if user is not None:
            auth.end_sessions(user)
    return signed_out()


@router.get("/lang")
def switch_language(
    request: Request, code: str = Query("en", alias="set"), next: str = "/"
) -> Response:
    """The EN / 한국어 switch in the header: a preference cookie, so a GET is enough."""
    response = RedirectResponse(safe_next(next), status_code=303)
    locale = i18n.supported(code) or i18n.DEFAULT_LOCALE
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=LANG_COOKIE_AGE,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    return response
