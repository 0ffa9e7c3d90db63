"""Incident roles (the policy's, seed 001's six by default): assign, hand over, step down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.errors import HaetaeError
from haetae.incidents import service
from haetae.incidents.models import RoleAssignment
from haetae.policy import lookup
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.timeline import service as timeline


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
    """Assign a role (by id or display name); if someone holds it, this is a hand-over and
    their assignment ends."""
    role = role_id(policy, role)
    incident = service.get_incident(session, incident_id, for_update=True)
    service.require_open(incident)
    holder = _holder(session, incident_id, role)
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


def role_id(policy: Policy, given: str) -> str:
    """The policy's id for a role given by its id or its display name (any language, case)."""
    return lookup.resolve(policy.roles, given, what="role", code="UNKNOWN_ROLE", field="role")


def _holder(session: Session, incident_id: str, role: str) -> RoleAssignment | None:
    """The current assignment of a role, if anyone holds it."""
    return session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == incident_id,
            RoleAssignment.role == role,
            RoleAssignment.ended_at.is_(None),
        )
    ).one_or_none()


def unassign_role(
    session: Session,
    incident_id: str,
    *,
    role: str,
    actor: str,
    now: datetime,
    policy: Policy | None = None,
) -> None:
    """End the role's assignment. With the policy, the role may be given by display name;
    without it (the console's step-down, which posts the id), it must be the id."""
    if policy is not None:
        role = role_id(policy, role)
    incident = service.get_incident(session, incident_id, for_update=True)
    service.require_open(incident)
    holder = _holder(session, incident_id, role)
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
