"""Status page subscribers: the public subscribe, confirm and unsubscribe endpoints and the
admin API."""

from __future__ import annotations

import json
import math
import time
from functools import cache
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.concurrency import run_in_threadpool

from haetae import i18n
from haetae.clock import utcnow
from haetae.deps import Context, require
from haetae.errors import HaetaeError
from haetae.statuspage import subscribers

router = APIRouter(tags=["status page"])

# Mounted at the root (no /api/v1): what a reader's browser or mail client calls.
public = APIRouter(include_in_schema=False)

# Subscribe requests per client address: enough for a person, too few to mail-bomb anyone
# through the confirmation mails.
SUBSCRIBE_LIMIT = parse("10/minute")
ADMIN = Depends(require("admin"))


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("haetae.statuspage", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _limiter(request: Request) -> SlidingWindowCounterRateLimiter:
    state = request.app.state
    limiter = getattr(state, "subscribe_limiter", None)
    if limiter is None:
        limiter = state.subscribe_limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
    return limiter


def _limit(request: Request) -> None:
    limiter = _limiter(request)
    client = request.client.host if request.client else "unknown"
    if not limiter.hit(SUBSCRIBE_LIMIT, "status-subscribe", client):
        reset = limiter.get_window_stats(SUBSCRIBE_LIMIT, "status-subscribe", client).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise HaetaeError(
            "RATE_LIMITED", f"Too many subscriptions; retry in {wait} s.", retry_after=wait
        )


def _setup(request: Request) -> subscribers.Setup:
    settings = request.app.state.settings
    return subscribers.Setup(
        public_url=settings.base_url,
        secret=settings.jwt_secret or "",
        mail_url=settings.status_page_mail_url,
    )


def _locale(request: Request, lang: str | None = None) -> str:
    return (
        i18n.supported(lang)
        or i18n.from_accept_language(request.headers.get("accept-language"))
        or i18n.DEFAULT_LOCALE
    )


def _model(request: Request) -> Any:
    """What the form needs of the page (its visible components), in the shape the public
    page's model has, so that the one partial serves both pages; None when the page is off."""
    with request.app.state.db.session(write=False) as session:
        if not subscribers.page_enabled(session):
            return None
        found = subscribers.visible_components(session)
    return SimpleNamespace(components=[SimpleNamespace(key=k, name=n) for k, n in found])


def _page(request: Request, locale: str, status: int = 200, **values: Any) -> HTMLResponse:
    say = i18n.translations(locale).gettext
    context = {
        "heading": "",
        "message": "",
        "action": "",
        "button": "",
        "subscribe_form": False,
        "model": None,
        **values,
    }
    page = (
        _templates()
        .get_template("subscribers/page.html")
        .render(
            _=say,
            locale=locale,
            base=request.app.state.settings.base_url_for(request.base_url),
            text=lambda value: subscribers.text_in(value, locale),
            **context,
        )
    )
    # Nothing here is cached or indexed: every page names a personal link.
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(page, status_code=status, headers=headers)


# -- public ----------------------------------------------------------------------------------


@public.get("/status/subscribe")
def subscribe_page(request: Request, lang: str | None = None) -> Response:
    """The subscribe form on a page of its own (the status page includes the same form)."""
    locale = _locale(request, lang)
    say = i18n.translations(locale).gettext
    model = _model(request)
    if model is None:
        raise HaetaeError("NOT_FOUND")
    return _page(request, locale, heading=say("Get updates"), subscribe_form=True, model=model)


async def _subscribe_input(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise HaetaeError("INVALID_JSON") from None
        if not isinstance(data, dict):
            raise HaetaeError("VALIDATION_ERROR", "Send a JSON object.")
        components = data.get("components") or []
        if isinstance(components, str):
            components = [c for c in components.split(",") if c.strip()]
        if not isinstance(components, list):
            raise HaetaeError("VALIDATION_ERROR", "components is a list.", field="components")
        return {
            "email": str(data.get("email") or ""),
            "webhook": str(data.get("webhook") or ""),
            "components": components,
            "language": str(data.get("language") or ""),
            "form": False,
        }
    form = await request.form()
    return {
        "email": str(form.get("email") or ""),
        "webhook": str(form.get("webhook") or ""),
        "components": [str(c) for c in form.getlist("components") if str(c).strip()],
        "language": str(form.get("language") or ""),
        "form": True,
    }


@public.post("/status/subscribe")
async def subscribe(request: Request) -> Response:
    """202 whether or not the address was known: the answer tells nobody who subscribes."""
    _limit(request)
    given = await _subscribe_input(request)
    email, webhook = given["email"].strip(), given["webhook"].strip()
    if bool(email) == bool(webhook):
        raise HaetaeError("VALIDATION_ERROR", "Give an e-mail address or a webhook URL.")
    locale = i18n.supported(given["language"]) or _locale(request)
    setup = _setup(request)
    db = request.app.state.db

    def act() -> None:
        with db.session() as session:
            subscribers.subscribe(
                session,
                kind="email" if email else "webhook",
                address=email or webhook,
                components=given["components"],
                language=locale,
                setup=setup,
                now=utcnow(),
            )

    await run_in_threadpool(act)
    say = i18n.translations(locale).gettext
    message = (
        say("If the address can receive mail, a confirmation link is on its way to it.")
        if email
        else say("The webhook is subscribed.")
    )
    if given["form"]:
        return _page(request, locale, 202, heading=say("Thank you"), message=message)
    return JSONResponse({"status": "accepted", "message": message}, status_code=202)


Token = Annotated[str, Path(min_length=1, max_length=200)]


@public.get("/status/confirm/{token}")
def confirm_page(request: Request, token: Token, lang: str | None = None) -> Response:
    """Shows a button only: mail scanners follow links, so a GET never confirms."""
    with request.app.state.db.session(write=False) as session:
        found = subscribers.pending(session, token)
        locale = _locale(request, lang or (found.language if found else None))
    say = i18n.translations(locale).gettext
    if found is None or found.unsubscribed_at is not None:
        return _page(request, locale, 404, heading=say("This link is not valid any more"))
    if found.confirmed_at is not None:
        return _page(request, locale, heading=say("Your subscription is confirmed"))
    return _page(
        request,
        locale,
        heading=say("Confirm your subscription"),
        message=subscribers.mask(found.kind, found.address),
        action=f"/status/confirm/{token}",
        button=say("Confirm"),
    )


@public.post("/status/confirm/{token}")
def confirm(request: Request, token: Token) -> Response:
    with request.app.state.db.session() as session:
        found = subscribers.confirm(session, token, now=utcnow())
        locale = _locale(request, found.language if found else None)
    say = i18n.translations(locale).gettext
    if found is None:
        return _page(request, locale, 404, heading=say("This link is not valid any more"))
    return _page(request, locale, heading=say("Your subscription is confirmed"))


@public.get("/status/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: Token, lang: str | None = None) -> Response:
    """A button, not an action: a GET (a scanner, a preview) never unsubscribes."""
    secret = request.app.state.settings.jwt_secret or ""
    with request.app.state.db.session(write=False) as session:
        found = subscribers.by_unsubscribe_token(session, token, secret=secret)
        locale = _locale(request, lang or (found.language if found else None))
    say = i18n.translations(locale).gettext
    if found is None:
        return _page(request, locale, 404, heading=say("This link is not valid any more"))
    if found.unsubscribed_at is not None:
        return _page(request, locale, heading=say("You are unsubscribed"))
    return _page(
        request,
        locale,
        heading=say("Unsubscribe from the status page"),
        message=subscribers.mask(found.kind, found.address),
        action=f"/status/unsubscribe/{token}",
        button=say("Unsubscribe"),
    )


@public.post("/status/unsubscribe/{token}")
def unsubscribe(request: Request, token: Token) -> Response:
    """The page's button, and RFC 8058's one-click POST (`List-Unsubscribe=One-Click`): done
    at once, answered 200, no confirmation step."""
    secret = request.app.state.settings.jwt_secret or ""
    with request.app.state.db.session() as session:
        found = subscribers.by_unsubscribe_token(session, token, secret=secret)
        done = subscribers.unsubscribe_by_token(session, token, secret=secret, now=utcnow())
        locale = _locale(request, found.language if found else None)
    say = i18n.translations(locale).gettext
    if not done:
        return _page(request, locale, 404, heading=say("This link is not valid any more"))
    return _page(request, locale, heading=say("You are unsubscribed"))


# -- admin API --------------------------------------------------------------------------------


@router.get("/status-page/subscribers")
def list_subscribers(ctx: Context = ADMIN) -> dict[str, Any]:
    """Subscribers with their addresses masked, and counts by state."""
    with ctx.read() as session:
        return subscribers.listing(session)


@router.get("/status-page/subscribers/export")
def export_subscriber(
    address: Annotated[str, Query(min_length=3, max_length=2000)], ctx: Context = ADMIN
) -> dict[str, Any]:
    """Everything kept about one address, unmasked (a data subject's access request)."""
    with ctx.read() as session:
        return {"address": address, "subscriptions": subscribers.export(session, address)}


@router.delete("/status-page/subscribers/{subscriber_id}", status_code=204)
def delete_subscriber(
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)], ctx: Context = ADMIN
) -> Response:
    """Forget a subscriber: the address and its contact method are deleted."""
    with ctx.write() as session:
        if not subscribers.delete(session, subscriber_id, by=ctx.actor, now=ctx.now()):
            raise HaetaeError("NOT_FOUND", "No subscriber has that id.")
    return Response(status_code=204)
