"""The status page's rules: component states and their history, public incidents and their
public updates (drafted, then published), and scheduled maintenance. Every change moves the
page's version (`StatusPageSettings.updated_at`), which the public faces use for ETags."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.clock import utcnow
from haetae.comms import templates as comms_templates
from haetae.errors import HaetaeError
from haetae.incidents.models import Incident
from haetae.policy.schema import Policy
from haetae.policy.terms import parse_duration
from haetae.statuspage import subscribers
from haetae.statuspage.models import (
    COMPONENT_STATES,
    IMPACTS,
    INCIDENT_STATES,
    MAINTENANCE_STATES,
    Component,
    ComponentState,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
)
from haetae.timeline import service as timeline

LANGUAGES = ("en", "ko")
DEFAULT_TITLE = {"en": "Service status", "ko": "서비스 상태"}
# The worse a state, the higher: a component in two open incidents shows the worse one.
STATE_RANK = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
# A linked incident's severity, by its place in the policy's list, sets its components' state
# and the public impact: the first severity is a major outage, the second a partial one.
_STATE_BY_RANK = ("major_outage", "partial_outage")
_IMPACT_BY_RANK = ("critical", "major")
_CODE_ALPHABET = string.ascii_lowercase + string.digits


def new_code() -> str:
    """A public id: random, so that nobody counts incidents from it."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


def settings(session: Session, *, now: datetime | None = None) -> StatusPageSettings:
    """The page's one settings row, created on first use."""
    row = session.scalars(select(StatusPageSettings).order_by(StatusPageSettings.id)).first()
    if row is None:
        row = StatusPageSettings(
            enabled=True,
            title=dict(DEFAULT_TITLE),
            host=None,
            support_url="",
            updated_at=now or utcnow(),
        )
        session.add(row)
        session.flush()
    return row


def touch(session: Session, *, now: datetime) -> None:
    """The page changed: a new version for the public faces' ETags and caches."""
    row = settings(session, now=now)
    # Two changes in one clock tick (or under a clock moved back) still make a new version.
    row.updated_at = now if row.updated_at < now else row.updated_at + timedelta(microseconds=1)


def _check_state(status: str) -> None:
    if status not in COMPONENT_STATES:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"a component's state is one of: {', '.join(COMPONENT_STATES)}",
            field="status",
        )


def localized_text(value: dict[str, str] | None, what: str) -> dict[str, str]:
    """Text in English and Korean: at least one given; the other falls back to it."""
    given = {k: v.strip() for k, v in (value or {}).items() if isinstance(v, str) and v.strip()}
    unknown = set(given) - set(LANGUAGES)
    if unknown:
        raise HaetaeError("VALIDATION_ERROR", f"{what}: languages are en and ko", field=what)
    if not given:
        raise HaetaeError("VALIDATION_ERROR", f"{what} is empty", field=what)
    en = given.get("en") or given["ko"]
    return {"en": en, "ko": given.get("ko") or en}


# Components.


def set_component_status(
    session: Session, component: Component, status: str, *, by: str, now: datetime
) -> None:
    """Close the component's open state row and open one (the uptime history)."""
    _check_state(status)
    current = session.scalars(
        select(ComponentState).where(
            ComponentState.component_id == component.id, ComponentState.until.is_(None)
        )
    ).first()
    if current is not None and current.status == status and component.status == status:
        return
    if current is not None:
        current.until = now
    session.add(ComponentState(component_id=component.id, status=status, since=now, until=None))
    component.status = status
    component.updated_at = now
    touch(session, now=now)
    session.flush()


def settled_state(session: Session, component_id: int, *, now: datetime) -> str:
    """What a component shows when nothing sets it by hand: the worst state of the open,
    published public incidents naming it, else under maintenance during a window, else
    operational."""
    worst = "operational"
    open_incidents = session.scalars(
        select(PublicIncident).where(
            PublicIncident.published_at.is_not(None), PublicIncident.status != "resolved"
        )
    )
    for public in open_incidents:
        state = public.components.get(str(component_id))
        if state and STATE_RANK.get(state, 0) > STATE_RANK[worst]:
            worst = state
    if worst == "operational":
        windows = session.scalars(
            select(Maintenance).where(Maintenance.status.in_(("in_progress", "verifying")))
        )
        if any(component_id in w.component_ids for w in windows):
            worst = "under_maintenance"
    return worst


def _settle(session: Session, component_ids: list[int], *, by: str, now: datetime) -> None:
    for component in _components(session, component_ids):
        set_component_status(
            session, component, settled_state(session, component.id, now=now), by=by, now=now
        )


def _components(session: Session, ids: list[int]) -> list[Component]:
    if not ids:
        return []
    found = list(
        session.scalars(select(Component).where(Component.id.in_(ids)).order_by(Component.id))
    )
    missing = set(ids) - {c.id for c in found}
    if missing:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"no such component: {', '.join(str(i) for i in sorted(missing))}",
            field="components",
        )
    return found


# Public incidents.


def _severity_rank(policy: Policy, severity: str) -> int:
    ids = [s.id for s in policy.severities]
    return ids.index(severity) if severity in ids else len(ids)


def state_for_severity(policy: Policy, severity: str) -> str:
    rank = _severity_rank(policy, severity)
    return _STATE_BY_RANK[rank] if rank < len(_STATE_BY_RANK) else "degraded_performance"


def impact_for_severity(policy: Policy, severity: str) -> str:
    rank = _severity_rank(policy, severity)
    return _IMPACT_BY_RANK[rank] if rank < len(_IMPACT_BY_RANK) else "minor"


def components_for_incident(session: Session, policy: Policy, incident: Incident) -> dict[int, str]:
    """The components linked to the incident's services, in the state its severity says."""
    services = {s.lower() for s in incident.services or []}
    state = state_for_severity(policy, incident.severity)
    return {
        c.id: state
        for c in session.scalars(select(Component).order_by(Component.position, Component.id))
        if services & {s.lower() for s in c.services or []}
    }


def open_public_incident(
    session: Session,
    policy: Policy,
    *,
    incident_id: str | None,
    title: dict[str, str],
    impact: str,
    components: dict[int, str],
    by: str,
    now: datetime,
) -> PublicIncident:
    """A public incident, from a Haetae incident or standing alone. With an incident, an
    empty `components` means those linked to its services, an empty `impact` the one its
    severity says, and an empty title its title. A drill's is refused. Nothing is public
    until its first update is published."""
    incident = None
    if incident_id is not None:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise HaetaeError("NOT_FOUND", f"no incident {incident_id}", field="incident_id")
        if incident.drill:
            raise HaetaeError("DRILL_NOT_PUBLIC")
        if not components:
            components = components_for_incident(session, policy, incident)
        if not impact:
            impact = impact_for_severity(policy, incident.severity)
        if not any((v or "").strip() for v in (title or {}).values()):
            title = {"en": incident.title, "ko": incident.title}
    impact = impact or "minor"
    if impact not in IMPACTS:
        raise HaetaeError(
            "VALIDATION_ERROR", f"impact is one of: {', '.join(IMPACTS)}", field="impact"
        )
    for state in components.values():
        _check_state(state)
    _components(session, list(components))
    public = PublicIncident(
        code=new_code(),
        incident_id=incident_id,
        title=localized_text(title, "title"),
        impact=impact,
        status="investigating",
        components={str(k): v for k, v in components.items()},
        started_at=incident.started_at if incident is not None else now,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(public)
    session.flush()
    if incident is not None:
        timeline.record(
            session,
            incident.id,
            kind="public_incident_opened",
            actor=by,
            at=now,
            summary=f"public incident {public.code} opened (not public until published)",
            public_incident=public.code,
        )
    return public


def change_public_incident(
    session: Session,
    public: PublicIncident,
    *,
    title: dict[str, str] | None = None,
    impact: str | None = None,
    components: dict[int, str] | None = None,
    by: str,
    now: datetime,
) -> PublicIncident:
    """Edit a public incident's title, impact or components; a published one's component
    states follow at once."""
    if title is not None:
        public.title = localized_text(title, "title")
    if impact is not None:
        if impact not in IMPACTS:
            raise HaetaeError(
                "VALIDATION_ERROR", f"impact is one of: {', '.join(IMPACTS)}", field="impact"
            )
        public.impact = impact
    before = [int(k) for k in public.components]
    if components is not None:
        for state in components.values():
            _check_state(state)
        _components(session, list(components))
        public.components = {str(k): v for k, v in components.items()}
    public.updated_at = now
    session.flush()
    if public.published_at is not None:
        _settle(session, sorted(set(before) | {int(k) for k in public.components}), by=by, now=now)
        touch(session, now=now)
    return public


def _default_template(session: Session, public: PublicIncident, status: str) -> str:
    if status == "resolved":
        return "recovery_notice"
    first = session.scalar(
        select(PublicUpdate.id).where(PublicUpdate.public_incident_id == public.id).limit(1)
    )
    return "customer_first_notice" if first is None else "public_announcement"


def _from_template(
    session: Session, policy: Policy, incident: Incident, kind: str, *, now: datetime
) -> dict[str, str]:
    """The template's words in both languages, from only what the public may read."""
    written = {}
    for lang in LANGUAGES:
        context = comms_templates.context_for(session, policy, incident, lang, now=now, public=True)
        written[lang] = comms_templates.render(session, policy, kind, context, lang).body
    return written


def draft_update(
    session: Session,
    policy: Policy,
    public: PublicIncident,
    *,
    status: str,
    body: dict[str, str] | None,
    template: str | None,
    by: str,
    now: datetime,
) -> PublicUpdate:
    """A draft public update. Without a body it is written in both languages from a
    communication template (first update: customer_first_notice; resolving:
    recovery_notice; else public_announcement) with only what the public may read."""
    if status not in INCIDENT_STATES:
        raise HaetaeError(
            "VALIDATION_ERROR", f"status is one of: {', '.join(INCIDENT_STATES)}", field="status"
        )
    if public.status == "resolved" and public.resolved_at is not None and status != "postmortem":
        raise HaetaeError("CONFLICT", "the public incident is resolved", field="status")
    if body is None:
        kind = template or _default_template(session, public, status)
        incident = session.get(Incident, public.incident_id) if public.incident_id else None
        if incident is None:
            raise HaetaeError(
                "VALIDATION_ERROR",
                "a public incident without a Haetae incident needs its body written",
                field="body",
            )
        written = _from_template(session, policy, incident, kind, now=now)
        body, template = written, kind
    update = PublicUpdate(
        public_incident_id=public.id,
        status=status,
        body=localized_text(body, "body"),
        state="draft",
        template=template,
        created_by=by,
        created_at=now,
    )
    session.add(update)
    public.updated_at = now
    session.flush()
    return update


def publish_update(
    session: Session,
    policy: Policy,
    update: PublicUpdate,
    *,
    by: str,
    now: datetime,
    body: dict[str, str] | None = None,
) -> PublicUpdate:
    """Publish a draft (with `body`, as edited): the incident takes its status and becomes
    public if it was not, its components take their states (resolved: settled back), the
    next update is due after the policy's cadence, subscribers are told."""
    if update.state == "published":
        raise HaetaeError("CONFLICT", "the update is already published")
    public = session.get(PublicIncident, update.public_incident_id, with_for_update=True)
    if public is None:
        raise HaetaeError("NOT_FOUND", "no such public incident")
    if body is not None:
        update.body = localized_text(body, "body")
    update.state, update.published_by, update.published_at = "published", by, now
    if public.published_at is None:
        public.published_at = now
    public.status = update.status
    public.updated_at = now
    if update.status in ("resolved", "postmortem"):
        public.resolved_at = public.resolved_at or now
        public.next_update_due = None
    else:
        public.resolved_at = None
        every = parse_duration(policy.communications.status_page.update_every)
        public.next_update_due = now + every
    session.flush()
    _settle(session, [int(k) for k in public.components], by=by, now=now)
    touch(session, now=now)
    subscribers.on_published(session, update, now=now)
    if public.incident_id is not None:
        timeline.record(
            session,
            public.incident_id,
            kind="public_update_published",
            actor=by,
            at=now,
            summary=f"public update published ({update.status}): {update.body.get('en', '')}"[:500],
            public_incident=public.code,
            update_id=update.id,
            status=update.status,
        )
    return update


# Maintenance.


def _window(start: datetime, end: datetime) -> None:
    if end <= start:
        raise HaetaeError(
            "VALIDATION_ERROR", "a maintenance window ends after it starts", field="end"
        )


def schedule_maintenance(
    session: Session,
    *,
    title: dict[str, str],
    body: dict[str, str] | None,
    start: datetime,
    end: datetime,
    component_ids: list[int],
    by: str,
    now: datetime,
) -> Maintenance:
    """A maintenance window: the worker starts it at `start` (its components under
    maintenance) and completes it at `end`."""
    _window(start, end)
    _components(session, component_ids)
    row = Maintenance(
        code=new_code(),
        title=localized_text(title, "title"),
        body=localized_text(body, "body") if body and any(body.values()) else {},
        status="scheduled",
        scheduled_for=start,
        scheduled_until=end,
        component_ids=sorted(set(component_ids)),
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    touch(session, now=now)
    session.flush()
    # Subscribers hear of the window when it is scheduled, starts and ends.
    subscribers.on_maintenance(session, row, now=now)
    return row


def change_maintenance(
    session: Session,
    maintenance: Maintenance,
    *,
    title: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    component_ids: list[int] | None = None,
    by: str,
    now: datetime,
) -> Maintenance:
    if title is not None:
        maintenance.title = localized_text(title, "title")
    if body is not None:
        maintenance.body = localized_text(body, "body") if any(body.values()) else {}
    _window(start or maintenance.scheduled_for, end or maintenance.scheduled_until)
    maintenance.scheduled_for = start or maintenance.scheduled_for
    maintenance.scheduled_until = end or maintenance.scheduled_until
    before = list(maintenance.component_ids)
    if component_ids is not None:
        _components(session, component_ids)
        maintenance.component_ids = sorted(set(component_ids))
    maintenance.updated_at = now
    session.flush()
    if maintenance.status in ("in_progress", "verifying"):
        _settle(session, sorted(set(before) | set(maintenance.component_ids)), by=by, now=now)
    touch(session, now=now)
    return maintenance


def set_maintenance_status(
    session: Session, maintenance: Maintenance, status: str, *, by: str, now: datetime
) -> None:
    """Move a window along (scheduled, in_progress, verifying, completed): its components
    are under maintenance while it is in progress or verifying, then settle back."""
    if status not in MAINTENANCE_STATES:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"a maintenance's status is one of: {', '.join(MAINTENANCE_STATES)}",
            field="status",
        )
    if status == maintenance.status:
        return
    maintenance.status = status
    maintenance.updated_at = now
    session.flush()
    _settle(session, list(maintenance.component_ids), by=by, now=now)
    touch(session, now=now)
    if status in ("in_progress", "completed"):
        subscribers.on_maintenance(session, maintenance, now=now)


def cancel_maintenance(
    session: Session, maintenance: Maintenance, *, by: str, now: datetime
) -> None:
    """A canceled window is gone from the page; its components settle back."""
    ids = list(maintenance.component_ids)
    session.delete(maintenance)
    session.flush()
    _settle(session, ids, by=by, now=now)
    touch(session, now=now)
