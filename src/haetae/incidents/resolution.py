"""The policy's resolution conditions for an incident: which are met, confirming them, and the
gate a resolve passes (every condition met, or the IC overriding with a reason)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.incidents import roles, service
from haetae.incidents.models import ConditionCheck, Incident, StatusUpdate
from haetae.incidents.schemas import ConditionOut
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.timeline import service as timeline


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
    holders = roles.current_roles(session, incident.id)
    has_update = session.scalar(
        select(func.count())
        .select_from(StatusUpdate)
        .where(StatusUpdate.incident_id == incident.id)
    )
    result = []
    for cond in sev.resolution_conditions:
        check = checks.get(cond.id)
        if cond.kind == "roles_assigned":
            met = all(role in holders for role in cond.roles)
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


def unmet(session: Session, policy: Policy, incident: Incident) -> list[ConditionOut]:
    """The resolution conditions the incident does not meet yet."""
    return [c for c in conditions(session, policy, incident) if not c.met]


def gate(
    session: Session,
    policy: Policy,
    incident: Incident,
    *,
    override: bool,
    actor: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Resolving needs every condition met. Only the IC may resolve with some unmet, and
    must say why: the override is kept on the timeline, since it skips the policy's own
    checks."""
    missing = unmet(session, policy, incident)
    if not missing:
        return
    if not override:
        raise HaetaeError(
            "RESOLUTION_CONDITIONS_UNMET",
            "Resolution conditions unmet: " + "; ".join(c.text for c in missing),
            unmet=[c.model_dump(include={"id", "text", "kind"}) for c in missing],
        )
    _check_override(session, incident, actor=actor, reason=reason)
    timeline.record(
        session,
        incident.id,
        kind="resolution_override",
        actor=actor,
        at=now,
        summary=f"Resolved with unmet conditions: {reason}",
        unmet=[c.id for c in missing],
        reason=reason,
    )


def _check_override(
    session: Session, incident: Incident, *, actor: str, reason: str | None
) -> None:
    ic = roles.current_roles(session, incident.id).get("ic")
    if ic != actor:
        raise HaetaeError(
            "FORBIDDEN",
            "Only the incident's IC can resolve with unmet conditions"
            + (f" (the IC is {ic})." if ic else "; no IC is assigned."),
        )
    if not reason:
        raise HaetaeError("VALIDATION_ERROR", "An override needs a reason.", field="reason")


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
    incident = service.get_incident(session, incident_id, for_update=True)
    service.require_open(incident)
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
