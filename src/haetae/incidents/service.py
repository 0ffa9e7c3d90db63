"""The incident rules: declare, read and edit. Plain functions taking a session; the caller
owns the transaction. Severity, roles, activity, resolution conditions and transitions have
modules of their own beside this one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.escalation import service as escalation
from haetae.incidents import lifecycle, severity
from haetae.incidents.models import Incident, IncidentCounter
from haetae.incidents.schemas import IncidentDeclare, IncidentPatch
from haetae.policy import lookup
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

MAX_PAGE = 200


# Identifiers


def next_incident_id(session: Session, policy: Policy, *, now: datetime) -> str:
    """INC-YYYYMMDD-NNN with the day in the policy's zone; one atomic upsert per ID."""
    day = now.astimezone(policy.zone).strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(IncidentCounter)
        .values(day=day, last=1)
        .on_conflict_do_update(
            index_elements=[IncidentCounter.day], set_={"last": IncidentCounter.last + 1}
        )
        .returning(IncidentCounter.last)
    )
    number = session.execute(upsert).scalar_one()
    return f"INC-{day}-{number:03d}"


# Priority and cadence


def priority_score(policy: Policy, incident: Incident) -> float:
    """Seed 000: (severity x business impact x user impact) / technical complexity.

    An impact that was not given counts as the lowest weight, 1.
    """
    severity = policy.severity(incident.severity)
    score = severity.weight if severity else 1.0
    matrix = policy.impact_matrix
    if matrix:
        for value, levels in (
            (incident.business_impact, matrix.business_impact),
            (incident.user_impact, matrix.user_impact),
        ):
            score *= next((lv.weight for lv in levels if lv.id == value), 1.0)
    return round(score / max(incident.complexity, 1), 2)


def _category(policy: Policy, category: str | None) -> str | None:
    """The policy's id for the category given (by id or display name); any text when the
    policy lists no categories."""
    if category is None or not policy.categories:
        return category
    return lookup.resolve(
        policy.categories, category, what="category", code="VALIDATION_ERROR", field="category"
    )


def cadence_due(policy: Policy, incident: Incident, now: datetime) -> datetime | None:
    interval = severity.update_interval(policy, incident.severity)
    return now + interval if interval else None


# Declare and read


def declare_incident(
    session: Session, policy: Policy, data: IncidentDeclare, *, actor: str, now: datetime
) -> Incident:
    level, source = severity.classify(
        policy,
        business_impact=data.business_impact,
        user_impact=data.user_impact,
        severity=data.severity,
    )
    category = _category(policy, data.category)
    started = data.started_at or now
    incident = Incident(
        title=data.title,
        summary=data.summary,
        status="triage",
        severity=level,
        severity_source=source,
        severity_reason=data.severity_reason if source == "explicit" else None,
        category=category,
        services=clean_list(data.services),
        tags=clean_list(data.tags),
        environment=data.environment,
        impact=data.impact.model_dump(exclude_none=True),
        business_impact=data.business_impact,
        user_impact=data.user_impact,
        complexity=data.complexity or policy.priority.default_complexity,
        declared_by=actor,
        declared_at=now,
        started_at=started,
        detected_at=data.detected_at or now,
        updated_at=now,
    )
    incident.priority_score = priority_score(policy, incident)
    incident.next_update_due = cadence_due(policy, incident, now)
    # Last, so that the day's counter row stays locked for as short a time as possible:
    # concurrent declares queue on it until this transaction commits.
    incident.id = next_incident_id(session, policy, now=now)
    session.add(incident)
    session.flush()
    timeline.record(
        session,
        incident.id,
        kind="declared",
        actor=actor,
        at=now,
        summary=f"Declared {level} ({source}): {incident.title}",
        severity=level,
        severity_source=source,
        severity_reason=incident.severity_reason,
        business_impact=incident.business_impact,
        user_impact=incident.user_impact,
    )
    escalation.start(session, policy, incident, now=now)
    return incident


def clean_list(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def get_incident(session: Session, incident_id: str, *, for_update: bool = False) -> Incident:
    query = select(Incident).where(Incident.id == incident_id)
    if for_update:
        query = query.with_for_update()
    incident = session.scalars(query).one_or_none()
    if incident is None:
        raise HaetaeError("NOT_FOUND", f"Incident {incident_id} does not exist.")
    return incident


def list_incidents(
    session: Session,
    *,
    status: list[str] | None = None,
    severity: list[str] | None = None,
    service: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Incident], int]:
    query = select(Incident)
    if status:
        query = query.where(Incident.status.in_(status))
    if severity:
        query = query.where(Incident.severity.in_(severity))
    if since:
        query = query.where(Incident.declared_at >= since)
    if service:
        # JSON list membership, portable across SQLite and PostgreSQL.
        needle = f'"{service.lower()}"'
        query = query.where(
            func.lower(cast(Incident.services, Text)).contains(needle, autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Incident.declared_at.desc(), Incident.id.desc())
        .limit(min(max(limit, 1), MAX_PAGE))
        .offset(max(offset, 0))
    )
    return list(rows), total


def is_update_overdue(incident: Incident, now: datetime) -> bool:
    return (
        incident.status in lifecycle.ACTIVE
        and incident.next_update_due is not None
        and incident.next_update_due < now
    )


def targets(policy: Policy, incident: Incident) -> tuple[datetime | None, datetime | None]:
    """When the response and the recovery are due under the policy."""
    sev = policy.severity(incident.severity)
    if sev is None:
        return None, None
    return (
        policy.target_due(sev.response_target, incident.detected_at),
        policy.target_due(sev.recovery_target, incident.started_at),
    )


# Changes


def patch_incident(
    session: Session,
    policy: Policy,
    incident_id: str,
    data: IncidentPatch,
    *,
    actor: str,
    now: datetime,
) -> Incident:
    incident = get_incident(session, incident_id, for_update=True)
    require_open(incident)
    changes = data.model_dump(exclude_unset=True)
    reason = changes.pop("severity_reason", None)
    new_severity = changes.pop("severity", None)
    use_matrix = changes.pop("severity_from_matrix", False)
    severity.check_impacts(policy, changes.get("business_impact"), changes.get("user_impact"))
    if "category" in changes:
        changes["category"] = _category(policy, changes["category"])
    changed: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("services", "tags") and value is not None:
            value = clean_list(value)
        if field == "impact" and value is not None:
            value = {k: v for k, v in value.items() if v is not None}
        if getattr(incident, field) != value:
            changed[field] = {"from": getattr(incident, field), "to": value}
            setattr(incident, field, value)
    before = (incident.severity, incident.severity_source, incident.severity_reason)
    decided = severity.decide(
        policy, incident, explicit=new_severity, reason=reason, use_matrix=use_matrix
    )
    incident.severity, incident.severity_source = decided.severity, decided.source
    incident.severity_reason = decided.reason
    severity_moved = (decided.severity, decided.source, decided.reason) != before
    if not changed and not severity_moved:
        return incident
    incident.priority_score = priority_score(policy, incident)
    incident.updated_at = now
    if changed:
        timeline.record(
            session,
            incident.id,
            kind="fields_changed",
            actor=actor,
            at=now,
            summary="Changed " + ", ".join(sorted(changed)),
            changes=changed,
        )
    if severity_moved:
        severity.follow_move(
            session, policy, incident, old_severity=before[0], reason=reason, actor=actor, now=now
        )
    return incident


def require_open(incident: Incident) -> None:
    if incident.status in ("closed", "canceled"):
        raise HaetaeError(
            "INVALID_TRANSITION",
            f"{incident.id} is {incident.status}; it no longer changes.",
            current=incident.status,
        )
