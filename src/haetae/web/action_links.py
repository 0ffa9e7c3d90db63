"""The console pages behind a page's ack and resolve links: GET asks, POST acts, once.

A GET never changes anything, because mail scanners and chat previews fetch links. The
token is the credential, so the form needs no session or CSRF token: a forged form from
another site would have to know it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from haetae import i18n
from haetae.auth.models import User
from haetae.auth.service import RANK
from haetae.contacts import service as contacts
from haetae.contacts.models import ExternalContact
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents import lifecycle, resolution, transitions
from haetae.incidents.models import Incident
from haetae.notify import links
from haetae.notify.models import ActionLink
from haetae.web.console import LANG_COOKIE, Console, visitor
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

ACTION_TITLES = {"acknowledge": N_("Acknowledge"), "resolve": N_("Resolve")}
RESOLVE_REASON = "resolved from a page link"


@dataclass
class _Found:
    """What a page shows about a link, read inside its transaction."""

    action: str
    incident: dict[str, Any]
    user: str
    user_locale: str | None
    expires_at: datetime
    used_at: datetime | None
    # False once the person it was sent to is deactivated or now only a viewer: a link
    # never acts with more than its owner currently may.
    owner_may_act: bool = True
    # Sent to an external contact: its ack is only recorded on the timeline.
    contact: bool = False


def _incident_view(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "acknowledged_at": incident.acknowledged_at,
        "resolved_at": incident.resolved_at,
        "open": incident.status in lifecycle.ACTIVE,
    }


def _read(console: Console, link: ActionLink, session: Any) -> _Found:
    incident = session.get(Incident, link.incident_id)
    user = session.get(User, link.user_id) if link.user_id is not None else None
    contact = (
        session.get(ExternalContact, link.external_contact_id)
        if link.external_contact_id is not None
        else None
    )
    return _Found(
        action=link.action,
        incident=_incident_view(incident),
        user=user.username if user else (contact.name if contact else ""),
        contact=link.external_contact_id is not None,
        user_locale=user.locale if user else None,
        expires_at=link.expires_at,
        used_at=link.used_at,
        owner_may_act=user is None or (user.active and RANK[user.role] >= RANK["responder"]),
    )


def _console_for(request: Request, found: _Found | None) -> Console:
    """The page's language: the switch's cookie, else the link's owner's, else the browser's."""
    console = visitor(request)
    if found is not None and console.principal is None:
        console.locale = i18n.choose_locale(
            cookie=request.cookies.get(LANG_COOKIE),
            user_locale=found.user_locale,
            accept_language=request.headers.get("accept-language"),
        )
    return console


def _page(
    console: Console, state: str, status: int, found: _Found | None, **data: Any
) -> HTMLResponse:
    response = render(
        console,
        "act.html",
        status_code=status,
        state=state,
        link=found,
        token=data.pop("token", ""),
        action_title=(console.gettext(ACTION_TITLES[found.action]) if found is not None else ""),
        **data,
    )
    # The token is the credential: not indexed (the app's Referrer-Policy already keeps it
    # from other sites).
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _lookup(console: Console, token: str) -> tuple[_Found | None, bool]:
    """(what the link is, whether its signature and row check out)."""
    secret = console.settings.jwt_secret or ""
    with console.read() as session:
        link = links.find(session, token, secret=secret)
        if link is None or link.action not in ACTION_TITLES:
            # An approval link opens its own page (web/approval_pages.py), never this one.
            return None, False
        return _read(console, link, session), True


@router.get("/act/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    console = visitor(request)
    found, ok = _lookup(console, token)
    console = _console_for(request, found)
    if not ok or found is None:
        return _page(console, "invalid", 404, None)
    now = console.now()
    if found.used_at is not None:
        return _page(console, "used", 409, found)
    if found.expires_at <= now:
        return _page(console, "expired", 410, found)
    if not found.owner_may_act:
        return _page(console, "revoked", 403, found)
    return _page(console, "confirm", 200, found, token=token)


class _Stop(Exception):
    """Ends the link's transaction without acting (rolled back: the link stays usable)."""

    def __init__(self, state: str, status: int, **data: Any) -> None:
        super().__init__(state)
        self.state = state
        self.status = status
        self.data = data


@router.post("/act/{token}", response_class=HTMLResponse)
def act(request: Request, token: str) -> HTMLResponse:
    console = visitor(request)
    secret = console.settings.jwt_secret or ""
    policy = console.policy
    found: _Found | None = None
    try:
        with console.write() as session:
            link = links.find(session, token, secret=secret)
            if link is None or link.action not in ACTION_TITLES:
                raise _Stop("invalid", 404)
            now = console.now()
            found = _read(console, link, session)
            if link.used_at is not None:
                raise _Stop("used", 409)
            if links.expired(link, now=now):
                raise _Stop("expired", 410)
            if not found.owner_may_act:
                raise _Stop("revoked", 403)
            if not links.use(session, link, now=now):
                # Another click got there first (or it expired this instant).
                raise _Stop("used", 409)
            actor = f"{found.user or 'someone'} (link)"
            already = found.incident["acknowledged_at"]
            if link.external_contact_id is not None:
                # An external contact's ack goes on the timeline; the incident's own ack
                # stays its responders' (docs/contacts.md).
                contacts.acknowledge_by_contact(session, link, now=now)
                return _page(_console_for(request, found), "done", 200, found)
            if link.action == "acknowledge":
                incident = transitions.acknowledge(session, link.incident_id, by=actor, now=now)
            else:
                incident = transitions.transition(
                    session,
                    policy,
                    link.incident_id,
                    to="resolved",
                    reason=RESOLVE_REASON,
                    actor=actor,
                    now=now,
                    summary=lifecycle.RESOLVED_FROM_LINK,
                )
            found.incident = _incident_view(incident)
            state = "done"
            if link.action == "acknowledge" and (already is not None or not found.incident["open"]):
                state = "done_already"
    except _Stop as stop:
        return _page(_console_for(request, found), stop.state, stop.status, found, **stop.data)
    except HaetaeError as exc:
        console = _console_for(request, found)
        return _refused(console, found, token, exc)
    return _page(_console_for(request, found), state, 200, found)


def _refused(console: Console, found: _Found | None, token: str, exc: HaetaeError) -> HTMLResponse:
    """The action was refused (nothing changed, the link still works): say why."""
    unmet: list[str] = []
    if exc.code == "RESOLUTION_CONDITIONS_UNMET" and found is not None:
        with console.read() as session:
            incident = session.get(Incident, found.incident["id"])
            if incident is not None:
                unmet = [
                    c.text
                    for c in resolution.conditions(
                        session, console.policy, incident, locale=console.locale
                    )
                    if not c.met
                ]
    return _page(
        console,
        "blocked",
        409,
        found,
        token=token,
        code=exc.code,
        unmet=unmet,
        reason=exc.message,
    )
