"""The incident rules. Plain functions taking a session; the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.incidents import lifecycle
from haetae.incidents.models import (
    ConditionCheck,
    Decision,
    Incident,
    IncidentCounter,
    Note,
    RoleAssignment,
    StatusUpdate,
)
from haetae.incidents.schemas import (
    ConditionOut,
    DecisionIn,
    IncidentDeclare,
    IncidentPatch,
    NoteIn,
    StatusUpdateIn,
)
from haetae.policy.schema import Policy, localized
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


# Classification


def classify(
    policy: Policy,
    *,
    business_impact: str | None,
    user_impact: str | None,
    severity: str | None,
) -> tuple[str, str]:
    """The severity and where it came from: the explicit choice, else the impact matrix."""
    _check_impacts(policy, business_impact, user_impact)
    if severity:
        if policy.severity(severity) is None:
            known = ", ".join(s.id for s in policy.severities)
            raise HaetaeError("UNKNOWN_SEVERITY", f"Severity '{severity}' is not one of: {known}.")
        return severity, "explicit"
    if business_impact and user_impact:
        found = policy.classify(business_impact, user_impact)
        if found:
            return found, "matrix"
    raise HaetaeError(
        "SEVERITY_REQUIRED",
        "Give a severity with a severity_reason, or both business_impact and user_impact.",
    )


def _check_impacts(policy: Policy, business: str | None, user: str | None) -> None:
    matrix = policy.impact_matrix
    for field, value, levels in (
        ("business_impact", business, matrix.business_impact if matrix else []),
        ("user_impact", user, matrix.user_impact if matrix else []),
    ):
        if value is None:
            continue
        ids = [level.id for level in levels]
        if value not in ids:
            known = ", ".join(ids) or "(the policy has no impact matrix)"
            raise HaetaeError(
                "UNKNOWN_IMPACT",
                f"{field} '{value}' is not one of: {known}.",
                field=field,
            )


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


def _check_category(policy: Policy, category: str | None) -> None:
    ids = [c.id for c in policy.categories]
    if category is not None and ids and category not in ids:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"category '{category}' is not one of: {', '.join(ids)}.",
            field="category",
        )


def update_interval(policy: Policy, severity: str) -> timedelta | None:
    sev = policy.severity(severity)
    return sev.update_interval.duration if sev and sev.update_interval else None


def _cadence_due(policy: Policy, incident: Incident, now: datetime) -> datetime | None:
    interval = update_interval(policy, incident.severity)
    return now + interval if interval else None


# Declare and read


def declare_incident(
    session: Session, policy: Policy, data: IncidentDeclare, *, actor: str, now: datetime
) -> Incident:
    severity, source = classify(
        policy,
        business_impact=data.business_impact,
        user_impact=data.user_impact,
        severity=data.severity,
    )
    _check_category(policy, data.category)
    started = data.started_at or now
    incident = Incident(
        id=next_incident_id(session, policy, now=now),
        title=data.title,
        summary=data.summary,
        status="triage",
        severity=severity,
        severity_source=source,
        severity_reason=data.severity_reason if source == "explicit" else None,
        category=data.category,
        services=_clean(data.services),
        tags=_clean(data.tags),
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
    incident.next_update_due = _cadence_due(policy, incident, now)
    session.add(incident)
    session.flush()
    timeline.record(
        session,
        incident.id,
        kind="declared",
        actor=actor,
        at=now,
        summary=f"Declared {severity} ({source}): {incident.title}",
        severity=severity,
        severity_source=source,
        severity_reason=incident.severity_reason,
        business_impact=incident.business_impact,
        user_impact=incident.user_impact,
    )
    return incident


def _clean(values: list[str]) -> list[str]:
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
    _require_open(incident)
    changes = data.model_dump(exclude_unset=True)
    reason = changes.pop("severity_reason", None)
    new_severity = changes.pop("severity", None)
    use_matrix = changes.pop("severity_from_matrix", False)
    _check_impacts(policy, changes.get("business_impact"), changes.get("user_impact"))
    if "category" in changes:
        _check_category(policy, changes["category"])
    changed: dict[str, Any] = {}
    for field, value in changes.items():
        if field in ("services", "tags") and value is not None:
            value = _clean(value)
        if field == "impact" and value is not None:
            value = {k: v for k, v in value.items() if v is not None}
        if getattr(incident, field) != value:
            changed[field] = {"from": getattr(incident, field), "to": value}
            setattr(incident, field, value)
    # Severity: an explicit one wins; a matrix-derived one follows impact changes.
    before = (incident.severity, incident.severity_source, incident.severity_reason)
    if new_severity:
        severity, source = classify(
            policy, business_impact=None, user_impact=None, severity=new_severity
        )
    elif use_matrix or incident.severity_source == "matrix":
        if not (incident.business_impact and incident.user_impact):
            if use_matrix:
                raise HaetaeError(
                    "SEVERITY_REQUIRED",
                    "The matrix needs both business_impact and user_impact.",
                )
            severity, source = incident.severity, incident.severity_source
        else:
            severity, source = classify(
                policy,
                business_impact=incident.business_impact,
                user_impact=incident.user_impact,
                severity=None,
            )
    else:
        severity, source = incident.severity, incident.severity_source
    incident.severity, incident.severity_source = severity, source
    if new_severity:
        incident.severity_reason = reason
    elif source == "matrix":
        incident.severity_reason = None
    old_severity = before[0]
    severity_moved = (severity, source, incident.severity_reason) != before
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
        if incident.status in lifecycle.ACTIVE:
            interval = update_interval(policy, severity)
            if interval and (
                incident.next_update_due is None or now + interval < incident.next_update_due
            ):
                incident.next_update_due = now + interval
        timeline.record(
            session,
            incident.id,
            kind="severity_changed",
            actor=actor,
            at=now,
            summary=f"Severity {old_severity} -> {severity}" + (f": {reason}" if reason else ""),
            **{"from": old_severity, "to": severity, "source": source, "reason": reason},
        )
    return incident


def acknowledge(session: Session, incident_id: str, *, by: str, now: datetime) -> Incident:
    incident = get_incident(session, incident_id, for_update=True)
    if incident.acknowledged_at is None and incident.status in lifecycle.ACTIVE:
        incident.acknowledged_at = now
        incident.updated_at = now
        timeline.record(
            session,
            incident.id,
            kind="acknowledged",
            actor=by,
            at=now,
            summary=f"Acknowledged by {by}",
        )
    return incident


def transition(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    to: str,
    reason: str | None,
    actor: str,
    now: datetime,
    override_conditions: bool = False,
) -> Incident:
    incident = get_incident(session, incident_id, for_update=True)
    current = incident.status
    if not lifecycle.can_move(current, to):
        allowed = sorted(lifecycle.ALLOWED.get(current, ()))
        raise HaetaeError(
            "INVALID_TRANSITION",
            f"{incident.id} is {current}; it can move to: {', '.join(allowed) or 'nothing'}.",
            current=current,
            to=to,
            allowed=allowed,
        )
    if to == "resolved":
        unmet = [c for c in conditions(session, policy, incident) if not c.met]
        if unmet and not override_conditions:
            raise HaetaeError(
                "RESOLUTION_CONDITIONS_UNMET",
                "Resolution conditions unmet: " + "; ".join(c.text for c in unmet),
                unmet=[c.model_dump(include={"id", "text", "kind"}) for c in unmet],
            )
        if unmet:
            _check_override(session, incident, actor=actor, reason=reason)
            timeline.record(
                session,
                incident.id,
                kind="resolution_override",
                actor=actor,
                at=now,
                summary=f"Resolved with unmet conditions: {reason}",
                unmet=[c.id for c in unmet],
                reason=reason,
            )
    _apply_status(policy, incident, to, now)
    timeline.record(
        session,
        incident.id,
        kind="status_changed",
        actor=actor,
        at=now,
        summary=f"{current} -> {to}" + (f": {reason}" if reason else ""),
        **{"from": current, "to": to, "reason": reason},
    )
    return incident


def _check_override(
    session: Session, incident: Incident, *, actor: str, reason: str | None
) -> None:
    ic = current_roles(session, incident.id).get("ic")
    if ic != actor:
        raise HaetaeError(
            "FORBIDDEN",
            "Only the incident's IC can resolve with unmet conditions"
            + (f" (the IC is {ic})." if ic else "; no IC is assigned."),
        )
    if not reason:
        raise HaetaeError("VALIDATION_ERROR", "An override needs a reason.", field="reason")


def _apply_status(policy: Policy, incident: Incident, to: str, now: datetime) -> None:
    if incident.status == "triage" and incident.acknowledged_at is None and to != "canceled":
        incident.acknowledged_at = now
    if to in ("monitoring", "resolved") and incident.mitigated_at is None:
        incident.mitigated_at = now
    if to == "resolved":
        incident.resolved_at = now
        incident.next_update_due = None
    elif to == "closed":
        incident.closed_at = now
        incident.next_update_due = None
    elif to == "canceled":
        incident.canceled_at = now
        incident.next_update_due = None
    elif incident.status == "resolved":  # reopened
        incident.resolved_at = None
        incident.next_update_due = _cadence_due(policy, incident, now)
    incident.status = to
    incident.updated_at = now


# Roles


def current_roles(session: Session, incident_id: str) -> dict[str, str]:
    rows = session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id, RoleAssignment.ended_at.is_(None)
        )
    )
    return {row.role: row.assignee for row in rows}


def role_history(session: Session, incident_id: str) -> list[RoleAssignment]:
    return list(
        session.scalars(
            select(RoleAssignment)
            .where(RoleAssignment.incident_id == incident_id)
            .order_by(RoleAssignment.assigned_at, RoleAssignment.id)
        )
    )


def assign_role(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    role: str,
    assignee: str,
    actor: str,
    now: datetime,
) -> RoleAssignment:
    """Assign a role; if someone holds it, this is a hand-over and their assignment ends."""
    if policy.role(role) is None:
        known = ", ".join(r.id for r in policy.roles)
        raise HaetaeError("UNKNOWN_ROLE", f"Role '{role}' is not one of: {known}.")
    incident = get_incident(session, incident_id, for_update=True)
    _require_open(incident)
    holder = session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id,
            RoleAssignment.role == role,
            RoleAssignment.ended_at.is_(None),
        )
    ).one_or_none()
    if holder is not None and holder.assignee == assignee:
        return holder
    if holder is not None:
        holder.ended_at = now
    assignment = RoleAssignment(
        incident_id=incident_id, role=role, assignee=assignee, assigned_by=actor, assigned_at=now
    )
    session.add(assignment)
    incident.updated_at = now
    label = localized(policy.role(role).name, "en")  # type: ignore[union-attr]
    if holder is None:
        timeline.record(
            session,
            incident_id,
            kind="role_assigned",
            actor=actor,
            at=now,
            summary=f"{label}: {assignee}",
            role=role,
            assignee=assignee,
        )
    else:
        timeline.record(
            session,
            incident_id,
            kind="role_handed_over",
            actor=actor,
            at=now,
            summary=f"{label}: {holder.assignee} -> {assignee}",
            role=role,
            assignee=assignee,
            previous=holder.assignee,
        )
    session.flush()
    return assignment


def unassign_role(
    session: Session, incident_id: str, *, role: str, actor: str, now: datetime
) -> None:
    incident = get_incident(session, incident_id, for_update=True)
    _require_open(incident)
    holder = session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id,
            RoleAssignment.role == role,
            RoleAssignment.ended_at.is_(None),
        )
    ).one_or_none()
    if holder is None:
        raise HaetaeError("NOT_FOUND", f"Nobody holds the role '{role}' on {incident_id}.")
    holder.ended_at = now
    incident.updated_at = now
    timeline.record(
        session,
        incident_id,
        kind="role_unassigned",
        actor=actor,
        at=now,
        summary=f"{role}: {holder.assignee} stepped down",
        role=role,
        assignee=holder.assignee,
    )


def _require_open(incident: Incident) -> None:
    if incident.status in ("closed", "canceled"):
        raise HaetaeError(
            "INVALID_TRANSITION",
            f"{incident.id} is {incident.status}; it no longer changes.",
            current=incident.status,
        )


# Updates, notes, decisions


def post_update(
    session: Session,
    policy: Policy,
    incident_id: str,
    data: StatusUpdateIn,
    *,
    author: str,
    now: datetime,
) -> StatusUpdate:
    incident = get_incident(session, incident_id, for_update=True)
    _require_open(incident)
    if data.next_update_at is not None and data.next_update_at <= now:
        raise HaetaeError(
            "VALIDATION_ERROR", "next_update_at must be in the future.", field="next_update_at"
        )
    cadence = _cadence_due(policy, incident, now)
    next_at = data.next_update_at or cadence
    if cadence and next_at and next_at > cadence:
        # The policy's cadence is a promise to stakeholders: an update cannot push it out.
        next_at = cadence
    update = StatusUpdate(
        incident_id=incident_id,
        situation=data.situation,
        impact=data.impact,
        progress=data.progress,
        eta=data.eta,
        next_update_at=next_at,
        author=author,
        created_at=now,
    )
    session.add(update)
    if incident.status in lifecycle.ACTIVE:
        incident.next_update_due = next_at
    incident.updated_at = now
    session.flush()
    timeline.record(
        session,
        incident_id,
        kind="status_update",
        actor=author,
        at=now,
        summary=data.situation[:200],
        update_id=update.id,
        situation=data.situation,
        impact=data.impact,
        progress=data.progress,
        eta=data.eta,
        next_update_at=next_at.isoformat() if next_at else None,
    )
    return update


def add_note(
    session: Session, incident_id: str, data: NoteIn, *, author: str, now: datetime
) -> Note:
    incident = get_incident(session, incident_id)
    note = Note(
        incident_id=incident.id,
        kind=data.kind,
        body=data.body,
        url=str(data.url) if data.url else None,
        author=author,
        created_at=now,
    )
    session.add(note)
    session.flush()
    timeline.record(
        session,
        incident.id,
        kind=data.kind,
        actor=author,
        at=now,
        summary=(data.body or note.url or "")[:200],
        note_id=note.id,
        body=data.body,
        url=note.url,
    )
    return note


def record_decision(
    session: Session, incident_id: str, data: DecisionIn, *, by: str, now: datetime
) -> Decision:
    incident = get_incident(session, incident_id)
    decision = Decision(
        incident_id=incident.id,
        kind=data.kind,
        decision=data.decision,
        alternatives=_clean(data.alternatives),
        reason=data.reason,
        decided_by=by,
        created_at=now,
    )
    session.add(decision)
    session.flush()
    timeline.record(
        session,
        incident.id,
        kind="decision",
        actor=by,
        at=now,
        summary=f"[{data.kind}] {data.decision[:200]}",
        decision_id=decision.id,
        decision_kind=data.kind,
        decision=data.decision,
        alternatives=decision.alternatives,
        reason=data.reason,
    )
    return decision


def list_updates(session: Session, incident_id: str) -> list[StatusUpdate]:
    return list(
        session.scalars(
            select(StatusUpdate)
            .where(StatusUpdate.incident_id == incident_id)
            .order_by(StatusUpdate.created_at.desc(), StatusUpdate.id.desc())
        )
    )


def list_notes(session: Session, incident_id: str) -> list[Note]:
    return list(
        session.scalars(
            select(Note).where(Note.incident_id == incident_id).order_by(Note.created_at, Note.id)
        )
    )


def list_decisions(session: Session, incident_id: str) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.incident_id == incident_id)
            .order_by(Decision.created_at, Decision.id)
        )
    )


# Resolution conditions


def conditions(
    session: Session, policy: Policy, incident: Incident, *, locale: str = "en"
) -> list[ConditionOut]:
    """The policy's resolution conditions for the incident's severity, each met or not."""
    sev = policy.severity(incident.severity)
    if sev is None:
        return []
    checks = {
        c.condition_id: c
        for c in session.scalars(
            select(ConditionCheck).where(ConditionCheck.incident_id == incident.id)
        )
    }
    roles = current_roles(session, incident.id)
    has_update = session.scalar(
        select(func.count())
        .select_from(StatusUpdate)
        .where(StatusUpdate.incident_id == incident.id)
    )
    result = []
    for cond in sev.resolution_conditions:
        check = checks.get(cond.id)
        if cond.kind == "roles_assigned":
            met = all(role in roles for role in cond.roles)
        elif cond.kind == "update_posted":
            met = bool(has_update)
        else:
            met = check is not None
        result.append(
            ConditionOut(
                id=cond.id,
                text=localized(cond.text, locale),
                kind=cond.kind,
                met=met,
                checked_by=check.checked_by if check and cond.kind == "manual" else None,
                checked_at=check.checked_at if check and cond.kind == "manual" else None,
            )
        )
    return result


def check_condition(
    session: Session,
    policy: Policy,
    incident_id: str,
    condition_id: str,
    *,
    by: str,
    note: str,
    now: datetime,
) -> ConditionCheck:
    incident = get_incident(session, incident_id, for_update=True)
    _require_open(incident)
    sev = policy.severity(incident.severity)
    cond = next(
        (c for c in (sev.resolution_conditions if sev else []) if c.id == condition_id), None
    )
    if cond is None or cond.kind != "manual":
        raise HaetaeError(
            "UNKNOWN_CONDITION",
            f"'{condition_id}' is not a condition a responder confirms for {incident.severity}.",
        )
    existing = session.scalars(
        select(ConditionCheck).where(
            ConditionCheck.incident_id == incident_id, ConditionCheck.condition_id == condition_id
        )
    ).one_or_none()
    if existing:
        return existing
    check = ConditionCheck(
        incident_id=incident_id, condition_id=condition_id, checked_by=by, checked_at=now, note=note
    )
    session.add(check)
    timeline.record(
        session,
        incident_id,
        kind="condition_checked",
        actor=by,
        at=now,
        summary=f"Confirmed: {localized(cond.text, 'en')}",
        condition_id=condition_id,
        note=note,
    )
    session.flush()
    return check
