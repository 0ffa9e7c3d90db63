"""One incident's page: what it gathers, the full page, and the panels HTMX swaps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents import export, lifecycle, resolution, roles, service
from haetae.policy.schema import ImpactLevel
from haetae.timeline import service as timeline
from haetae.web import (
    change_panel,
    checklist_panel,
    comms_panel,
    diagnostics_panel,
    page_now_panel,
    paging_panel,
    postmortem_pages,
    runbook_panel,
)
from haetae.web.alerts_pages import incident_alerts
from haetae.web.console import Console, Refused, signed_in
from haetae.web.forms import Failure
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
# The panels of the page, each a template `incident/panel_<name>.html` with id `panel-<name>`.
PANELS = (
    "header",
    "status",
    "roles",
    "conditions",
    "update",
    "note",
    "decision",
    "edit",
    "timeline",
    "alerts",
    "postmortem",
    "runbooks",
    "diagnostics",
    "checklists",
    "page_now",
    "changes",
    "comms",
)


def gather(session: Session, console: Console, incident_id: str) -> dict[str, Any]:
    """Everything the panels show, read in the request's one transaction."""
    policy = console.policy
    incident = service.get_incident(session, incident_id)
    now = console.now()
    response_due, recovery_due = service.targets(policy, incident)
    holders = roles.current_roles(session, incident.id)
    severity = policy.severity(incident.severity)
    conditions = resolution.conditions(session, policy, incident, locale=console.locale)
    matrix = policy.impact_matrix
    alerts, alerts_total = incident_alerts(session, incident.id)
    return {
        "incident": incident,
        "severity": severity,
        "category": next((c for c in policy.categories if c.id == incident.category), None),
        "business_level": _level(
            matrix.business_impact if matrix else [], incident.business_impact
        ),
        "user_level": _level(matrix.user_impact if matrix else [], incident.user_impact),
        "roles": holders,
        "missing_roles": [
            r for r in (severity.required_roles if severity else ()) if r not in holders
        ],
        "conditions": conditions,
        "condition_text": {c.id: c.text for c in conditions},
        "events": timeline.events(session, incident.id),
        # Lifecycle order, so the buttons read like the path an incident takes.
        "allowed": [s for s in lifecycle.STATUSES if lifecycle.can_move(incident.status, s)],
        "is_open": incident.status not in ("closed", "canceled"),
        "automatic_summaries": lifecycle.AUTOMATIC_SUMMARIES,
        "can_acknowledge": incident.acknowledged_at is None and incident.status in lifecycle.ACTIVE,
        "response_due": response_due,
        "recovery_due": recovery_due,
        "response_late": bool(
            response_due and incident.acknowledged_at is None and now > response_due
        ),
        "recovery_late": bool(recovery_due and incident.resolved_at is None and now > recovery_due),
        "overdue": service.is_update_overdue(incident, now),
        "is_ic": holders.get("ic") == console.actor,
        "alerts": alerts,
        "alerts_total": alerts_total,
        **paging_panel.gather(session, incident.id),
        **postmortem_pages.incident_panel(session, console, incident.id),
        # Issue 13's panels: each module reads what its panel shows.
        **runbook_panel.gather(session, console, incident),
        **diagnostics_panel.gather(session, console, incident),
        **checklist_panel.gather(session, console, incident),
        **page_now_panel.gather(session, console, incident),
        **change_panel.gather(session, console, incident),
        **comms_panel.gather(session, console, incident),
    }


def _level(levels: list[ImpactLevel], level_id: str | None) -> ImpactLevel | None:
    return next((level for level in levels if level.id == level_id), None)


@contextmanager
def _missing_is_404(console: Console, incident_id: str) -> Iterator[None]:
    try:
        yield
    except HaetaeError as exc:
        if exc.code == "NOT_FOUND":
            message = console.gettext("Incident %(id)s does not exist.") % {"id": incident_id}
            raise Refused(404, message) from None
        raise


def load(console: Console, incident_id: str) -> dict[str, Any]:
    with _missing_is_404(console, incident_id), console.read() as session:
        return gather(session, console, incident_id)


def page(
    console: Console, view: dict[str, Any], failure: Failure | None = None, status: int = 200
) -> Response:
    return render(
        console,
        "incident/detail.html",
        status_code=status,
        active="incidents",
        failure=failure,
        panels=PANELS,
        **view,
    )


def panels(
    console: Console,
    view: dict[str, Any],
    primary: str,
    failure: Failure | None = None,
    status: int = 200,
) -> Response:
    """The posted panel, plus every other panel out-of-band: an action can change any of them
    (a role fills a condition, a status update moves the next-update time in the header)."""
    return render(
        console,
        "incident/_swap.html",
        status_code=status,
        failure=failure,
        primary=primary,
        panels=PANELS,
        **view,
    )


@router.get("/incidents/{incident_id}")
def incident_detail(incident_id: str, console: Console = Depends(signed_in)) -> Response:
    return page(console, load(console, incident_id))


@router.get("/incidents/{incident_id}/timeline.{extension}")
def timeline_download(
    incident_id: str, extension: str, console: Console = Depends(signed_in)
) -> Response:
    """The timeline export (Markdown or CSV) in the page's language."""
    formats: dict[str, export.Format] = {"md": "markdown", "csv": "csv"}
    if extension not in formats:
        raise Refused(404, console.gettext(N_("No such export: use .md or .csv.")))
    with _missing_is_404(console, incident_id), console.read() as session:
        download = export.export_incident(
            session,
            console.policy,
            incident_id,
            fmt=formats[extension],
            locale=console.locale,
            now=console.now(),
        )
    return Response(download.text, media_type=download.media_type, headers=download.headers)
