"""Reading the change feed: one change, a filtered list, and the changes an incident sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haetae.changes.models import Change, IncidentChange
from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.incidents.service import list_keys
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration


def get_change(session: Session, change_id: int) -> Change:
    change = session.get(Change, change_id)
    if change is None:
        raise HaetaeError("NOT_FOUND", f"No change {change_id}.")
    return change


def list_changes(
    session: Session,
    *,
    service: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Change], int]:
    """Newest first (when it happened, then the order it arrived), with the total matching."""
    query = select(Change)
    if service:
        query = query.where(Change.service == service.strip().lower())
    if kind:
        query = query.where(Change.kind == kind)
    if since is not None:
        query = query.where(Change.happened_at >= since)
    if until is not None:
        query = query.where(Change.happened_at <= until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Change.happened_at.desc(), Change.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def window(policy: Policy) -> timedelta:
    return parse_duration(policy.response.changes.window)


@dataclass(frozen=True)
class IncidentChangeRow:
    change: Change
    link: IncidentChange | None
    in_window: bool


@dataclass(frozen=True)
class IncidentView:
    window_from: datetime
    window_to: datetime
    rows: list[IncidentChangeRow]


def for_incident(
    session: Session, policy: Policy, incident: Incident, *, now: datetime
) -> IncidentView:
    """Changes to the incident's services from `window` before its start until its resolution
    (or now), newest first, and the changes linked to it wherever they fall."""
    start = incident.started_at - window(policy)
    end = incident.resolved_at or incident.canceled_at or now
    services = list_keys(list(incident.services or []))
    linked = select(IncidentChange.change_id).where(IncidentChange.incident_id == incident.id)
    in_window = Change.service.in_(services) & Change.happened_at.between(start, end)
    query = (
        select(Change, IncidentChange)
        .outerjoin(
            IncidentChange,
            (IncidentChange.change_id == Change.id) & (IncidentChange.incident_id == incident.id),
        )
        .where(or_(in_window, Change.id.in_(linked)) if services else Change.id.in_(linked))
        .order_by(Change.happened_at.desc(), Change.id.desc())
        .limit(500)  # a busy monorepo's six hours; more is noise on an incident page
    )
    rows = [
        IncidentChangeRow(
            change, link, change.service in services and start <= change.happened_at <= end
        )
        for change, link in session.execute(query).all()
    ]
    return IncidentView(start, end, rows)
