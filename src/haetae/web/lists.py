"""The dashboard (what is burning now) and the filterable incident list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haetae.incidents import lifecycle, roles, service
from haetae.incidents.models import Incident
from haetae.policy.schema import Severity
from haetae.web.console import Console, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
RECENTLY_RESOLVED = 8


@dataclass
class Row:
    incident: Incident
    ic: str | None
    overdue: bool
    ic_required: bool


@dataclass
class Group:
    severity: Severity | None
    severity_id: str
    rows: list[Row]


def _rows(
    console: Console, session: Session, incidents: list[Incident], now: datetime
) -> list[Row]:
    rows = []
    for incident in incidents:
        severity = console.policy.severity(incident.severity)
        rows.append(
            Row(
                incident,
                roles.current_roles(session, incident.id).get("ic"),
                service.is_update_overdue(incident, now),
                ic_required=bool(severity and "ic" in severity.required_roles),
            )
        )
    return rows


def group_by_severity(console: Console, rows: list[Row]) -> list[Group]:
    """Most severe first, in the policy's order; inside a level, overdue first, then oldest."""
    groups: list[Group] = []
    known = [s.id for s in console.policy.severities]
    for sev in console.policy.severities:
        mine = [r for r in rows if r.incident.severity == sev.id]
        if mine:
            groups.append(Group(sev, sev.id, mine))
    # A severity the policy no longer defines still shows, last, rather than vanishing.
    for sev_id in sorted({r.incident.severity for r in rows} - set(known)):
        groups.append(Group(None, sev_id, [r for r in rows if r.incident.severity == sev_id]))
    for group in groups:
        group.rows.sort(key=lambda r: (not r.overdue, r.incident.started_at))
    return groups


@router.get("/")
def dashboard(console: Console = Depends(signed_in)) -> Response:
    now = console.now()
    with console.read() as session:
        active, active_total = service.list_incidents(
            session, status=list(lifecycle.ACTIVE), limit=service.MAX_PAGE
        )
        active_rows = _rows(console, session, active, now)
        resolved, _ = service.list_incidents(
            session, status=["resolved", "closed"], limit=RECENTLY_RESOLVED * 3
        )
    recent = sorted(resolved, key=lambda i: i.resolved_at or i.updated_at, reverse=True)
    return render(
        console,
        "dashboard.html",
        active="dashboard",
        groups=group_by_severity(console, active_rows),
        active_total=active_total,
        shown=len(active_rows),
        overdue_count=sum(1 for r in active_rows if r.overdue),
        recent=recent[:RECENTLY_RESOLVED],
    )


@router.get("/incidents")
def incident_list(
    console: Console = Depends(signed_in),
    status: str = "",
    severity: str = "",
    service_name: str = Query(default="", alias="service"),
    page: int = Query(default=1, ge=1, le=10_000),
) -> Response:
    if status == "active":
        statuses: list[str] | None = list(lifecycle.ACTIVE)
    elif status in lifecycle.STATUSES:
        statuses = [status]
    else:
        status, statuses = "", None
    if console.policy.severity(severity) is None:
        severity = ""
    now = console.now()
    with console.read() as session:
        items, total = service.list_incidents(
            session,
            status=statuses,
            severity=[severity] if severity else None,
            service=service_name.strip() or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        rows = _rows(console, session, items, now)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    filters = {"status": status, "severity": severity, "service": service_name.strip()}

    def page_url(number: int) -> str:
        query = {k: v for k, v in filters.items() if v}
        if number > 1:
            query["page"] = str(number)
        return "/incidents" + (f"?{urlencode(query)}" if query else "")

    return render(
        console,
        "incidents.html",
        active="incidents",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        prev_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < pages else None,
        first=(page - 1) * PAGE_SIZE + 1 if rows else 0,
        last=(page - 1) * PAGE_SIZE + len(rows),
    )
