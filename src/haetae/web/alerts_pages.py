"""Alerts and integrations in the console: who may send alerts, and what they sent.

Admins create integrations, rotate their tokens and switch them off and on; everyone
signed in reads the integrations, the alerts and each alert's labels and raw payload.
A token is shown once, on the answer to the post that made it, and never again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.alerts import queries
from haetae.alerts.integrations import (
    create_integration,
    get_integration,
    integration_view,
    list_integrations,
    rotate_token,
    set_enabled,
)
from haetae.alerts.models import ALERT_STATUSES, INTEGRATION_TYPES, Alert, AlertGroup, Integration
from haetae.alerts.queries import OPEN_STATUSES, AlertFilter, get_alert, list_alerts
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents.models import Incident
from haetae.inputs import is_number
from haetae.web.console import Console, Refused, admin_post_refusing, field, signed_in
from haetae.web.forms import Failure
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
# The incident page lists this many of its alerts; the rest are one link away.
INCIDENT_PANEL_LIMIT = 50
NAME_MAX = 100
TOKEN_PLACEHOLDER = "<token>"
ADMIN_REFUSAL = N_("Only an admin can manage integrations.")
NAME_REQUIRED = N_("Give the integration a name of at most 100 characters.")
TYPE_REQUIRED = N_("Choose the integration's type.")
NAME_TAKEN = N_("An integration with that name already exists.")
# A YAML plain scalar that needs no quotes; anything else is written as a JSON string,
# which YAML reads the same way.
_PLAIN_YAML = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./:@%+=-]*")


admin_post = admin_post_refusing(ADMIN_REFUSAL)


def base_url(console: Console) -> str:
    """Where senders reach Haetae: PUBLIC_URL, else the address this request came to."""
    return console.settings.base_url_for(console.request.base_url)


def _yaml_scalar(value: str) -> str:
    if _PLAIN_YAML.fullmatch(value) and ": " not in value and not value.endswith(":"):
        return value
    return json.dumps(value, ensure_ascii=False)


def alertmanager_snippet(name: str, url: str, token: str) -> str:
    """The `receivers:` entry for Alertmanager's configuration that sends to this integration."""
    return "\n".join(
        [
            "receivers:",
            f"  - name: {_yaml_scalar('haetae-' + name)}",
            "    webhook_configs:",
            f"      - url: {_yaml_scalar(url)}",
            "        send_resolved: true",
            "        http_config:",
            "          authorization:",
            "            type: Bearer",
            # Always quoted: a hex token of digits alone would read as a number.
            f"            credentials: {json.dumps(token)}",
        ]
    )


def _forget_tokens(console: Console) -> None:
    """A new, rotated or disabled token takes effect at once in this process."""
    tokens = getattr(console.request.app.state, "tokens", None)
    if tokens is not None:
        tokens.forget()


@dataclass
class IntegrationRow:
    integration: Integration
    url: str
    snippet: str | None
    alerts: int


@dataclass
class Fresh:
    """A token just made: shown on this one answer only."""

    integration: Integration
    token: str
    url: str
    snippet: str | None
    rotated: bool


def _snippet(integration: Integration, url: str, token: str) -> str | None:
    if integration.type != "alertmanager":
        return None
    return alertmanager_snippet(integration.name, url, token)


def _row(console: Console, integration: Integration, alerts: int = 0) -> IntegrationRow:
    url = integration_view(integration, base_url(console)).url
    return IntegrationRow(integration, url, _snippet(integration, url, TOKEN_PLACEHOLDER), alerts)


def _fresh(console: Console, integration: Integration, token: str, *, rotated: bool) -> Fresh:
    url = integration_view(integration, base_url(console)).url
    return Fresh(integration, token, url, _snippet(integration, url, token), rotated)


def _find_integration(console: Console, session: Session, integration_id: str) -> Integration:
    try:
        return get_integration(session, integration_id)
    except HaetaeError as exc:
        if exc.code == "NOT_FOUND":
            message = console.gettext("Integration %(id)s does not exist.") % {"id": integration_id}
            raise Refused(404, message) from None
        raise


def _integrations_page(
    console: Console,
    *,
    fresh: Fresh | None = None,
    failure: Failure | None = None,
    status: int = 200,
) -> Response:
    with console.read() as session:
        counts = dict(
            session.execute(
                select(Alert.integration_id, func.count()).group_by(Alert.integration_id)
            ).all()
        )
        rows = [_row(console, i, counts.get(i.id, 0)) for i in list_integrations(session)]
    return render(
        console,
        "integrations.html",
        status_code=status,
        active="integrations",
        rows=rows,
        fresh=fresh,
        failure=failure,
        is_admin=console.is_admin,
        types=INTEGRATION_TYPES,
        placeholder=TOKEN_PLACEHOLDER,
    )


@router.get("/integrations")
def integrations(console: Console = Depends(signed_in)) -> Response:
    return _integrations_page(console)


@router.post("/integrations")
def create(posted: tuple[Console, FormData] = Depends(admin_post)) -> Response:
    console, form = posted
    values = {"name": field(form, "name"), "type": field(form, "type")}
    messages = []
    if not values["name"] or len(values["name"]) > NAME_MAX:
        messages.append(console.gettext(NAME_REQUIRED))
    if values["type"] not in INTEGRATION_TYPES:
        messages.append(console.gettext(TYPE_REQUIRED))
    if messages:
        return _integrations_page(console, failure=Failure("create", messages, values), status=422)
    try:
        with console.write() as session:
            integration, token = create_integration(
                session,
                name=values["name"],
                type=values["type"],
                actor=console.actor,
                now=console.now(),
            )
            fresh = _fresh(console, integration, token, rotated=False)
    except HaetaeError as exc:
        if exc.code != "CONFLICT":
            raise
        failure = Failure("create", [console.gettext(NAME_TAKEN)], values, 409)
        return _integrations_page(console, failure=failure, status=409)
    _forget_tokens(console)
    return _integrations_page(console, fresh=fresh)


@router.post("/integrations/{integration_id}/rotate")
def rotate(integration_id: str, posted: tuple[Console, FormData] = Depends(admin_post)) -> Response:
    console, _form = posted
    with console.write() as session:
        integration = _find_integration(console, session, integration_id)
        token = rotate_token(session, integration, now=console.now())
        fresh = _fresh(console, integration, token, rotated=True)
    _forget_tokens(console)
    return _integrations_page(console, fresh=fresh)


@router.post("/integrations/{integration_id}/enabled")
def switch(integration_id: str, posted: tuple[Console, FormData] = Depends(admin_post)) -> Response:
    """`enabled=1` lets the integration's alerts in again, `enabled=0` refuses them."""
    console, form = posted
    with console.write() as session:
        integration = _find_integration(console, session, integration_id)
        set_enabled(integration, field(form, "enabled") == "1", now=console.now())
    _forget_tokens(console)
    back = field(form, "back")
    target = back if back == f"/integrations/{integration.id}" else "/integrations"
    return RedirectResponse(target, status_code=303)


@dataclass
class Pages:
    page: int
    pages: int
    total: int
    first: int
    last: int
    prev_url: str | None
    next_url: str | None


def _paged(
    session: Session, where: AlertFilter, page: int, path: str, filters: dict[str, str]
) -> tuple[list[Alert], Pages]:
    rows, total = list_alerts(session, where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    items = [alert for alert, _integration in rows]
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)

    def url(number: int) -> str:
        query_string = {k: v for k, v in filters.items() if v}
        if number > 1:
            query_string["page"] = str(number)
        return path + (f"?{urlencode(query_string)}" if query_string else "")

    return items, Pages(
        page=page,
        pages=pages,
        total=total,
        first=(page - 1) * PAGE_SIZE + 1 if items else 0,
        last=(page - 1) * PAGE_SIZE + len(items),
        prev_url=url(page - 1) if page > 1 else None,
        next_url=url(page + 1) if page < pages else None,
    )


def _names(session: Session) -> dict[int, Integration]:
    return {i.id: i for i in list_integrations(session)}


@router.get("/integrations/{integration_id}")
def integration_detail(
    integration_id: str,
    console: Console = Depends(signed_in),
    page: int = Query(default=1, ge=1, le=10_000),
) -> Response:
    with console.read() as session:
        integration = _find_integration(console, session, integration_id)
        where = AlertFilter(integration_id=integration.id)
        alerts, pages = _paged(session, where, page, f"/integrations/{integration.id}", {})
    return render(
        console,
        "integration.html",
        active="integrations",
        row=_row(console, integration, pages.total),
        alerts=alerts,
        paging=pages,
        integrations={integration.id: integration},
        is_admin=console.is_admin,
        placeholder=TOKEN_PLACEHOLDER,
    )


@router.get("/alerts")
def alert_list(
    console: Console = Depends(signed_in),
    status: str = "",
    integration: str = "",
    incident: str = "",
    page: int = Query(default=1, ge=1, le=10_000),
) -> Response:
    statuses: tuple[str, ...] | None = None
    if status == "open":
        statuses = OPEN_STATUSES
    elif status in ALERT_STATUSES:
        statuses = (status,)
    else:
        status = ""
    if not is_number(integration):
        integration = ""
    incident = incident.strip()
    where = AlertFilter(
        incident_id=incident or None,
        integration_id=int(integration) if integration else None,
        statuses=statuses,
    )
    filters = {"status": status, "integration": integration, "incident": incident}
    with console.read() as session:
        known = _names(session)
        alerts, pages = _paged(session, where, page, "/alerts", filters)
    return render(
        console,
        "alerts.html",
        active="alerts",
        alerts=alerts,
        paging=pages,
        filters=filters,
        integrations=known,
        alert_statuses=ALERT_STATUSES,
    )


def _safe_link(url: str | None) -> str | None:
    """Only web links become links: a sender's `javascript:` URL stays text."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _raw_json(raw: Any) -> str:
    return json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@router.get("/alerts/{alert_id}")
def alert_detail(alert_id: str, console: Console = Depends(signed_in)) -> Response:
    with console.read() as session:
        try:
            if not (is_number(alert_id) and len(alert_id) < 19):
                raise HaetaeError("NOT_FOUND", f"No alert {alert_id}.")
            found, integration = get_alert(session, int(alert_id))
        except HaetaeError as exc:
            if exc.code != "NOT_FOUND":
                raise
            message = console.gettext("Alert %(id)s does not exist.") % {"id": alert_id}
            raise Refused(404, message) from None
        group = session.get(AlertGroup, found.group_id) if found.group_id else None
        incident = session.get(Incident, found.incident_id) if found.incident_id else None
    return render(
        console,
        "alert.html",
        active="alerts",
        alert=found,
        integration=integration,
        group=group,
        incident=incident,
        link=_safe_link(found.generator_url),
        labels=sorted((found.labels or {}).items()),
        annotations=sorted((found.annotations or {}).items()),
        raw=_raw_json(found.raw),
    )


def incident_alerts(session: Session, incident_id: str) -> tuple[list[Alert], int]:
    """The incident page's alerts panel: its newest alerts and how many it has in all."""
    return queries.incident_alerts(session, incident_id, limit=INCIDENT_PANEL_LIMIT)
