"""The policy's resolution conditions for an incident: which are met, and confirming them."""

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
