"""Who is using the console: the session cookie, CSRF tokens, roles and the page language."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae import i18n
from haetae.auth.service import Principal
from haetae.clock import utcnow
from haetae.config import Settings
from haetae.db import Database
from haetae.deps import resolve_principal
from haetae.i18n import N_
from haetae.policy.schema import Policy

SESSION_COOKIE = "haetae_session"
LANG_COOKIE = "lang"
# Login has no session yet, so its form is protected by a double-submit cookie instead.
LOGIN_CSRF_COOKIE = "haetae_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
VIEWER_REFUSAL = N_("Your role (viewer) can read the console, not change it.")
CSRF_REFUSAL = N_(
    "The form's security token is missing or out of date. Reload the page and try again."
)


class LoginRequired(Exception):
    """No valid session: the handler sends the browser to /login and back afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Refused(Exception):
    """A console request that is turned away with an HTML page (403, 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Console:
    """One console request: the caller (if any), their language and the app's state."""

    request: Request
    principal: Principal | None
    token: str | None
    locale: str

    @property
    def settings(self) -> Settings:
        return self.request.app.state.settings

    @property
    def policy(self) -> Policy:
        return self.request.app.state.policy

    @property
    def db(self) -> Database:
        return self.request.app.state.db

    @property
    def actor(self) -> str:
        return self.principal.name if self.principal else ""

    @property
    def can_write(self) -> bool:
        return self.principal is not None and self.principal.allows("responder")

    @property
    def is_admin(self) -> bool:
        return self.principal is not None and self.principal.allows("admin")

    @property
    def csrf(self) -> str:
        return csrf_token(self.settings.jwt_secret or "", self.token or "")

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @staticmethod
    def now() -> datetime:
        return utcnow()

    def gettext(self, message: str) -> str:
        return i18n.gettext_for(self.locale, message)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.db.session(write=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.db.session(write=True) as session:
            yield session


def csrf_token(secret: str, session_token: str) -> str:
    """Bound to the session: a forged form from another site cannot know it."""
    message = b"haetae-console-csrf:" + session_token.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def secure_cookies(request: Request) -> bool:
    """Whether the console's cookies get the Secure flag: always with COOKIE_SECURE, else
    when the request came over https (a trusted proxy's X-Forwarded-Proto counts). A plain
    http loopback install must not have them, because browsers drop Secure cookies there."""
    settings: Settings = request.app.state.settings
    return settings.cookie_secure or request.url.scheme == "https"


def safe_next(value: str | None) -> str:
    """Only paths on this site, so ?next= cannot send someone elsewhere after login."""
    if not value or not value.startswith("/") or "\\" in value:
        return "/"
    # Browsers drop tabs and line breaks from URLs, so "/\t/evil.example" would become
    # "//evil.example": judge the value as the browser will read it.
    if any(ord(c) < 0x20 or c == "\x7f" for c in value) or value.startswith("//"):
        return "/"
    return value


def login_url(request: Request) -> str:
    """Where to sign in, coming back afterwards to the page the person was on."""
    if request.method == "GET" and request.headers.get("hx-request") != "true":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # A form post (or fragment) cannot be replayed by a GET; go back to its page instead.
        page = urlsplit(
            request.headers.get("hx-current-url") or request.headers.get("referer") or "/"
        )
        here = page.path + (f"?{page.query}" if page.query else "")
    return "/login?next=" + quote(safe_next(here), safe="/")


def _console(request: Request) -> Console:
    token = request.cookies.get(SESSION_COOKIE) or None
    principal = resolve_principal(request, token) if token else None
    # Only a login token may open a console session; an API key in a cookie is not one.
    if principal is not None and principal.via != "jwt":
        principal = None
    locale = i18n.choose_locale(
        cookie=request.cookies.get(LANG_COOKIE),
        user_locale=principal.locale if principal else None,
        accept_language=request.headers.get("accept-language"),
    )
    return Console(request, principal, token if principal else None, locale)


def visitor(request: Request) -> Console:
    """Any caller, signed in or not (the login page)."""
    return _console(request)


def signed_in(request: Request) -> Console:
    console = _console(request)
    if console.principal is None:
        raise LoginRequired(login_url(request))
    return console


async def posted_form(request: Request) -> FormData:
    # Async only to await the body; the database work stays in the sync dependencies.
    return await request.form()


def responder_post(
    request: Request, form: FormData = Depends(posted_form)
) -> tuple[Console, FormData]:
    """A signed-in responder's POST with a valid CSRF token; anything else is refused."""
    console = signed_in(request)
    check_csrf(console, form)
    if not console.can_write:
        raise Refused(403, console.gettext(VIEWER_REFUSAL))
    return console, form


def member_post(
    request: Request, form: FormData = Depends(posted_form)
) -> tuple[Console, FormData]:
    """A signed-in caller's POST of any role (logging out) with a valid CSRF token."""
    console = signed_in(request)
    check_csrf(console, form)
    return console, form


def admin_post_refusing(
    refusal: str,
) -> Callable[[Request, FormData], tuple[Console, FormData]]:
    """A dependency for a page's admin-only POSTs: a signed-in admin with a valid CSRF
    token; anyone else gets 403 with `refusal` (a message id), which names the page's task."""

    def admin_post(
        request: Request, form: FormData = Depends(posted_form)
    ) -> tuple[Console, FormData]:
        console = signed_in(request)
        check_csrf(console, form)
        if not console.is_admin:
            raise Refused(403, console.gettext(refusal))
        return console, form

    return admin_post


def check_csrf(console: Console, form: FormData) -> None:
    given = str(form.get(CSRF_FIELD) or console.request.headers.get(CSRF_HEADER) or "")
    if not given or not hmac.compare_digest(given, console.csrf):
        raise Refused(403, console.gettext(CSRF_REFUSAL))


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
